package engine

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/validation"
	"github.com/canscope/canscope/engine/wasm"
)

// ErrMemory64 is wrapped by the errors of Load and Restore for a wasm64
// module (Motoko enhanced orthogonal persistence) whose heap would be
// above 4 GiB: canscope runs wasm64 modules by lowering their memory to a
// 32-bit one (meter.Instrument), which holds up to 4 GiB. Their snapshots
// can still be imported, shown, diffed, checked and exported.
var ErrMemory64 = meter.ErrWasm64Heap

// startExport is the export under which a prepared module offers its
// start function, which the engine runs only on install and upgrade (the
// name the replica's instrumentation gives it).
const startExport = meter.StartExport

// MethodKind is the kind of an exported canister method.
type MethodKind uint8

// Method kinds, from the export name prefix.
const (
	Update MethodKind = iota
	Query
	CompositeQuery
)

// String returns "update", "query" or "composite_query", as the replica
// names them in errors.
func (k MethodKind) String() string {
	switch k {
	case Query:
		return "query"
	case CompositeQuery:
		return "composite_query"
	}
	return "update"
}

// exportPrefix returns the export name prefix of the kind.
func (k MethodKind) exportPrefix() string { return "canister_" + k.String() + " " }

// Method is a public method a module exports.
type Method struct {
	Name string
	Kind MethodKind
}

// Module is a validated canister module, compiled and ready to install.
// It is immutable and may be shared by canisters.
type Module struct {
	raw      []byte   // as given (possibly gzipped)
	hash     [32]byte // SHA-256 of raw
	info     *wasm.Module
	prepared []byte
	// globals is the snapshot order of the module's globals (without the
	// replica's trailing instruction counter).
	globals  []wasm.SnapshotGlobal
	hasStart bool
	// metered reports that the prepared module counts instructions as
	// the replica does (meter.Instrument), else it only counts slices
	// (meter.InstrumentChecks); either way its function indexes are
	// shifted by shift.
	metered bool
	shift   uint32
	methods []Method
	// codeOffsets[i] is the offset of defined function i's body.
	codeOffsets []uint64
	numImported uint32
	compiled    wazero.CompiledModule
	// instructions is the module's instruction count for the compilation
	// charge (meter.Info.Instructions).
	instructions uint64
	// hasCallbackEntry: the prepared module exports callbackExport.
	hasCallbackEntry bool
	// labels caches FuncLabel by function index (demangling is not cheap).
	labels sync.Map
	// traced is the traced variant of prepared (trace_hooks.go).
	traced tracedCode
}

// Load decompresses (gzip), validates and compiles a canister module. It
// rejects bytes that are not wasm, modules importing anything the IC does
// not provide, naming the import, and wasm64 modules whose initial heap is
// above 4 GiB (ErrMemory64; a wasm64 module is lowered to 32-bit memory,
// see meter.Instrument). The module is prepared as the replica prepares it: mutable
// globals are exported so snapshots can hold them, and the start function
// runs only on install and upgrade.
func (e *Engine) Load(ctx context.Context, b []byte) (*Module, error) {
	raw, err := wasm.Decompress(b)
	if err != nil {
		return nil, fmt.Errorf("load module: %w", err)
	}
	info, err := wasm.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("load module: %w", err)
	}
	// The replica's own rules first, in its words: a module the IC would
	// refuse is refused here, before compiling.
	if err := validation.Validate(info); err != nil {
		return nil, fmt.Errorf("load module: %w", err)
	}
	if err := checkImports(info); err != nil {
		return nil, fmt.Errorf("load module: %w", err)
	}
	// Preparing and compiling a large module takes seconds: a cancel
	// returns at once (abandonable).
	type built struct {
		p        prepared
		compiled wazero.CompiledModule
	}
	bt, err := abandonable(ctx, e, func(ctx context.Context) (built, error) {
		p, err := prepare(raw, !e.cfg.Unmetered)
		if err != nil {
			return built{}, fmt.Errorf("load module: %w", err)
		}
		code := p.bytes
		if tracing(ctx) {
			// Keep the traced variant's compilation, which traced
			// canisters run (WithTracing).
			if code, err = eventsVariant(p.bytes, info, p.shift); err != nil {
				return built{}, fmt.Errorf("load module: %w", err)
			}
		}
		compiled, err := e.rt.CompileModule(ctx, code)
		if err != nil {
			return built{}, fmt.Errorf("load module: invalid wasm: %w", err)
		}
		return built{p, compiled}, nil
	}, func(bt built) { bt.compiled.Close(context.Background()) })
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("load module: %w", err)
		}
		return nil, err
	}
	p, compiled := bt.p, bt.compiled
	m := &Module{
		raw:         slices.Clone(b),
		hash:        sha256.Sum256(b),
		info:        info,
		prepared:    p.bytes,
		globals:     wasm.SnapshotGlobals(info),
		hasStart:    p.hasStart,
		metered:     !e.cfg.Unmetered,
		shift:       p.shift,
		methods:     methodsOf(info),
		codeOffsets: codeOffsets(info),
		numImported: uint32(info.NumImportedFuncs()),
		compiled:    compiled,

		instructions:     p.instructions,
		hasCallbackEntry: p.callbacks,
	}
	return m, nil
}

