package meter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/wasm"
)

func loadModule(t testing.TB, path string) *wasm.Module {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := wasm.Decompress(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	m, err := wasm.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// meteredInstance is an instrumented module instantiated in its own
// runtime together with the meter host module and ic0 stubs.
type meteredInstance struct {
	mod     api.Module
	counter *Counter
}

func newRuntime(ctx context.Context, t testing.TB, m *wasm.Module) wazero.Runtime {
	t.Helper()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig())
	t.Cleanup(func() { rt.Close(ctx) })
	if err := instantiateStubs(ctx, rt, m); err != nil {
		t.Fatal(err)
	}
	return rt
}

// instantiateStubs provides every function m imports as a function that
// does nothing and returns zeros, one host module per import module, so
// fixtures of all engine packages run here without the System API.
func instantiateStubs(ctx context.Context, rt wazero.Runtime, m *wasm.Module) error {
	builders := make(map[string]wazero.HostModuleBuilder)
	var order []string
	for _, im := range m.Imports {
		if im.Kind != wasm.KindFunc || im.Module == HostModule {
			continue
		}
		b, ok := builders[im.Module]
		if !ok {
			b = rt.NewHostModuleBuilder(im.Module)
			builders[im.Module] = b
			order = append(order, im.Module)
		}
		ft := m.Types[im.TypeIndex]
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
			clear(stack)
		}), valueTypes(ft.Params), valueTypes(ft.Results)).Export(im.Name)
	}
	for _, name := range order {
		if _, err := builders[name].Instantiate(ctx); err != nil {
			return fmt.Errorf("stub module %s: %w", name, err)
		}
	}
	return nil
}

func valueTypes(ts []wasm.ValueType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

// meteredModule is an instrumented module compiled in its own runtime,
// with the meter host module and stubs for its other imports.
type meteredModule struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	info     Info
	current  *Counter // counter of the latest instance, for the trap text
	slice    uint64   // the counters' slice size (0: DefaultSlice)
}

// testSlices are the slice sizes the counting tests run with: slicing must
// change no count, however often the module returns to the host.
var testSlices = []uint64{0, 1, 3, 1000}

// forSlices runs f as a subtest for every slice size of testSlices.
func forSlices(t *testing.T, f func(t *testing.T, slice uint64)) {
	for _, slice := range testSlices {
		t.Run(fmt.Sprintf("slice=%d", slice), func(t *testing.T) { f(t, slice) })
	}
}

func compileMetered(ctx context.Context, t testing.TB, m *wasm.Module) *meteredModule {
	t.Helper()
	inst, info, err := Instrument(m)
	if err != nil {
		t.Fatal(err)
	}
	mm := &meteredModule{rt: newRuntime(ctx, t, m), info: info}
	if _, err := InstantiateHost(ctx, mm.rt, func(context.Context, api.Module) error {
		if mm.current.Refill() {
			return nil
		}
		return &LimitError{Limit: mm.current.Limit()}
	}); err != nil {
		t.Fatal(err)
	}
	if mm.compiled, err = mm.rt.CompileModule(ctx, inst.Encode()); err != nil {
		t.Fatalf("compile instrumented module: %v", err)
	}
	return mm
}

// instantiate makes a fresh instance with its counter set to limit,
// running the former start function first like the replica.
func (mm *meteredModule) instantiate(ctx context.Context, t testing.TB, limit uint64) *meteredInstance {
	t.Helper()
	mod, err := mm.rt.InstantiateModule(ctx, mm.compiled, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatalf("instantiate instrumented module: %v", err)
	}
	c, err := NewCounter(mod, limit)
	if err != nil {
		t.Fatal(err)
	}
	c.SetSlice(mm.slice)
	mm.current = c
	if mm.info.HasStart {
		if _, err := mod.ExportedFunction(StartExport).Call(ctx); err != nil {
			t.Fatalf("start: %v", err)
		}
		c.Set(limit)
	}
	return &meteredInstance{mod: mod, counter: c}
}

func instantiateMetered(ctx context.Context, t testing.TB, m *wasm.Module, limit uint64) *meteredInstance {
	t.Helper()
	return instantiateSliced(ctx, t, m, limit, 0)
}

