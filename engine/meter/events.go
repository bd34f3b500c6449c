package meter

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/canscope/canscope/engine/leb128"
	"github.com/canscope/canscope/engine/wasm"
)

// Event recording for traced runs. A traced run must see every call and
// return of the canister's functions with their values and instruction
// counts. wazero's function listeners deliver them, but force its slow
// call path and a call into Go per event (6.6x a plain run on a
// call-heavy upgrade). Instead InstrumentEvents adds a few instructions
// at the entry and at every exit of each function: while a countdown
// global (EventSkipEnter, EventSkipExit) is zero they append a record to
// a ring (the memory of a small wasm module of its own, EventRing: the
// canister's memory is the canister's) through imported functions that
// are wasm too, and the host hears from the ring only when it is full or
// at an event it asked to stop at; otherwise they only decrement it. A
// recording can so record a prefix of a long run in full and count the
// rest at the cost of a global decrement per event: the events it counts
// are the same ones, so an event index means the same event whichever
// way it was reached.
//
// The added code runs no metering code: what it adds is free, and the
// instruction counts are those of the module without it. It adds no
// call frames either (a wrapper function per function would double a
// deep recursion's frames).

// Names of the event ring's interface.
const (
	// EventModule is the import module of the ring's functions.
	EventModule = "__trace"
	// EventValue appends one i64 word to the ring: a value of the event
	// that follows.
	EventValue = "value"
	// EventRecord appends an event (code, counter) after its values and
	// calls the host's EventFlush when the ring is full or the host's
	// countdown (EventLeft) reaches zero. EventRecord1 and EventRecord2
	// take an event's one or two value words first (one call instead of
	// two or three: most events have no more).
	EventRecord  = "event"
	EventRecord1 = "event1"
	EventRecord2 = "event2"
	// EventReserve (bytes) drains the ring first if a record of that
	// many bytes would not fit, before an event whose values go to the
	// ring one by one.
	EventReserve = "reserve"
	// EventHostModule is the import module of the host function the ring
	// calls.
	EventHostModule = "__trace_host"
	// EventFlush is the host function that drains the ring.
	EventFlush = "flush"
	// EventMemory, EventPos and EventLeft are the ring's exports: its
	// memory, the byte offset where the next record goes, and the records
	// left before the ring calls the host regardless of space.
	EventMemory = "ring"
	EventPos    = "pos"
	EventLeft   = "left"
	// EventSkipEnter, EventSkipExit and EventSkipGrow are globals the
	// instrumented module exports: how many more function entries,
	// exits and grows it counts down instead of recording (0: record
	// each). Counted apart, entries minus exits is the call depth.
	EventSkipEnter = "__trace_skip_enter"
	EventSkipExit  = "__trace_skip_exit"
	EventSkipGrow  = "__trace_skip_grow"
	// EventPages is the heap size in pages last seen, a global the
	// instrumented module exports (the host sets it when an execution
	// begins).
	EventPages = "__trace_pages"
)

// Event kinds: the low two bits of a record's code. The rest of the code
// is the function index in the original module (enter, exit) or zero.
const (
	EventEnter = 0 // values: the parameters
	EventExit  = 1 // values: the results
	// EventGrow is a memory.grow that changed the heap size; values: the
	// new size and the old one in pages.
	EventGrow = 2
)

// ringBytes is the ring's size before it is drained: about 10,000 events
// of a call-heavy run, so that a drain costs little per event, and small
// because every traced canister allocates it (a recording counts most of
// a long run's events without the ring). ringSlack is the room behind it
// for the largest record (a function of 1,000 v128 parameters takes 2,002
// words).
const (
	ringBytes = 1 << 18
	ringSlack = 1 << 16
)

// ValueWords returns how many ring words a value of type t takes: two for
// v128, one for the others (references are recorded as 0).
func ValueWords(t wasm.ValueType) int {
	if t == wasm.V128 {
		return 2
	}
	return 1
}

// EventsLayout says which functions of an instrumented module
// InstrumentEvents records the calls of.
type EventsLayout struct {
	// First is the index (in the instrumented module) of the first
	// function to record and N how many follow it: the module's own
	// functions, not the ones the rewrites added.
	First, N uint32
	// Original is the original module's index of function First: codes
	// carry original indices.
	Original uint32
	// Counter is the instruction counter global (Info.CounterIndex).
	Counter uint32
}

