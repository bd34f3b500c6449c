package meter

import (
	"fmt"
	"math"
	"slices"

	"github.com/canscope/canscope/engine/wasm"
)

// Names the instrumented module uses to talk to its host. They are the
// replica's, so a module instrumented here looks like one the replica runs.
const (
	// CounterExport is the export name of the i64 instruction counter.
	CounterExport = "canister counter_instructions"
	// HostModule is the import module of the functions the host provides.
	HostModule = "__"
	// OutOfInstructions is the imported function (no params, no results)
	// the module calls when the counter is negative: the host grants the
	// next slice and returns, or traps at the limit.
	OutOfInstructions = "out_of_instructions"
	// StartExport is the export name the start function gets, because the
	// counter must be set before it runs.
	StartExport = "canister_start"
)

// Info describes an instrumented module to its host.
type Info struct {
	// Counter is the exported i64 counter global's name (CounterExport).
	Counter string
	// CounterIndex is the counter's index in the global index space.
	CounterIndex uint32
	// Imports lists the host functions the module now imports (module
	// HostModule); the host must provide them before instantiation.
	Imports []wasm.Import
	// FuncShift is how far the module's own function indices moved: the
	// instrumented function i+FuncShift is the original function i (the
	// name section is shifted accordingly).
	FuncShift uint32
	// HasStart reports that the module had a start section. Instrument
	// removes it and exports the function as StartExport; the host calls
	// it after setting the counter, as the replica does.
	HasStart bool
	// Instructions counts the instrumented module's instructions as the
	// replica counts them for the compilation charge (instrumentation.rs,
	// wasm_instruction_count): every instruction of every function body,
	// its final end included, and 2 per global (initializer and end).
	Instructions uint64
}

// injectionScope is where a static charge sits.
type injectionScope uint8

const (
	scopeReentrant    injectionScope = iota // function entry or loop header: charge and check
	scopeNonReentrant                       // start of an if branch: charge only
	scopeBlockEnd                           // after else, br*, end, return: charge only
)

// injection is one place where metering code goes: before instruction pos.
type injection struct {
	pos     int
	scope   injectionScope
	cost    uint64
	dynamic bool // charge the size operand on the stack at run time
	size64  bool // the size operand is an i64 (64-bit memories)
	// checkOnly marks a loop header whose charge moved to its successors
	// (see foldLoopHeaders): it only checks counter < cost.
	checkOnly bool
	// exitBrIf marks the br_if at pos that ends such a header: its taken
	// edge charges cost before branching.
	exitBrIf bool
	// endless marks the header of a loop that can only repeat: its body
	// is pure instructions and then br 0 (see markEndless).
	endless bool
}

// Instrument returns an instrumented copy of m and what its host needs to
// know; m itself is not changed. Call wasm.ExportMutableGlobals first if the
// module needs it, so the counter export comes last like on the replica.
func Instrument(m *wasm.Module) (*wasm.Module, Info, error) {
	return instrument(m, false)
}

// InstrumentChecks returns a copy of m that counts without metering, for
// unmetered runs: only function entries and loop headers decrement the
// counter (by their block's static cost) and check it, so a module in a
// long loop still returns to the host at every slice (for cancellation and
// the garbage collector) while blocks that cannot repeat cost nothing.
// Its counts are not the replica's; the host must not report them. The
// host interface (Info, the counter, out_of_instructions) is Instrument's.
func InstrumentChecks(m *wasm.Module) (*wasm.Module, Info, error) {
	return instrument(m, true)
}