// instantiateSliced is instantiateMetered with the given slice size.
func instantiateSliced(ctx context.Context, t testing.TB, m *wasm.Module, limit, slice uint64) *meteredInstance {
	t.Helper()
	mm := compileMetered(ctx, t, m)
	mm.slice = slice
	return mm.instantiate(ctx, t, limit)
}

func TestInstructionCounts(t *testing.T) {
	forSlices(t, func(t *testing.T, slice uint64) {
		ctx := context.Background()
		m := loadModule(t, "testdata/counts.wasm")
		tests := []struct {
			fn     string
			args   []uint64
			want   uint64
			result []uint64
			trap   string
		}{
			{"empty", nil, 1, nil, ""},
			{"straight", nil, 4, []uint64{3}, ""},
			{"call", nil, 10, []uint64{3}, ""},
			{"branch", []uint64{1}, 7, []uint64{11}, ""},
			{"branch", []uint64{0}, 5, []uint64{20}, ""},
			{"sum", []uint64{0}, 7, []uint64{0}, ""},
			{"sum", []uint64{10}, 157, []uint64{45}, ""},
			{"sum", []uint64{1000}, 15007, []uint64{499500}, ""},
			{"trap_in_loop", []uint64{0}, 7, nil, "unreachable"},
			{"trap_in_loop", []uint64{25}, 282, nil, "unreachable"},
			{"fac", []uint64{0}, 6, []uint64{1}, ""},
			{"fac", []uint64{5}, 81, []uint64{120}, ""},
			{"fill", []uint64{0}, 104, nil, ""},
			{"fill", []uint64{1000}, 1104, nil, ""},
			{"copy", []uint64{4096}, 4200, nil, ""},
			{"fill", []uint64{70000}, 70104, nil, "out of bounds"},
		}
		mi := instantiateSliced(ctx, t, m, UpdateLimit, slice)
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s%v", tt.fn, tt.args), func(t *testing.T) {
				mi.counter.Set(UpdateLimit)
				res, err := mi.mod.ExportedFunction(tt.fn).Call(ctx, tt.args...)
				if tt.trap != "" {
					if err == nil || !strings.Contains(err.Error(), tt.trap) {
						t.Fatalf("err = %v, want a %q trap", err, tt.trap)
					}
				} else if err != nil {
					t.Fatal(err)
				}
				if got := mi.counter.Used(); got != tt.want {
					t.Errorf("used %d instructions, want %d", got, tt.want)
				}
				if tt.trap == "" && !slices.Equal(res, tt.result) {
					t.Errorf("result = %v, want %v", res, tt.result)
				}
			})
		}
	})
}

func TestComputeCount(t *testing.T) {
	forSlices(t, func(t *testing.T, slice uint64) {
		ctx := context.Background()
		mi := instantiateSliced(ctx, t, loadModule(t, "testdata/compute.wasm"), UpdateLimit, slice)
		for _, n := range []uint64{0, 1, 100000} {
			mi.counter.Set(UpdateLimit)
			if _, err := mi.mod.ExportedFunction("mix").Call(ctx, n); err != nil {
				t.Fatal(err)
			}
			if got, want := mi.counter.Used(), 43*n+9; got != want {
				t.Errorf("mix(%d) used %d instructions, want %d", n, got, want)
			}
		}
	})
}

func TestLimitStopsInfiniteLoop(t *testing.T) {
	forSlices(t, func(t *testing.T, slice uint64) {
		ctx := context.Background()
		const limit = 1000
		mi := instantiateSliced(ctx, t, loadModule(t, "testdata/counts.wasm"), limit, slice)
		_, err := mi.mod.ExportedFunction("forever").Call(ctx)
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != limit {
			t.Fatalf("err = %v, want a *LimitError with limit %d", err, limit)
		}
		if want := "Canister exceeded the limit of 1000 instructions for single message execution."; le.Error() != want {
			t.Errorf("text = %q, want %q", le.Error(), want)
		}
		// Entry costs 1 and each iteration 2: the first check that sees a
		// negative counter is after 1 + 2*500 instructions.
		if got := mi.counter.Used(); got != 1001 {
			t.Errorf("used %d, want 1001", got)
		}
		if !mi.counter.Exceeded() {
			t.Error("Exceeded() = false after running out")
		}

		// The same instance runs the next message normally after Set.
		mi.counter.Set(limit)
		if _, err := mi.mod.ExportedFunction("straight").Call(ctx); err != nil || mi.counter.Used() != 4 {
			t.Fatalf("after reset: used %d, err %v", mi.counter.Used(), err)
		}
	})
}