// InstrumentEvents returns a copy of the instrumented module m in which
// every function of l records its entry (parameters) and exit (results)
// in the event ring, and every memory.grow that changes the heap size
// records a grow, each unless its countdown global (EventSkipEnter,
// EventSkipExit, EventSkipGrow) counts it down instead. The ring's five
// functions are imported after m's imports, so
// m's own functions move up by five; function names stay with their
// functions, and a function without a name is named "$N" with N its
// index in m, as wazero names it in m, so that stack traces read the
// same. One function (the grow check) is added at the end, without a
// name, and the globals EventSkipEnter, EventSkipExit, EventSkipGrow and
// EventPages after m's, exported.
//
// A function's body is wrapped in a block so that return and branches to
// the function's end reach the exit record; return_call and
// return_call_indirect become a call and a return, so that the caller's
// exit is recorded after its callee's (a tail call so recorded takes a
// frame, as a wrapper's call would). A trap records nothing: the host
// hears of it when the execution fails.
func InstrumentEvents(m *wasm.Module, l EventsLayout) (*wasm.Module, error) {
	out, err := wasm.Parse(m.Encode())
	if err != nil {
		return nil, fmt.Errorf("instrument events: %w", err)
	}
	nImp := uint32(out.NumImportedFuncs())
	if l.First < nImp || l.First+l.N > nImp+uint32(len(out.Functions)) {
		return nil, fmt.Errorf("instrument events: functions %d to %d are not defined by the module", l.First, l.First+l.N)
	}
	for _, name := range []string{EventSkipEnter, EventSkipExit, EventSkipGrow, EventPages} {
		if _, ok := out.Export(name); ok {
			return nil, fmt.Errorf("instrument events: the module already exports %q", name)
		}
	}
	const added = 5
	shift := func(i uint32) uint32 {
		if i < nImp {
			return i
		}
		return i + added
	}
	i64s := func(n int) wasm.FuncType { return wasm.FuncType{Params: slices.Repeat([]wasm.ValueType{wasm.I64}, n)} }
	valType := out.AddType(i64s(1))
	evType, ev1Type, ev2Type := out.AddType(i64s(2)), out.AddType(i64s(3)), out.AddType(i64s(4))
	imports := append(slices.Clone(out.Imports),
		wasm.Import{Module: EventModule, Name: EventValue, Kind: wasm.KindFunc, TypeIndex: valType},
		wasm.Import{Module: EventModule, Name: EventReserve, Kind: wasm.KindFunc, TypeIndex: valType},
		wasm.Import{Module: EventModule, Name: EventRecord, Kind: wasm.KindFunc, TypeIndex: evType},
		wasm.Import{Module: EventModule, Name: EventRecord1, Kind: wasm.KindFunc, TypeIndex: ev1Type},
		wasm.Import{Module: EventModule, Name: EventRecord2, Kind: wasm.KindFunc, TypeIndex: ev2Type})

	_, hasMem := out.Memory()
	globals := slices.Clone(out.Globals)
	for i := range globals {
		if globals[i].Init, err = shiftExpr(globals[i].Init, shift); err != nil {
			return nil, fmt.Errorf("instrument events: global %d: %w", i, err)
		}
	}
	nGlobals := uint32(out.NumImportedGlobals() + len(globals))
	zero := []byte{byte(wasm.OpI64Const), 0x00, byte(wasm.OpEnd)}
	for range 4 { // the three countdowns and the heap size
		globals = append(globals, wasm.Global{Type: wasm.GlobalType{Type: wasm.I64, Mutable: true}, Init: slices.Clone(zero)})
	}
	if err := out.SetGlobals(globals); err != nil {
		return nil, fmt.Errorf("instrument events: %w", err)
	}
	if err := out.SetImports(imports); err != nil {
		return nil, fmt.Errorf("instrument events: %w", err)
	}
	nDefined := uint32(len(out.Functions))
	e := eventCode{
		ring:    ringFuncs{value: nImp, reserve: nImp + 1, event: [3]uint32{nImp + 2, nImp + 3, nImp + 4}},
		counter: l.Counter, skipEnter: nGlobals, skipExit: nGlobals + 1, skipGrow: nGlobals + 2, pages: nGlobals + 3,
		grown: nImp + added + nDefined, mem64: out.IsMemory64(),
	}

	code := make([]wasm.Code, nDefined, nDefined+1)
	for i, c := range out.Code {
		body, err := wasm.DecodeBody(c.Body)
		if err != nil {
			return nil, fmt.Errorf("instrument events: function %d: %w", nImp+uint32(i), err)
		}
		shiftCalls(body.Instrs, shift)
		if hasMem {
			body.Instrs = e.afterGrows(body.Instrs)
		}
		if k := uint32(i) + nImp; k >= l.First && k < l.First+l.N {
			t := out.Types[out.Functions[i]]
			orig := l.Original + k - l.First
			for _, vs := range [][]wasm.ValueType{t.Params, t.Results} {
				words := 0
				for _, vt := range vs {
					words += ValueWords(vt)
				}
				if 8*(words+2) > ringBytes {
					return nil, fmt.Errorf("instrument events: function %d has %d values, more than a trace records", orig, len(vs))
				}
			}
			var bt wasm.BlockType
			switch len(t.Results) {
			case 0:
				bt = wasm.BlockEmpty
			case 1:
				bt = wasm.ValueBlock(t.Results[0])
			default:
				bt = wasm.BlockType(out.AddType(wasm.FuncType{Results: t.Results}))
			}
			e.instrument(body, t, orig, bt)
		}
		code[i] = wasm.Code{Body: body.Encode()}
	}
	funcs := append(slices.Clone(out.Functions), out.AddType(wasm.FuncType{}))
	code = append(code, wasm.Code{Body: e.grownBody(hasMem).Encode()})
	out.SetFunctions(funcs)
	out.SetCode(code)

	if err := shiftElements(out, shift); err != nil {
		return nil, fmt.Errorf("instrument events: %w", err)
	}
	out.SetExports(append(shiftExports(out.Exports, shift),
		wasm.Export{Name: EventSkipEnter, Kind: wasm.KindGlobal, Index: e.skipEnter},
		wasm.Export{Name: EventSkipExit, Kind: wasm.KindGlobal, Index: e.skipExit},
		wasm.Export{Name: EventSkipGrow, Kind: wasm.KindGlobal, Index: e.skipGrow},
		wasm.Export{Name: EventPages, Kind: wasm.KindGlobal, Index: e.pages}))
	if out.Start != nil {
		s := shift(*out.Start)
		out.SetStart(&s)
	}
	out.SetCustom("name", eventNames(m, nImp, l, shift))
	return out, nil
}

