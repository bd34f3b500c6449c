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
// call-heavy upgrade). Instead InstrumentEvents wraps every function of
// an instrumented module so that its entry and exit append a record to a
// ring: the memory of a small wasm module of its own (EventRing, the
// canister's memory is the canister's), through two imported functions
// that are wasm too, so recording is a few stores and the host hears
// from the ring only when it is full or at an event it asked to stop at.
//
// The wrappers run no metering code: what they add is free, and the
// instruction counts are those of the module without them.

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
	// EventHeap (counter, heap size) records a grow if the heap size
	// changed, before an event whose values go to the ring one by one.
	EventHeap = "heap"
	// EventHostModule is the import module of the host function the ring
	// calls.
	EventHostModule = "__trace_host"
	// EventFlush is the host function that drains the ring.
	EventFlush = "flush"
	// EventMemory, EventPos and EventLeft are the ring's exports: its
	// memory, the byte offset where the next record goes, and the events
	// left before the ring calls the host regardless of space.
	EventMemory = "ring"
	EventPos    = "pos"
	EventLeft   = "left"
)

// Event kinds: the low two bits of a record's code. The rest of the code
// is the function index in the original module (enter, exit) or zero.
const (
	EventEnter = 0 // values: the parameters
	EventExit  = 1 // values: the results
	EventGrow  = 2 // one value: the heap size in pages, which changed
)