// TestLimitInWhileLoop runs out inside a loop whose header charge is
// folded into its successors; the count at the trap must still be the
// replica's: entry 1, then 15 per iteration (header 5, body 10), and the
// header check of iteration 3 sees 1+45+5 = 51 > 50.
func TestLimitInWhileLoop(t *testing.T) {
	forSlices(t, func(t *testing.T, slice uint64) {
		ctx := context.Background()
		mi := instantiateSliced(ctx, t, loadModule(t, "testdata/counts.wasm"), 50, slice)
		_, err := mi.mod.ExportedFunction("sum").Call(ctx, 1000)
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != 50 {
			t.Fatalf("err = %v, want a *LimitError with limit 50", err)
		}
		if got := mi.counter.Used(); got != 51 {
			t.Errorf("used %d, want 51", got)
		}
	})
}

func TestBulkChargeStopsAtLimit(t *testing.T) {
	forSlices(t, func(t *testing.T, slice uint64) {
		ctx := context.Background()
		mi := instantiateSliced(ctx, t, loadModule(t, "testdata/counts.wasm"), 1000, slice)
		_, err := mi.mod.ExportedFunction("fill").Call(ctx, 5000)
		var le *LimitError
		if !errors.As(err, &le) {
			t.Fatalf("err = %v, want a *LimitError", err)
		}
		if got := mi.counter.Used(); got != 5104 {
			t.Errorf("used %d, want 5104", got)
		}
		mem, _ := mi.mod.Memory().Read(0, 1)
		if mem[0] != 0 {
			t.Error("memory.fill ran although the charge before it trapped")
		}
	})
}

func TestCounterCharge(t *testing.T) {
	forSlices(t, func(t *testing.T, slice uint64) {
		ctx := context.Background()
		mi := instantiateSliced(ctx, t, loadModule(t, "testdata/counts.wasm"), 100, slice)
		c := mi.counter
		if !c.Charge(60) || c.Used() != 60 || c.Exceeded() {
			t.Fatalf("after Charge(60): used %d", c.Used())
		}
		if !c.Charge(40) || c.Used() != 100 {
			t.Fatalf("charging exactly the limit must succeed: used %d", c.Used())
		}
		if c.Charge(1) || c.Used() != 101 || !c.Exceeded() {
			t.Fatalf("charging past the limit: used %d", c.Used())
		}
		if c.Charge(^uint64(0)) {
			t.Fatal("huge charge succeeded")
		}
		if c.Used() < c.Limit() {
			t.Fatalf("used %d after a saturating charge", c.Used())
		}
		c.Set(^uint64(0))
		if c.Limit() != 1<<63-1 || c.Used() != 0 {
			t.Fatalf("Set(max): limit %d used %d", c.Limit(), c.Used())
		}
	})
}

func TestCostTableNamesAreInstructions(t *testing.T) {
	for name := range instructionCosts {
		if _, ok := wasm.OpcodeByName(name); !ok {
			t.Errorf("cost table lists %q, which is not an instruction", name)
		}
	}
	if Cost(wasm.OpI32Load, true) != 2 || Cost(wasm.OpI32Load, false) != 1 || Cost(wasm.OpCall, false) != 5 {
		t.Error("Cost gives wrong values for i32.load or call")
	}
}

func TestDefaultLimits(t *testing.T) {
	// rs/config/src/subnet_config.rs and embedders.rs, application subnets.
	pages := PageLimit{Message: 2 << 30 / 4096, Upgrade: 8 << 30 / 4096, Query: 1 << 30 / 4096}
	want := Limits{Update: 40e9, Query: 5e9, Install: 300e9, InspectMessage: 200e6, Slice: 2e9,
		StableDirtyPages: pages, StableAccessedPages: pages, DirtyPageOverhead: 1000, CompileCost: 6000}
	if got := DefaultLimits(); got != want {
		t.Errorf("DefaultLimits = %+v, want %+v", got, want)
	}
}