// eventNames is the name section of the rewritten module: function names
// only, each at its function's new index, "$N" for a recorded function
// without one (N: its index in m).
func eventNames(m *wasm.Module, nImp uint32, l EventsLayout, shift func(uint32) uint32) []byte {
	total := nImp + uint32(len(m.Functions))
	var names []byte
	n := 0
	for i := range total {
		name := m.FuncName(i)
		if name == "" && i >= l.First && i < l.First+l.N {
			name = "$" + strconv.FormatUint(uint64(i), 10)
		}
		if name == "" {
			continue
		}
		names = binary.AppendUvarint(names, uint64(shift(i)))
		names = binary.AppendUvarint(names, uint64(len(name)))
		names = append(names, name...)
		n++
	}
	sub := binary.AppendUvarint(nil, uint64(n))
	sub = append(sub, names...)
	out := []byte{1} // the function names subsection
	out = binary.AppendUvarint(out, uint64(len(sub)))
	return append(out, sub...)
}

// ringFuncs are the ring's functions as the rewritten module imports
// them: value, reserve, and event with 0, 1 or 2 value words.
type ringFuncs struct {
	value, reserve uint32
	event          [3]uint32
}

// eventCode builds the recording code of a rewritten module: its ring
// functions, the globals it reads, and the grow check.
type eventCode struct {
	ring                          ringFuncs
	counter, pages                uint32
	skipEnter, skipExit, skipGrow uint32
	grown                         uint32
	mem64                         bool
}

// afterGrows calls the grow check after every memory.grow of ins.
func (e eventCode) afterGrows(ins []wasm.Instr) []wasm.Instr {
	if !slices.ContainsFunc(ins, func(in wasm.Instr) bool { return in.Op == wasm.OpMemoryGrow }) {
		return ins
	}
	out := make([]wasm.Instr, 0, len(ins)+4)
	for _, in := range ins {
		out = append(out, in)
		if in.Op == wasm.OpMemoryGrow {
			out = append(out, wasm.Instr{Op: wasm.OpCall, Index: e.grown})
		}
	}
	return out
}