func instrument(m *wasm.Module, checksOnly bool) (*wasm.Module, Info, error) {
	out, err := wasm.Parse(m.Encode())
	if err != nil {
		return nil, Info{}, fmt.Errorf("instrument: %w", err)
	}
	mem64 := out.IsMemory64()

	// The host import goes first in the function index space, as on the
	// replica, so every function index simply moves up by one (two for a
	// wasm64 module, which also imports HeapLimit: see lower64.go).
	hostImports := []wasm.Import{{Module: HostModule, Name: OutOfInstructions, Kind: wasm.KindFunc, TypeIndex: out.AddType(wasm.FuncType{})}}
	var replicaMax uint64
	var table64 []bool
	if mem64 {
		if replicaMax, err = lowerMemory(out); err != nil {
			return nil, Info{}, fmt.Errorf("instrument: %w", err)
		}
		if table64, err = lowerTables(out); err != nil {
			return nil, Info{}, fmt.Errorf("instrument: %w", err)
		}
		if err := lowerData(out); err != nil {
			return nil, Info{}, fmt.Errorf("instrument: %w", err)
		}
		hostImports = append(hostImports, wasm.Import{Module: HostModule, Name: HeapLimit, Kind: wasm.KindFunc,
			TypeIndex: out.AddType(wasm.FuncType{Params: []wasm.ValueType{wasm.I64}})})
	}
	shift := uint32(len(hostImports))
	shiftFunc := func(i uint32) uint32 { return i + shift }
	imports := append(hostImports, out.Imports...)
	if mem64 {
		lowerImports(imports[shift:])
	}
	if err := out.SetImports(imports); err != nil {
		return nil, Info{}, fmt.Errorf("instrument: %w", err)
	}
	const oooFunc = 0
	const limitFunc = 1 // wasm64 only

	counter := uint32(out.NumImportedGlobals() + len(out.Globals))
	decrFunc := uint32(out.NumImportedFuncs() + len(out.Functions)) // if needed

	code := make([]wasm.Code, len(out.Code), len(out.Code)+1)
	needDecr := false
	var instructions uint64
	for i, c := range out.Code {
		body, err := wasm.DecodeBody(c.Body)
		if err != nil {
			return nil, Info{}, fmt.Errorf("instrument function %d: %w", out.NumImportedFuncs()-int(shift)+i, err)
		}
		shiftCalls(body.Instrs, shiftFunc)
		var points []injection
		if checksOnly {
			points = checkPoints(body.Instrs, mem64)
		} else {
			points = injections(body.Instrs, mem64)
		}
		for _, p := range points {
			needDecr = needDecr || p.dynamic
		}
		body.Instrs = inject(body.Instrs, points, counter, oooFunc, decrFunc)
		// The replica counts its instrumented wasm64 module, without
		// the lowering's instructions.
		instructions += uint64(len(body.Instrs))
		if mem64 {
			nParams := len(out.Types[out.Functions[i]].Params)
			if err := lowerBody(body, nParams, limitFunc, replicaMax, table64); err != nil {
				return nil, Info{}, fmt.Errorf("instrument function %d: %w", out.NumImportedFuncs()-int(shift)+i, err)
			}
		}
		code[i] = wasm.Code{Body: body.Encode()}
	}

	funcs := slices.Clone(out.Functions)
	if needDecr {
		t := out.AddType(wasm.FuncType{Params: []wasm.ValueType{wasm.I64}, Results: []wasm.ValueType{wasm.I64}})
		funcs = append(funcs, t)
		decr := decrBody(counter, oooFunc)
		code = append(code, wasm.Code{Body: decr})
		if b, err := wasm.DecodeBody(decr); err == nil {
			instructions += uint64(len(b.Instrs))
		}
	}
	out.SetFunctions(funcs)
	out.SetCode(code)

	globals := append(slices.Clone(out.Globals), wasm.Global{
		Type: wasm.GlobalType{Type: wasm.I64, Mutable: true},
		Init: []byte{byte(wasm.OpI64Const), 0x00, byte(wasm.OpEnd)},
	})
	for i := range globals[:len(globals)-1] {
		if globals[i].Init, err = shiftExpr(globals[i].Init, shiftFunc); err != nil {
			return nil, Info{}, fmt.Errorf("instrument global %d: %w", i, err)
		}
	}
	if err := out.SetGlobals(globals); err != nil {
		return nil, Info{}, fmt.Errorf("instrument: %w", err)
	}

	if err := shiftElements(out, shiftFunc); err != nil {
		return nil, Info{}, fmt.Errorf("instrument: %w", err)
	}
	exports := shiftExports(out.Exports, shiftFunc)
	info := Info{
		Counter:      CounterExport,
		CounterIndex: counter,
		Imports:      imports[:shift],
		FuncShift:    shift,
		Instructions: instructions + 2*uint64(len(globals)),
	}
	if out.Start != nil {
		exports = append(exports, wasm.Export{Name: StartExport, Kind: wasm.KindFunc, Index: shiftFunc(*out.Start)})
		out.SetStart(nil)
		info.HasStart = true
	}
	exports = append(exports, wasm.Export{Name: CounterExport, Kind: wasm.KindGlobal, Index: counter})
	out.SetExports(exports)

	if names, ok := out.Custom("name"); ok {
		// A malformed name section is left alone: engines ignore it.
		if shifted, err := wasm.ShiftNameSection(names, shiftFunc); err == nil {
			out.SetCustom("name", shifted)
		}
	}
	return out, info, nil
}