// ringBytes is the ring's size before it is drained: about 40,000 events
// of a call-heavy run. ringSlack is the room behind it for the largest
// record (a function of 1,000 v128 parameters takes 2,002 words).
const (
	ringBytes = 1 << 20
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
// InstrumentEvents wraps.
type EventsLayout struct {
	// First is the index (in the instrumented module) of the first
	// function to wrap and N how many follow it: the module's own
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
// in the event ring, and a change of the heap size before either. The
// ring's five functions are imported after m's imports, so m's own
// functions move up by five; function names stay where the functions are,
// and a function without a name is named "$N" with N its index in m, as
// wazero names it in m, so that stack traces read the same. The wrapped
// bodies move to new functions at the end, without names.
func InstrumentEvents(m *wasm.Module, l EventsLayout) (*wasm.Module, error) {
	out, err := wasm.Parse(m.Encode())
	if err != nil {
		return nil, fmt.Errorf("instrument events: %w", err)
	}
	nImp := uint32(out.NumImportedFuncs())
	if l.First < nImp || l.First+l.N > nImp+uint32(len(out.Functions)) {
		return nil, fmt.Errorf("instrument events: functions %d to %d are not defined by the module", l.First, l.First+l.N)
	}
	const added = 5
	shift := func(i uint32) uint32 {
		if i < nImp {
			return i
		}
		return i + added
	}
	valType := out.AddType(wasm.FuncType{Params: []wasm.ValueType{wasm.I64}})
	i64s := func(n int) wasm.FuncType { return wasm.FuncType{Params: slices.Repeat([]wasm.ValueType{wasm.I64}, n)} }
	evType, ev1Type, ev2Type := out.AddType(i64s(3)), out.AddType(i64s(4)), out.AddType(i64s(5))
	heapType := out.AddType(i64s(3))
	imports := append(slices.Clone(out.Imports),
		wasm.Import{Module: EventModule, Name: EventValue, Kind: wasm.KindFunc, TypeIndex: valType},
		wasm.Import{Module: EventModule, Name: EventHeap, Kind: wasm.KindFunc, TypeIndex: heapType},
		wasm.Import{Module: EventModule, Name: EventRecord, Kind: wasm.KindFunc, TypeIndex: evType},
		wasm.Import{Module: EventModule, Name: EventRecord1, Kind: wasm.KindFunc, TypeIndex: ev1Type},
		wasm.Import{Module: EventModule, Name: EventRecord2, Kind: wasm.KindFunc, TypeIndex: ev2Type})
	ring := ringFuncs{value: nImp, heap: nImp + 1, event: [3]uint32{nImp + 2, nImp + 3, nImp + 4}}

	_, hasMem := out.Memory()
	mem64 := out.IsMemory64()
	globals := slices.Clone(out.Globals)
	for i := range globals {
		if globals[i].Init, err = shiftExpr(globals[i].Init, shift); err != nil {
			return nil, fmt.Errorf("instrument events: global %d: %w", i, err)
		}
	}
	if err := out.SetGlobals(globals); err != nil {
		return nil, fmt.Errorf("instrument events: %w", err)
	}
	if err := out.SetImports(imports); err != nil {
		return nil, fmt.Errorf("instrument events: %w", err)
	}

	nDefined := uint32(len(out.Functions))
	code := make([]wasm.Code, nDefined, nDefined+l.N)
	funcs := slices.Clone(out.Functions)
	for i, c := range out.Code {
		body, err := wasm.DecodeBody(c.Body)
		if err != nil {
			return nil, fmt.Errorf("instrument events: function %d: %w", nImp+uint32(i), err)
		}
		shiftCalls(body.Instrs, shift)
		code[i] = wasm.Code{Body: body.Encode()}
	}
	for k := range l.N {
		i := l.First - nImp + k // defined index
		t := out.Types[out.Functions[i]]
		for _, vs := range [][]wasm.ValueType{t.Params, t.Results} {
			words := 0
			for _, vt := range vs {
				words += ValueWords(vt)
			}
			if 8*(words+2) > ringBytes {
				return nil, fmt.Errorf("instrument events: function %d has %d values, more than a trace records", l.Original+k, len(vs))
			}
		}
		inner := nImp + added + nDefined + k
		funcs = append(funcs, out.Functions[i])
		code = append(code, code[i])
		w := wrapper(t, l.Original+k, inner, ring, l.Counter, hasMem, mem64)
		code[i] = wasm.Code{Body: w.Encode()}
	}
	out.SetFunctions(funcs)
	out.SetCode(code)

	if err := shiftElements(out, shift); err != nil {
		return nil, fmt.Errorf("instrument events: %w", err)
	}
	out.SetExports(shiftExports(out.Exports, shift))
	if out.Start != nil {
		s := shift(*out.Start)
		out.SetStart(&s)
	}
	out.SetCustom("name", eventNames(m, nImp, l, shift))
	return out, nil
}

// eventNames is the name section of the rewritten module: function names
// only, each at its function's new index, "$N" for a wrapped function
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
// them: value, and event with 0, 1 or 2 value words.
type ringFuncs struct {
	value, heap uint32
	event       [3]uint32
}

// wrapper is the body of a function of type t that records its entry,
// calls inner with its parameters, records its exit and returns inner's
// results.
func wrapper(t wasm.FuncType, orig, inner uint32, ring ringFuncs, counter uint32, hasMem, mem64 bool) *wasm.Body {
	np := uint32(len(t.Params))
	var ins []wasm.Instr
	op := func(o wasm.Opcode) { ins = append(ins, wasm.Instr{Op: o}) }
	idx := func(o wasm.Opcode, i uint32) { ins = append(ins, wasm.Instr{Op: o, Index: i}) }
	i64 := func(v int64) { ins = append(ins, wasm.Instr{Op: wasm.OpI64Const, Value: v}) }
	// record pushes code, the counter and the heap size and calls the
	// event function taking the n value words already on the stack.
	heapSize := func() {
		switch {
		case !hasMem:
			i64(0)
		case mem64:
			idx(wasm.OpMemorySize, 0)
		default:
			idx(wasm.OpMemorySize, 0)
			op(wasm.OpI64ExtendI32U)
		}
	}
	record := func(code uint64, n int) {
		i64(int64(code))
		idx(wasm.OpGlobalGet, counter)
		heapSize()
		idx(wasm.OpCall, ring.event[n])
	}
	// push pushes the value words of a local, calling each after every
	// word.
	push := func(local uint32, vt wasm.ValueType, each func()) {
		switch vt {
		case wasm.I32:
			idx(wasm.OpLocalGet, local)
			op(wasm.OpI64ExtendI32U)
		case wasm.I64:
			idx(wasm.OpLocalGet, local)
		case wasm.F32:
			idx(wasm.OpLocalGet, local)
			op(opI32ReinterpretF32)
			op(wasm.OpI64ExtendI32U)
		case wasm.F64:
			idx(wasm.OpLocalGet, local)
			op(opI64ReinterpretF64)
		case wasm.V128:
			idx(wasm.OpLocalGet, local)
			idx(opI64x2ExtractLane, 0)
			each()
			idx(wasm.OpLocalGet, local)
			idx(opI64x2ExtractLane, 1)
		default: // references
			i64(0)
		}
		each()
	}
	// values records an event of the values in locals first.. (types ts):
	// up to two words with the event itself, more one by one before it.
	values := func(code uint64, first uint32, ts []wasm.ValueType) {
		n := 0
		for _, vt := range ts {
			n += ValueWords(vt)
		}
		each := func() {}
		if n > 2 {
			// A grow goes before the values, and the ring makes room
			// for them.
			idx(wasm.OpGlobalGet, counter)
			heapSize()
			i64(int64(8 * (n + 2)))
			idx(wasm.OpCall, ring.heap)
			each = func() { idx(wasm.OpCall, ring.value) }
		}
		for i, vt := range ts {
			push(first+uint32(i), vt, each)
		}
		if n > 2 {
			n = 0
		}
		record(code, n)
	}

	values(uint64(orig)<<2|EventEnter, 0, t.Params)
	for i := range np {
		idx(wasm.OpLocalGet, i)
	}
	idx(wasm.OpCall, inner)
	// The results, last on top, go to locals np.. for recording.
	var locals []wasm.LocalDecl
	for _, vt := range t.Results {
		locals = append(locals, wasm.LocalDecl{Count: 1, Type: vt})
	}
	for k := len(t.Results) - 1; k >= 0; k-- {
		idx(wasm.OpLocalSet, np+uint32(k))
	}
	values(uint64(orig)<<2|EventExit, np, t.Results)
	for k := range t.Results {
		idx(wasm.OpLocalGet, np+uint32(k))
	}
	op(wasm.OpEnd)
	return &wasm.Body{Locals: locals, Instrs: ins}
}

// Opcodes the wrappers and the ring use that the wasm package does not
// name.
const (
	opI32Ne             wasm.Opcode = 0x47
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
// the globals pos, left and the heap size last seen, and the functions
// value, heap and event with 0, 1 or 2 value words. The event functions
// take the value words, the code, the counter value and the heap size in
// pages; when the heap size differs from the last one they record a grow
// first (heap does only that, for events whose values precede them).
// Each record calls the host's flush when pos passed ringBytes or left
// reached zero; the host reads the words below pos, sets pos back to 0
// and left to the events until the next one it wants to stop at.
func EventRing() []byte {
	const pages = (ringBytes + ringSlack) / (1 << 16)
	const (
		gPos   = 0
		gLeft  = 1
		gPages = 2
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
	// Types: 0 () -> (), then type n taking n i64s for n = 1 to 5 (heap
	// takes 3).
	types := []byte{6, 0x60, 0, 0}
	for n := 1; n <= 5; n++ {
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
	section(3, []byte{5, 1, 3, 3, 4, 5}) // value, heap, event, event1, event2
	section(5, []byte{1, 0x00, pages})
	glob := []byte{3,
		byte(wasm.I32), 1, byte(wasm.OpI32Const), 0, byte(wasm.OpEnd)}
	glob = append(glob, byte(wasm.I64), 1, byte(wasm.OpI64Const))
	glob = leb128.AppendInt(glob, math.MaxInt64)
	glob = append(glob, byte(wasm.OpEnd))
	glob = append(glob, byte(wasm.I64), 1, byte(wasm.OpI64Const), 0, byte(wasm.OpEnd))
	section(6, glob)
	exp := []byte{8}
	exp = append(str(exp, EventValue), 0x00, 1)
	exp = append(str(exp, EventHeap), 0x00, 2)
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
	// grow records a grow when the heap size in local pages differs from
	// the last one seen; ctr is the counter value's local.
	grow := func(ctr, pages uint32) []wasm.Instr {
		ins := []wasm.Instr{
			local(pages),
			{Op: wasm.OpGlobalGet, Index: gPages},
			{Op: opI64Ne},
			{Op: wasm.OpIf, Block: wasm.BlockEmpty},
			local(pages),
			{Op: wasm.OpGlobalSet, Index: gPages},
		}
		ins = append(ins, storeAt(0, local(pages))...)
		ins = append(ins, storeAt(8, wasm.Instr{Op: wasm.OpI64Const, Value: EventGrow})...)
		ins = append(ins, storeAt(16, local(ctr))...)
		ins = append(ins, advance(24)...)
		ins = append(ins, done...)
		return append(ins, wasm.Instr{Op: wasm.OpEnd})
	}
	end := wasm.Instr{Op: wasm.OpEnd}
	value := &wasm.Body{Instrs: slices.Concat(storeAt(0, local(0)), advance(8), []wasm.Instr{end})}
	heap := &wasm.Body{Instrs: slices.Concat(grow(0, 1), []wasm.Instr{
		// Drain the ring first if the record of local 2 bytes would not
		// fit: its values are written one by one, without checks.
		{Op: wasm.OpGlobalGet, Index: gPos},
		{Op: wasm.OpI64ExtendI32U},
		{Op: wasm.OpLocalGet, Index: 2},
		{Op: wasm.OpI64Add},
		{Op: wasm.OpI64Const, Value: ringBytes},
		{Op: opI64GtU},
		{Op: wasm.OpIf, Block: wasm.BlockEmpty},
		{Op: wasm.OpCall, Index: 0},
		{Op: wasm.OpEnd},
		end,
	})}
	// event takes n value words, then the code, the counter value and the
	// heap size.
	event := func(n uint32) *wasm.Body {
		ins := grow(n+1, n+2)
		for i := range n + 2 {
			ins = append(ins, storeAt(8*uint64(i), local(i))...)
		}
		ins = append(ins, advance(8*int64(n+2))...)
		ins = append(ins, done...)
		return &wasm.Body{Instrs: append(ins, end)}
	}
	cs := []byte{5}
	for _, body := range []*wasm.Body{value, heap, event(0), event(1), event(2)} {
		e := body.Encode()
		cs = binary.AppendUvarint(cs, uint64(len(e)))
		cs = append(cs, e...)
	}
	section(10, cs)
	return b
}