// engineFixtures lists the compiled fixtures of every engine package,
// each distinct module once.
func engineFixtures(t testing.TB) []string {
	t.Helper()
	var out []string
	seen := make(map[[sha256.Size]byte]bool)
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".wasm") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if h := sha256.Sum256(b); !seen[h] {
			seen[h] = true
			out = append(out, path)
		}
		return nil
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	return out
}

// differentialLimit bounds each metered run of TestDifferential: far more
// than any terminating fixture method needs, a fraction of a second for
// one that loops forever.
const differentialLimit = 50_000_000

// TestDifferential runs every parameterless export of every engine fixture
// (and the functions of this package's fixtures) instrumented and not, and
// requires the same results, traps, memory and exported globals.
func TestDifferential(t *testing.T) {
	ctx := context.Background()
	type call struct {
		fn   string
		args []uint64
	}
	extra := map[string][]call{
		"testdata/counts.wasm": {{"sum", []uint64{100}}, {"fac", []uint64{20}}, {"fill", []uint64{300}},
			{"copy", []uint64{500}}, {"trap_in_loop", []uint64{3}}, {"branch", []uint64{0}}},
		"testdata/compute.wasm": {{"mix", []uint64{50000}}},
	}
	for _, path := range engineFixtures(t) {
		t.Run(path, func(t *testing.T) {
			m := loadModule(t, path)
			if m.IsMemory64() {
				t.Skip("wazero cannot run 64-bit memories")
			}
			for _, im := range m.Imports {
				if im.Kind != wasm.KindFunc {
					t.Skipf("imports %s %s.%s, which the stubs cannot provide", im.Kind, im.Module, im.Name)
				}
			}
			calls := extra[path]
			for _, e := range m.Exports {
				if e.Kind != wasm.KindFunc {
					continue
				}
				if ft, err := m.FuncType(e.Index); err == nil && len(ft.Params) == 0 {
					calls = append(calls, call{fn: e.Name})
				}
			}
			metered := compileMetered(ctx, t, m)
			plainRT := newRuntime(ctx, t, m)
			plain, err := plainRT.CompileModule(ctx, m.Encode())
			if err != nil {
				t.Fatal(err)
			}
			compared := 0
			for _, c := range calls {
				p, err := plainRT.InstantiateModule(ctx, plain, wazero.NewModuleConfig().WithName(""))
				if err != nil {
					t.Fatalf("instantiate: %v", err)
				}
				// Run the metered module first, with a limit that stops
				// methods that never return (the plain run would hang).
				mi := metered.instantiate(ctx, t, differentialLimit)
				mres, merr := mi.mod.ExportedFunction(c.fn).Call(ctx, c.args...)
				var le *LimitError
				if errors.As(merr, &le) {
					continue
				}
				pres, perr := p.ExportedFunction(c.fn).Call(ctx, c.args...)
				compared++
				if firstLine(perr) != firstLine(merr) {
					t.Errorf("%s: plain err %q, metered err %q", c.fn, firstLine(perr), firstLine(merr))
				}
				if !slices.Equal(pres, mres) {
					t.Errorf("%s: plain result %v, metered %v", c.fn, pres, mres)
				}
				if pm, mm := p.Memory(), mi.mod.Memory(); pm != nil {
					pb, _ := pm.Read(0, pm.Size())
					mb, _ := mm.Read(0, mm.Size())
					if !bytes.Equal(pb, mb) {
						t.Errorf("%s: memory differs", c.fn)
					}
				}
				for _, e := range m.Exports {
					if e.Kind == wasm.KindGlobal && p.ExportedGlobal(e.Name).Get() != mi.mod.ExportedGlobal(e.Name).Get() {
						t.Errorf("%s: global %s differs", c.fn, e.Name)
					}
				}
				if perr == nil && mi.counter.Used() == 0 {
					t.Errorf("%s: metered run counted no instructions", c.fn)
				}
			}
			if len(calls) > 0 && compared == 0 {
				t.Errorf("none of %d methods finished within %d instructions", len(calls), differentialLimit)
			}
		})
	}
}