// asm appends instructions.
type asm struct{ ins []wasm.Instr }

func (a *asm) op(o wasm.Opcode)            { a.ins = append(a.ins, wasm.Instr{Op: o}) }
func (a *asm) idx(o wasm.Opcode, i uint32) { a.ins = append(a.ins, wasm.Instr{Op: o, Index: i}) }
func (a *asm) i64(v int64)                 { a.ins = append(a.ins, wasm.Instr{Op: wasm.OpI64Const, Value: v}) }
func (a *asm) block(o wasm.Opcode, t wasm.BlockType) {
	a.ins = append(a.ins, wasm.Instr{Op: o, Block: t})
}

// heapPages pushes the heap size in pages as an i64.
func (e eventCode) heapPages(a *asm) {
	a.idx(wasm.OpMemorySize, 0)
	if !e.mem64 {
		a.op(wasm.OpI64ExtendI32U)
	}
}

// unlessSkipped runs record when the countdown global skip is zero and
// counts the event down otherwise: the one check every event pays.
func (e eventCode) unlessSkipped(a *asm, skip uint32, record func()) {
	a.idx(wasm.OpGlobalGet, skip)
	a.op(opI64Eqz)
	a.block(wasm.OpIf, wasm.BlockEmpty)
	record()
	a.op(wasm.OpElse)
	a.idx(wasm.OpGlobalGet, skip)
	a.i64(1)
	a.op(wasm.OpI64Sub)
	a.idx(wasm.OpGlobalSet, skip)
	a.op(wasm.OpEnd)
}

// values records an event of the values in locals first.. (types ts):
// up to two words with the event itself, more one by one before it.
func (e eventCode) values(a *asm, code uint64, first uint32, ts []wasm.ValueType) {
	n := 0
	for _, vt := range ts {
		n += ValueWords(vt)
	}
	each := func() {}
	if n > 2 {
		// The ring makes room for the values first.
		a.i64(int64(8 * (n + 2)))
		a.idx(wasm.OpCall, e.ring.reserve)
		each = func() { a.idx(wasm.OpCall, e.ring.value) }
	}
	for i, vt := range ts {
		local := first + uint32(i)
		switch vt {
		case wasm.I32:
			a.idx(wasm.OpLocalGet, local)
			a.op(wasm.OpI64ExtendI32U)
		case wasm.I64:
			a.idx(wasm.OpLocalGet, local)
		case wasm.F32:
			a.idx(wasm.OpLocalGet, local)
			a.op(opI32ReinterpretF32)
			a.op(wasm.OpI64ExtendI32U)
		case wasm.F64:
			a.idx(wasm.OpLocalGet, local)
			a.op(opI64ReinterpretF64)
		case wasm.V128:
			a.idx(wasm.OpLocalGet, local)
			a.idx(opI64x2ExtractLane, 0)
			each()
			a.idx(wasm.OpLocalGet, local)
			a.idx(opI64x2ExtractLane, 1)
		default: // references
			a.i64(0)
		}
		each()
	}
	if n > 2 {
		n = 0
	}
	a.i64(int64(code))
	a.idx(wasm.OpGlobalGet, e.counter)
	a.idx(wasm.OpCall, e.ring.event[n])
}