// shiftCalls renumbers the function operands of call, return_call and
// ref.func.
func shiftCalls(ins []wasm.Instr, shift func(uint32) uint32) {
	for i := range ins {
		switch ins[i].Op {
		case wasm.OpCall, wasm.OpReturnCall, wasm.OpRefFunc:
			ins[i].Index = shift(ins[i].Index)
			ins[i].Raw = nil
		}
	}
}

// shiftElements renumbers the functions of out's element segments, in
// index lists and ref.func expressions, when a rewrite inserts functions.
func shiftElements(out *wasm.Module, shift func(uint32) uint32) error {
	if len(out.Elements) == 0 {
		return nil
	}
	elems := slices.Clone(out.Elements)
	for i := range elems {
		e := &elems[i]
		e.Funcs = slices.Clone(e.Funcs)
		for j := range e.Funcs {
			e.Funcs[j] = shift(e.Funcs[j])
		}
		e.Exprs = slices.Clone(e.Exprs)
		for j := range e.Exprs {
			var err error
			if e.Exprs[j], err = shiftExpr(e.Exprs[j], shift); err != nil {
				return fmt.Errorf("element segment %d: %w", i, err)
			}
		}
	}
	return out.SetElements(elems)
}

// shiftExports returns a copy of exports with function indices renumbered.
func shiftExports(exports []wasm.Export, shift func(uint32) uint32) []wasm.Export {
	exports = slices.Clone(exports)
	for i := range exports {
		if exports[i].Kind == wasm.KindFunc {
			exports[i].Index = shift(exports[i].Index)
		}
	}
	return exports
}

// shiftExpr renumbers ref.func operands in a constant expression.
func shiftExpr(expr []byte, shift func(uint32) uint32) ([]byte, error) {
	ins, err := wasm.DecodeExpr(expr)
	if err != nil {
		return nil, err
	}
	shiftCalls(ins, shift)
	return wasm.AppendInstrs(nil, ins), nil
}

// injections finds the metering points of a function body, following the
// replica's injections(): a new basic block starts after loop, if, else,
// br, br_if, br_table, end, return, unreachable and tail calls, and each
// block's static cost is charged at its start. Bulk memory and table
// operations get a dynamic charge just before them.
func injections(ins []wasm.Instr, mem64 bool) []injection {
	res := markEndless(ins, foldLoopHeaders(ins, blocks(ins, mem64)))
	return slices.DeleteFunc(res, func(p injection) bool {
		return !p.dynamic && !p.exitBrIf && p.scope != scopeReentrant && p.cost == 0
	})
}

// checkPoints returns the function entry and loop headers of a body with
// their blocks' costs, InstrumentChecks' only injections.
func checkPoints(ins []wasm.Instr, mem64 bool) []injection {
	return slices.DeleteFunc(blocks(ins, mem64), func(p injection) bool {
		return p.dynamic || p.scope != scopeReentrant
	})
}