// prepared is a module rewritten for execution.
type prepared struct {
	bytes        []byte
	hasStart     bool
	shift        uint32 // function index shift of the metering rewrite
	instructions uint64 // meter.Info.Instructions
	callbacks    bool   // the callback entry was added (addCallbackEntry)
}

// prepare rewrites a module the way the replica does before running it:
// every mutable global exported, instruction metering added (metered),
// the start function turned into an export.
func prepare(raw []byte, metered bool) (prepared, error) {
	m, err := wasm.Parse(raw)
	if err != nil {
		return prepared{}, err
	}
	wasm.ExportMutableGlobals(m)
	// Unmetered modules count too, without the replica's costs: the
	// counter makes a long call return to the host at every slice, for
	// cancellation and the garbage collector (see meter.DefaultSlice).
	instrument := meter.InstrumentChecks
	if metered {
		instrument = meter.Instrument
	}
	// Both rewrites also turn the start function into an export: wazero
	// runs a start section at every instantiation, the replica on install
	// and upgrade only.
	im, info, err := instrument(m)
	if err != nil {
		return prepared{}, err
	}
	addCallbackEntry(im, m.IsMemory64())
	_, hasCallbacks := im.Export(callbackExport)
	p := prepared{bytes: im.Encode(), hasStart: info.HasStart, shift: info.FuncShift, instructions: info.Instructions, callbacks: hasCallbacks}
	if !metered {
		// Unmetered: the module's own instructions, counted the same way.
		p.instructions = 2 * uint64(len(m.Globals))
		for _, c := range m.Code {
			b, err := wasm.DecodeBody(c.Body)
			if err != nil {
				return prepared{}, err
			}
			p.instructions += uint64(len(b.Instrs))
		}
	}
	return p, nil
}

// CompileCost returns the instructions the replica charges for compiling
// the module at costPerInstruction (cost_to_compile_wasm_instruction):
// the instruction count of the module as instrumented for execution
// (instrumentation.rs counts its instrumented module the same way).
func (m *Module) CompileCost(costPerInstruction uint64) uint64 {
	return m.instructions * costPerInstruction
}

// checkImports verifies that the module imports only ic0 functions the IC
// provides, with the IC's signatures.
func checkImports(m *wasm.Module) error {
	for _, im := range m.Imports {
		name := im.Module + "." + im.Name
		if im.Module != ic0.ModuleName || im.Kind != wasm.KindFunc {
			return fmt.Errorf("module imports %s (%s), which the IC does not provide: canisters may import only ic0 functions", name, kindName(im.Kind))
		}
		f, ok := ic0.LookupMode(im.Name, m.IsMemory64())
		if !ok {
			return fmt.Errorf("module imports %s, which the IC does not provide", name)
		}
		if int(im.TypeIndex) >= len(m.Types) {
			return fmt.Errorf("module imports %s with type index %d out of range", name, im.TypeIndex)
		}
		t := m.Types[im.TypeIndex]
		if !sameTypes(t.Params, f.Params) || !sameTypes(t.Results, f.Results) {
			return fmt.Errorf("module imports %s with type %s, but the IC's is %s", name, t, signature(f.Params, f.Results))
		}
	}
	return nil
}

func kindName(k wasm.ExternKind) string {
	switch k {
	case wasm.KindFunc:
		return "function"
	case wasm.KindTable:
		return "table"
	case wasm.KindMemory:
		return "memory"
	case wasm.KindGlobal:
		return "global"
	}
	return "tag"
}