// instrument rewrites body, of a function of type t (original index
// orig, results of block type bt), to record its entry and exits.
func (e eventCode) instrument(body *wasm.Body, t wasm.FuncType, orig uint32, bt wasm.BlockType) {
	np := uint32(len(t.Params))
	// The results go to new locals for recording.
	res := np
	for _, d := range body.Locals {
		res += d.Count
	}
	locals := slices.Clone(body.Locals)
	for _, vt := range t.Results {
		locals = append(locals, wasm.LocalDecl{Count: 1, Type: vt})
	}
	a := &asm{ins: make([]wasm.Instr, 0, len(body.Instrs)+32)}
	e.unlessSkipped(a, e.skipEnter, func() { e.values(a, uint64(orig)<<2|EventEnter, 0, t.Params) })
	a.block(wasm.OpBlock, bt)
	depth := uint32(0) // blocks open inside the body
	inner := body.Instrs[:len(body.Instrs)-1]
	for _, in := range inner {
		switch in.Op {
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
			depth++
		case wasm.OpEnd:
			depth--
		case wasm.OpReturn:
			a.idx(wasm.OpBr, depth)
			continue
		case wasm.OpReturnCall:
			a.idx(wasm.OpCall, in.Index)
			a.idx(wasm.OpBr, depth)
			continue
		case wasm.OpReturnCallIndirect:
			a.ins = append(a.ins, wasm.Instr{Op: wasm.OpCallIndirect, Index: in.Index, Index2: in.Index2})
			a.idx(wasm.OpBr, depth)
			continue
		}
		a.ins = append(a.ins, in)
	}
	a.op(wasm.OpEnd)
	for k := len(t.Results) - 1; k >= 0; k-- {
		a.idx(wasm.OpLocalSet, res+uint32(k))
	}
	e.unlessSkipped(a, e.skipExit, func() { e.values(a, uint64(orig)<<2|EventExit, res, t.Results) })
	for k := range t.Results {
		a.idx(wasm.OpLocalGet, res+uint32(k))
	}
	a.op(wasm.OpEnd)
	body.Locals, body.Instrs = locals, a.ins
}

// grownBody is the grow check called after every memory.grow: when the
// heap size differs from the last one seen it records a grow (new size,
// old size) or counts it down, and notes the size.
func (e eventCode) grownBody(hasMem bool) *wasm.Body {
	a := &asm{}
	if hasMem {
		e.heapPages(a)
		a.idx(wasm.OpGlobalGet, e.pages)
		a.op(opI64Ne)
		a.block(wasm.OpIf, wasm.BlockEmpty)
		e.unlessSkipped(a, e.skipGrow, func() {
			e.heapPages(a)
			a.idx(wasm.OpGlobalGet, e.pages)
			a.i64(EventGrow)
			a.idx(wasm.OpGlobalGet, e.counter)
			a.idx(wasm.OpCall, e.ring.event[2])
		})
		e.heapPages(a)
		a.idx(wasm.OpGlobalSet, e.pages)
		a.op(wasm.OpEnd)
	}
	a.op(wasm.OpEnd)
	return &wasm.Body{Instrs: a.ins}
}

// Opcodes the recording code and the ring use that the wasm package
// does not name.
const (
	opI64Ne             wasm.Opcode = 0x52
	opI64GtU            wasm.Opcode = 0x56
	opI32GeU            wasm.Opcode = 0x4f
	opI32Or             wasm.Opcode = 0x72
	opI64Eqz            wasm.Opcode = 0x50
	opI32ReinterpretF32 wasm.Opcode = 0xbc
	opI64ReinterpretF64 wasm.Opcode = 0xbd
	opI64x2ExtractLane  wasm.Opcode = 0xfd<<16 | 29
)