// blocks returns every basic block's charge and every dynamic charge of a
// body, ordered by position.
func blocks(ins []wasm.Instr, mem64 bool) []injection {
	var res []injection
	curr := injection{pos: 0, scope: scopeReentrant, cost: functionEntryCost}
	for pos := range ins {
		op := ins[pos].Op
		curr.cost += Cost(op, mem64)
		switch op {
		case wasm.OpLoop:
			res = append(res, curr)
			curr = injection{pos: pos + 1, scope: scopeReentrant}
		case wasm.OpIf:
			res = append(res, curr)
			curr = injection{pos: pos + 1, scope: scopeNonReentrant}
		case wasm.OpElse, wasm.OpBr, wasm.OpBrIf, wasm.OpBrTable, wasm.OpEnd,
			wasm.OpReturn, wasm.OpUnreachable, wasm.OpReturnCall, wasm.OpReturnCallIndirect:
			res = append(res, curr)
			curr = injection{pos: pos + 1, scope: scopeBlockEnd}
		case wasm.OpMemoryFill, wasm.OpMemoryCopy:
			res = append(res, injection{pos: pos, dynamic: true, size64: mem64})
		case wasm.OpTableFill, wasm.OpTableCopy, wasm.OpMemoryInit, wasm.OpTableInit:
			// Table sizes and memory.init's size are i32 even with memory64.
			res = append(res, injection{pos: pos, dynamic: true})
		}
	}
	// The block after the function's final end is empty and dropped, as on
	// the replica. A stable sort keeps dynamic charges, which are appended
	// first, ahead of a static charge at the same position.
	slices.SortStableFunc(res, func(a, b injection) int { return a.pos - b.pos })
	return res
}

// foldLoopHeaders removes one counter update per iteration from loops of
// the shape compilers emit for while loops: a header block of pure
// instructions ending in a br_if out of the loop. The replica charges the
// header's cost H and checks counter < 0 at the header, then charges the
// body at its start. Here the header only checks counter < H (the same
// decision), the body's charge grows by H, and the br_if's taken edge
// charges H before branching. Every path is charged the same amount, and
// the counter holds the replica's value at every instruction that can trap
// or call out, so counts, traps and performance_counter are unchanged.
func foldLoopHeaders(ins []wasm.Instr, points []injection) []injection {
	var frames []wasm.Instr // open block, loop and if instructions
	arityZero := make(map[int]bool)
	for pos, in := range ins {
		switch in.Op {
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
			frames = append(frames, in)
		case wasm.OpEnd:
			if len(frames) > 0 {
				frames = frames[:len(frames)-1]
			}
		case wasm.OpBrIf:
			// A branch carrying no values can become if ... br ... end
			// without a block type. Branches to the function frame
			// (returns) are left alone.
			if d := int(in.Index); d < len(frames) {
				f := frames[len(frames)-1-d]
				arityZero[pos] = f.Block == wasm.BlockEmpty || (f.Op == wasm.OpLoop && f.Block < 0)
			}
		}
	}
	var added []injection
	for i := 0; i+1 < len(points); i++ {
		h, next := &points[i], &points[i+1]
		if h.dynamic || h.scope != scopeReentrant || h.pos == 0 || next.dynamic || next.scope != scopeBlockEnd {
			continue
		}
		brIf := next.pos - 1
		if brIf < h.pos || ins[brIf].Op != wasm.OpBrIf || !arityZero[brIf] || !allPure(ins[h.pos:brIf]) {
			continue
		}
		h.checkOnly = true
		next.cost += h.cost
		added = append(added, injection{pos: brIf, cost: h.cost, exitBrIf: true})
	}
	if len(added) == 0 {
		return points
	}
	points = append(points, added...)
	slices.SortStableFunc(points, func(a, b injection) int { return a.pos - b.pos })
	return points
}