func sameTypes(ws []wasm.ValueType, as []api.ValueType) bool {
	if len(ws) != len(as) {
		return false
	}
	for i := range ws {
		if byte(ws[i]) != as[i] {
			return false
		}
	}
	return true
}

func signature(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("(%s) -> (%s)", names(params), names(results))
}

// methodsOf lists the public methods in export order.
func methodsOf(m *wasm.Module) []Method {
	var out []Method
	for _, name := range m.ExportedFunctions() {
		for _, k := range []MethodKind{Update, Query, CompositeQuery} {
			if n, ok := strings.CutPrefix(name, k.exportPrefix()); ok {
				out = append(out, Method{Name: n, Kind: k})
			}
		}
	}
	return out
}

// codeOffsets returns the byte offset of every function body in the
// module, for trap locations.
func codeOffsets(m *wasm.Module) []uint64 {
	out := make([]uint64, len(m.Code))
	for i, c := range m.Code {
		out[i] = uint64(c.Offset)
	}
	return out
}

// Close releases the compiled code.
func (m *Module) Close(ctx context.Context) error { return m.compiled.Close(ctx) }

// Bytes returns the module as given to Load (possibly gzipped); callers
// must not modify it.
func (m *Module) Bytes() []byte { return m.raw }

// Hash returns the SHA-256 of the bytes given to Load, the module hash the
// IC reports.
func (m *Module) Hash() [32]byte { return m.hash }

// Methods returns the public methods in export order.
func (m *Module) Methods() []Method { return slices.Clone(m.methods) }

// Method returns the method with the given name.
func (m *Module) Method(name string) (Method, bool) {
	for _, mt := range m.methods {
		if mt.Name == name {
			return mt, true
		}
	}
	return Method{}, false
}

// Exports returns the names of the exported functions in export order,
// e.g. "canister_update inc".
func (m *Module) Exports() []string { return m.info.ExportedFunctions() }

// HasExport reports whether the module exports a function of that name.
func (m *Module) HasExport(name string) bool {
	e, ok := m.info.Export(name)
	return ok && e.Kind == wasm.KindFunc
}

// FuncName returns the name-section name of function idx, or "" without one.
func (m *Module) FuncName(idx uint32) string { return m.info.FuncName(idx) }

// Metadata returns the custom section `icp:public <name>` or
// `icp:private <name>` (e.g. "candid:service") and whether it is public.
func (m *Module) Metadata(name string) (data []byte, public bool, ok bool) {
	return m.info.Metadata(name)
}

// MetadataNames lists the module's IC metadata section names.
func (m *Module) MetadataNames() []string { return m.info.MetadataNames() }

// Memory returns the heap's limits in 64 KiB pages (max 65536 without
// a declared maximum) and whether the module has a memory at all.
func (m *Module) Memory() (min, max uint64, ok bool) {
	l, ok := m.info.Memory()
	if !ok {
		return 0, 0, false
	}
	max = 65536
	if l.HasMax {
		max = l.Max
	}
	return l.Min, max, true
}

// IsMemory64 reports a wasm64 module (64-bit main memory), which runs
// lowered to 32-bit memory with heaps up to 4 GiB (ErrMemory64).
func (m *Module) IsMemory64() bool { return m.info.IsMemory64() }

// heapMax is the IC's heap limit for the module: 4 GiB for wasm32; for
// wasm64 the declared maximum, capped at the 18 GiB wasm64 limit as the
// replica's update_memories does (rs/embedders/src/wasm_utils/
// instrumentation.rs). canscope itself runs wasm64 heaps up to 4 GiB and
// stops beyond (meter.HeapLimitError), so the report shows the IC's room.
func (m *Module) heapMax() uint64 {
	if !m.IsMemory64() {
		return meter.MaxHeap
	}
	_, max, _ := m.Memory()
	if l, _ := m.info.Memory(); !l.HasMax {
		max = meter.Wasm64MaxPages
	}
	return min(max, meter.Wasm64MaxPages) * PageSize
}

// Globals returns the module's globals in snapshot order, without the
// replica's trailing instruction counter.
func (m *Module) Globals() []wasm.SnapshotGlobal { return slices.Clone(m.globals) }

// location returns the offset of function idx's body, 0 for imports.
func (m *Module) location(idx uint32) uint64 {
	if idx < m.numImported || int(idx-m.numImported) >= len(m.codeOffsets) {
		return 0
	}
	return m.codeOffsets[idx-m.numImported]
}