func firstLine(err error) string {
	if err == nil {
		return ""
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// FuzzInstrument feeds arbitrary modules to Instrument: it must not panic,
// and what it returns must parse again.
func FuzzInstrument(f *testing.F) {
	for _, path := range []string{"testdata/counts.wasm", "testdata/compute.wasm", "../wasm/testdata/features.wasm"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wasm.Parse(b)
		if err != nil {
			return
		}
		out, _, err := Instrument(m)
		if err != nil {
			return
		}
		if _, err := wasm.Parse(out.Encode()); err != nil {
			t.Fatalf("instrumented module does not parse: %v", err)
		}
	})
}

// TestSnapshotGlobalOrder checks that a module prepared like the replica
// (persistent globals exported, then instrumented) lists its globals in the
// replica's snapshot order: own exports, persistent globals, counter.
func TestSnapshotGlobalOrder(t *testing.T) {
	m := loadModule(t, "../wasm/testdata/features.wasm")
	wasm.ExportMutableGlobals(m)
	inst, info, err := Instrument(m)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range wasm.SnapshotGlobals(inst) {
		got = append(got, g.Export)
	}
	want := []string{"count", "__persistent_mutable_global_0", "__persistent_mutable_global_3",
		"__persistent_mutable_global_4", CounterExport}
	if !slices.Equal(got, want) {
		t.Errorf("snapshot globals = %q, want %q", got, want)
	}
	if !info.HasStart {
		t.Error("features.wasm has a start function but HasStart is false")
	}
	if _, ok := inst.Export(StartExport); !ok || inst.Start != nil {
		t.Error("start section not turned into the canister_start export")
	}
	if name := inst.FuncName(info.FuncShift + 4); name != "inc" {
		t.Errorf("name of shifted function 4 = %q, want inc", name)
	}
}

// TestInstrumentShiftsFunctionIndices checks every place a function index
// lives after the out_of_instructions import moved all functions up by one.
func TestInstrumentShiftsFunctionIndices(t *testing.T) {
	m := loadModule(t, "../wasm/testdata/features.wasm")
	out, info, err := Instrument(m)
	if err != nil {
		t.Fatal(err)
	}
	if info.FuncShift != 1 || out.Imports[0].Module != HostModule || out.Imports[0].Name != OutOfInstructions {
		t.Fatalf("import 0 = %+v, shift %d", out.Imports[0], info.FuncShift)
	}
	if got := out.Elements[0].Funcs; !slices.Equal(got, []uint32{5, 6}) {
		t.Errorf("active element segment = %v, want [5 6]", got)
	}
	if got, _ := wasm.DecodeExpr(out.Elements[1].Exprs[0]); got[0].Op != wasm.OpRefFunc || got[0].Index != 3 {
		t.Errorf("passive element expression = %+v, want ref.func 3", got[0])
	}
	if got, _ := wasm.DecodeExpr(out.Globals[4].Init); got[0].Op != wasm.OpRefFunc || got[0].Index != 5 {
		t.Errorf("funcref global initializer = %+v, want ref.func 5", got[0])
	}
	for _, e := range out.Exports {
		if orig, ok := m.Export(e.Name); ok && e.Kind == wasm.KindFunc && e.Index != orig.Index+1 {
			t.Errorf("export %q index %d, want %d", e.Name, e.Index, orig.Index+1)
		}
	}
	body, err := wasm.DecodeBody(out.Code[4-2].Body) // inc is function 4, the third defined
	if err != nil {
		t.Fatal(err)
	}
	var calls []uint32
	for _, in := range body.Instrs {
		if in.Op == wasm.OpCall || in.Op == wasm.OpRefFunc {
			calls = append(calls, in.Index)
		}
	}
	// out_of_instructions (0) at entry, the bulk-charge helper (defined
	// last) before memory.init/copy/fill, ref.func $helper (3 -> 4), and
	// call $msg_reply (0 -> 1).
	decr := uint32(out.NumImportedFuncs() + len(out.Functions) - 1)
	want := []uint32{0, decr, decr, decr, 4, 1}
	if !slices.Equal(calls, want) {
		t.Errorf("calls in inc = %v, want %v", calls, want)
	}
}