// EventRing returns the ring module: a memory of ringBytes plus slack,
// the globals pos and left, and the functions value, reserve and event
// with 0, 1 or 2 value words. The event functions take the value words,
// the code and the counter value. Each record calls the host's flush
// when pos passed ringBytes or left reached zero; the host reads the
// words below pos, sets pos back to 0 and left to the records until the
// next one it wants to see as it happens.
func EventRing() []byte {
	const pages = (ringBytes + ringSlack) / (1 << 16)
	const (
		gPos  = 0
		gLeft = 1
	)
	b := append([]byte{}, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)
	section := func(id byte, payload []byte) {
		b = append(b, id)
		b = binary.AppendUvarint(b, uint64(len(payload)))
		b = append(b, payload...)
	}
	str := func(p []byte, s string) []byte {
		p = binary.AppendUvarint(p, uint64(len(s)))
		return append(p, s...)
	}
	// Types: 0 () -> (), then type n taking n i64s for n = 1 to 4.
	types := []byte{5, 0x60, 0, 0}
	for n := 1; n <= 4; n++ {
		types = append(types, 0x60, byte(n))
		for range n {
			types = append(types, byte(wasm.I64))
		}
		types = append(types, 0)
	}
	section(1, types)
	imp := []byte{1}
	imp = str(imp, EventHostModule)
	imp = str(imp, EventFlush)
	section(2, append(imp, 0x00, 0))     // func of type 0
	section(3, []byte{5, 1, 1, 2, 3, 4}) // value, reserve, event, event1, event2
	section(5, []byte{1, 0x00, pages})
	glob := []byte{2,
		byte(wasm.I32), 1, byte(wasm.OpI32Const), 0, byte(wasm.OpEnd)}
	glob = append(glob, byte(wasm.I64), 1, byte(wasm.OpI64Const))
	glob = leb128.AppendInt(glob, math.MaxInt64)
	glob = append(glob, byte(wasm.OpEnd))
	section(6, glob)
	exp := []byte{8}
	exp = append(str(exp, EventValue), 0x00, 1)
	exp = append(str(exp, EventReserve), 0x00, 2)
	exp = append(str(exp, EventRecord), 0x00, 3)
	exp = append(str(exp, EventRecord1), 0x00, 4)
	exp = append(str(exp, EventRecord2), 0x00, 5)
	exp = append(str(exp, EventMemory), 0x02, 0)
	exp = append(str(exp, EventPos), 0x03, gPos)
	exp = append(str(exp, EventLeft), 0x03, gLeft)
	section(7, exp)

	storeAt := func(off uint64, value ...wasm.Instr) []wasm.Instr {
		return append(append([]wasm.Instr{{Op: wasm.OpGlobalGet, Index: gPos}}, value...),
			wasm.Instr{Op: wasm.OpI64Store, Mem: wasm.MemArg{Align: 3, Offset: off}})
	}
	local := func(i uint32) wasm.Instr { return wasm.Instr{Op: wasm.OpLocalGet, Index: i} }
	advance := func(n int64) []wasm.Instr {
		return []wasm.Instr{
			{Op: wasm.OpGlobalGet, Index: gPos},
			{Op: wasm.OpI32Const, Value: n},
			{Op: wasm.OpI32Add},
			{Op: wasm.OpGlobalSet, Index: gPos},
		}
	}
	// done counts a record and calls the host when due.
	done := []wasm.Instr{
		{Op: wasm.OpGlobalGet, Index: gLeft},
		{Op: wasm.OpI64Const, Value: 1},
		{Op: wasm.OpI64Sub},
		{Op: wasm.OpGlobalSet, Index: gLeft},
		{Op: wasm.OpGlobalGet, Index: gLeft},
		{Op: opI64Eqz},
		{Op: wasm.OpGlobalGet, Index: gPos},
		{Op: wasm.OpI32Const, Value: ringBytes},
		{Op: opI32GeU},
		{Op: opI32Or},
		{Op: wasm.OpIf, Block: wasm.BlockEmpty},
		{Op: wasm.OpCall, Index: 0},
		{Op: wasm.OpEnd},
	}
	end := wasm.Instr{Op: wasm.OpEnd}
	value := &wasm.Body{Instrs: slices.Concat(storeAt(0, local(0)), advance(8), []wasm.Instr{end})}
	reserve := &wasm.Body{Instrs: []wasm.Instr{
		// Drain the ring first if the record of local 0 bytes would not
		// fit: its values are written one by one, without checks.
		{Op: wasm.OpGlobalGet, Index: gPos},
		{Op: wasm.OpI64ExtendI32U},
		{Op: wasm.OpLocalGet, Index: 0},
		{Op: wasm.OpI64Add},
		{Op: wasm.OpI64Const, Value: ringBytes},
		{Op: opI64GtU},
		{Op: wasm.OpIf, Block: wasm.BlockEmpty},
		{Op: wasm.OpCall, Index: 0},
		{Op: wasm.OpEnd},
		end,
	}}
	// event takes n value words, then the code and the counter value.
	event := func(n uint32) *wasm.Body {
		var ins []wasm.Instr
		for i := range n + 2 {
			ins = append(ins, storeAt(8*uint64(i), local(i))...)
		}
		ins = append(ins, advance(8*int64(n+2))...)
		ins = append(ins, done...)
		return &wasm.Body{Instrs: append(ins, end)}
	}
	cs := []byte{5}
	for _, body := range []*wasm.Body{value, reserve, event(0), event(1), event(2)} {
		e := body.Encode()
		cs = binary.AppendUvarint(cs, uint64(len(e)))
		cs = append(cs, e...)
	}
	section(10, cs)
	return b
}