// markEndless finds loops of the shape `loop; pure...; br 0; end`, such
// as (loop (br 0)): they repeat until the message runs out of
// instructions, each iteration charging the same cost c and changing
// nothing observable (locals only; a trap rolls the rest back). The
// replica runs them one iteration at a time, so a 300 B-instruction limit
// takes minutes; the rewrite charges all the iterations the counter holds
// at once (the counter ends exactly where the first failing check would
// see it), so such a loop reaches its limit at slice speed.
func markEndless(ins []wasm.Instr, points []injection) []injection {
	for i := range points {
		p := &points[i]
		if p.dynamic || p.checkOnly || p.scope != scopeReentrant || p.pos == 0 || ins[p.pos-1].Op != wasm.OpLoop || p.cost == 0 {
			continue
		}
		end := p.pos
		for end < len(ins) && allPure(ins[end:end+1]) {
			end++
		}
		if end < len(ins) && ins[end].Op == wasm.OpBr && ins[end].Index == 0 {
			p.endless = true
		}
	}
	return points
}

// allPure reports whether none of ins can trap, call out or branch, so the
// counter's value during them cannot be observed.
func allPure(ins []wasm.Instr) bool {
	for _, in := range ins {
		switch op := in.Op; {
		case op == 0x01, // nop
			op >= 0x1a && op <= 0x1c,           // drop, select
			op >= 0x20 && op <= 0x24,           // locals and globals
			op >= 0x41 && op <= 0x6c,           // constants, comparisons, i32 clz..mul
			op >= 0x71 && op <= 0x7e,           // i32 and..rotr, i64 clz..mul
			op >= 0x83 && op <= 0x8a,           // i64 and..rotr
			op == 0xa7, op == 0xac, op == 0xad, // wrap, extend
			op >= 0xc0 && op <= 0xc4: // sign extension
		default:
			return false
		}
	}
	return true
}

// Cost returns the static cost of one instruction (see costs.go).
func Cost(op wasm.Opcode, mem64 bool) uint64 {
	if mem64 && isMemoryAccess(op) {
		return memory64Cost
	}
	if c, ok := instructionCosts[op.String()]; ok {
		return c
	}
	return defaultCost
}

// isMemoryAccess reports loads and stores, scalar and SIMD.
func isMemoryAccess(op wasm.Opcode) bool {
	switch {
	case op >= 0x28 && op <= 0x3e:
		return true
	case op>>16 == 0xfd:
		sub := op & 0xffff
		return sub <= 11 || (sub >= 84 && sub <= 93)
	}
	return false
}

// inject returns ins with the metering code of points inserted.
func inject(ins []wasm.Instr, points []injection, counter, oooFunc, decrFunc uint32) []wasm.Instr {
	out := make([]wasm.Instr, 0, len(ins)+10*len(points))
	last := 0
	charge := func(cost uint64) {
		out = append(out,
			wasm.Instr{Op: wasm.OpGlobalGet, Index: counter},
			wasm.Instr{Op: wasm.OpI64Const, Value: int64(min(cost, math.MaxInt64))},
			wasm.Instr{Op: wasm.OpI64Sub},
			wasm.Instr{Op: wasm.OpGlobalSet, Index: counter})
	}
	credit := func(cost uint64) {
		out = append(out,
			wasm.Instr{Op: wasm.OpGlobalGet, Index: counter},
			wasm.Instr{Op: wasm.OpI64Const, Value: int64(min(cost, math.MaxInt64))},
			wasm.Instr{Op: wasm.OpI64Add},
			wasm.Instr{Op: wasm.OpGlobalSet, Index: counter})
	}
	for _, p := range points {
		out = append(out, ins[last:p.pos]...)
		last = p.pos
		switch {
		case p.exitBrIf:
			// br_if d becomes: if; charge; br d+1; end.
			out = append(out, wasm.Instr{Op: wasm.OpIf, Block: wasm.BlockEmpty})
			charge(p.cost)
			out = append(out, wasm.Instr{Op: wasm.OpBr, Index: ins[p.pos].Index + 1}, wasm.Instr{Op: wasm.OpEnd})
			last = p.pos + 1
		case p.dynamic && p.size64:
			out = append(out, wasm.Instr{Op: wasm.OpCall, Index: decrFunc})
		case p.dynamic:
			// The size operand is on top of the stack: widen it, charge it
			// (the helper returns it unchanged) and narrow it back.
			out = append(out,
				wasm.Instr{Op: wasm.OpI64ExtendI32U},
				wasm.Instr{Op: wasm.OpCall, Index: decrFunc},
				wasm.Instr{Op: wasm.OpI32WrapI64})
		case p.scope != scopeReentrant:
			charge(p.cost)
		default:
			threshold := int64(0)
			if p.endless {
				// Charge every iteration left in the counter but the one
				// charged below: counter = counter mod cost when it is not
				// negative, then counter - cost is where the replica's
				// first failing check would find it.
				out = append(out,
					wasm.Instr{Op: wasm.OpGlobalGet, Index: counter},
					wasm.Instr{Op: wasm.OpI64Const, Value: 0},
					wasm.Instr{Op: wasm.OpI64GeS},
					wasm.Instr{Op: wasm.OpIf, Block: wasm.BlockEmpty},
					wasm.Instr{Op: wasm.OpGlobalGet, Index: counter},
					wasm.Instr{Op: wasm.OpI64Const, Value: int64(min(p.cost, math.MaxInt64))},
					wasm.Instr{Op: wasm.OpI64RemU},
					wasm.Instr{Op: wasm.OpGlobalSet, Index: counter},
					wasm.Instr{Op: wasm.OpEnd})
			}
			if p.checkOnly {
				threshold = int64(min(p.cost, math.MaxInt64))
			} else {
				charge(p.cost)
			}
			out = append(out,
				wasm.Instr{Op: wasm.OpGlobalGet, Index: counter},
				wasm.Instr{Op: wasm.OpI64Const, Value: threshold},
				wasm.Instr{Op: wasm.OpI64LtS},
				wasm.Instr{Op: wasm.OpIf, Block: wasm.BlockEmpty})
			if p.checkOnly {
				// Charge the header as the replica has by now, for the host
				// to decide; when it grants another slice instead of
				// trapping, take the charge back: the body's charge
				// includes the header's.
				charge(p.cost)
				out = append(out, wasm.Instr{Op: wasm.OpCall, Index: oooFunc})
				credit(p.cost)
				out = append(out, wasm.Instr{Op: wasm.OpEnd})
				continue
			}
			// The host returns from out_of_instructions when it grants the
			// next slice, and traps at the limit.
			out = append(out, wasm.Instr{Op: wasm.OpCall, Index: oooFunc}, wasm.Instr{Op: wasm.OpEnd})
		}
	}
	return append(out, ins[last:]...)
}

// decrBody is the replica's decr_instruction_counter helper: it subtracts
// its i64 argument from the counter (saturating at the minimum instead of
// wrapping), calls out_of_instructions if the counter went negative, and
// returns the argument so the instrumented instruction finds its operand.
func decrBody(counter, oooFunc uint32) []byte {
	body := &wasm.Body{
		Locals: []wasm.LocalDecl{{Count: 1, Type: wasm.I64}},
		Instrs: []wasm.Instr{
			{Op: wasm.OpGlobalGet, Index: counter},
			{Op: wasm.OpLocalGet, Index: 0},
			{Op: wasm.OpI64Sub},
			{Op: wasm.OpLocalTee, Index: 1},
			{Op: wasm.OpGlobalGet, Index: counter},
			{Op: wasm.OpI64GtS},
			{Op: wasm.OpIf, Block: wasm.ValueBlock(wasm.I64)},
			{Op: wasm.OpI64Const, Value: math.MinInt64},
			{Op: wasm.OpElse},
			{Op: wasm.OpLocalGet, Index: 1},
			{Op: wasm.OpEnd},
			{Op: wasm.OpGlobalSet, Index: counter},
			{Op: wasm.OpGlobalGet, Index: counter},
			{Op: wasm.OpI64Const, Value: 0},
			{Op: wasm.OpI64LtS},
			{Op: wasm.OpIf, Block: wasm.BlockEmpty},
			{Op: wasm.OpCall, Index: oooFunc},
			{Op: wasm.OpEnd},
			{Op: wasm.OpLocalGet, Index: 0},
			{Op: wasm.OpEnd},
		},
	}
	return body.Encode()
}
