package mem64diff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/wasm"
)

// corpus is the WAT corpus of every memory instruction (and moc's 64-bit
// table), engine/meter/testdata/mem64.wat.
const corpus = "../../engine/meter/testdata/mem64.wasm"

// edges are the i64 arguments every export of the corpus is called with
// (each param, all combinations): around the 1..4-page heap's end, the
// 32-bit boundary and the top of the 64-bit range.
var edges = []uint64{0, 1, 13, 16, 65528, 65535, 65536, 65537, 131071, 131072, 262143, 262144,
	1 << 31, 1<<32 - 1, 1 << 32, 1<<32 + 16, 1 << 63, math.MaxUint64 - 7, math.MaxUint64}

// outcome is one call's observable result: values (as bits) or the trap
// class, the replica's name for it.
type outcome struct {
	results []uint64
	trap    string
}

func (o outcome) String() string {
	if o.trap != "" {
		return "trap " + o.trap
	}
	return fmt.Sprint(o.results)
}

// wazeroTrap classifies a wazero error of the lowered module as the
// replica names the trap (engine/ic0/trap.go maps wazero's texts the same
// way; wazero reports a null table entry like an index past the table).
func wazeroTrap(err error) string {
	switch s := err.Error(); {
	case strings.Contains(s, "out of bounds memory access"):
		return "heap out of bounds"
	case strings.Contains(s, "invalid table access"):
		return "table out of bounds"
	default:
		return "other: " + strings.SplitN(s, "\n", 2)[0]
	}
}

// wasmtimeTrap classifies a wasmtime trap the same way.
func wasmtimeTrap(err error) string {
	var t *wasmtime.Trap
	if errors.As(err, &t) && t.Code() != nil {
		switch *t.Code() {
		case wasmtime.MemoryOutOfBounds:
			return "heap out of bounds"
		case wasmtime.TableOutOfBounds, wasmtime.IndirectCallToNull:
			return "table out of bounds"
		}
	}
	return "other: " + strings.SplitN(err.Error(), "\n", 2)[0]
}

// lowered is the corpus as canscope runs it: lowered by the meter's
// rewrite (InstrumentChecks, the unmetered product path, so that a huge
// bulk size traps as the memory's bounds check rather than at the
// instruction limit), on wazero's compiler.
type lowered struct {
	mod     api.Module
	counter *meter.Counter
}

func newLowered(ctx context.Context, t *testing.T, m *wasm.Module) *lowered {
	t.Helper()
	inst, _, err := meter.InstrumentChecks(m)
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	l := &lowered{}
	if _, err := meter.InstantiateHost(ctx, rt, func(context.Context, api.Module) error {
		if l.counter.Refill() {
			return nil
		}
		return &meter.LimitError{Limit: l.counter.Limit()}
	}); err != nil {
		t.Fatal(err)
	}
	if l.mod, err = rt.InstantiateWithConfig(ctx, inst.Encode(), wazero.NewModuleConfig().WithName("")); err != nil {
		t.Fatal(err)
	}
	if l.counter, err = meter.NewCounter(l.mod, 1<<50); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *lowered) call(ctx context.Context, name string, args []uint64) outcome {
	res, err := l.mod.ExportedFunction(name).Call(ctx, args...)
	if err != nil {
		return outcome{trap: wazeroTrap(err)}
	}
	return outcome{results: res}
}

func (l *lowered) memory() []byte {
	mem := l.mod.Memory()
	b, _ := mem.Read(0, mem.Size())
	return b
}

// native is the original wasm64 module on wasmtime.
type native struct {
	store *wasmtime.Store
	inst  *wasmtime.Instance
	mem   *wasmtime.Memory
}

func newEngine() *wasmtime.Engine {
	cfg := wasmtime.NewConfig()
	cfg.SetWasmMemory64(true)
	return wasmtime.NewEngineWithConfig(cfg)
}

func newNative(t *testing.T, code []byte) *native {
	t.Helper()
	eng := newEngine()
	store := wasmtime.NewStore(eng)
	mod, err := wasmtime.NewModule(eng, code)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := wasmtime.NewInstance(store, mod, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := &native{store: store, inst: inst}
	for _, e := range mod.Exports() {
		if e.Type().MemoryType() != nil {
			n.mem = inst.GetExport(store, e.Name()).Memory()
		}
	}
	return n
}

func (n *native) call(name string, params []wasm.ValueType, args []uint64) outcome {
	in := make([]interface{}, len(args))
	for i, a := range args {
		switch params[i] {
		case wasm.I32:
			in[i] = int32(a)
		case wasm.F32:
			in[i] = math.Float32frombits(uint32(a))
		case wasm.F64:
			in[i] = math.Float64frombits(a)
		default:
			in[i] = int64(a)
		}
	}
	res, err := n.inst.GetFunc(n.store, name).Call(n.store, in...)
	if err != nil {
		return outcome{trap: wasmtimeTrap(err)}
	}
	return outcome{results: bits(res)}
}

// bits converts wasmtime results to wazero's encoding.
func bits(res interface{}) []uint64 {
	switch v := res.(type) {
	case nil:
		return []uint64{}
	case int32:
		return []uint64{uint64(uint32(v))}
	case int64:
		return []uint64{uint64(v)}
	case float32:
		return []uint64{uint64(math.Float32bits(v))}
	case float64:
		return []uint64{math.Float64bits(v)}
	case []wasmtime.Val:
		var out []uint64
		for _, x := range v {
			out = append(out, bits(x.Get())...)
		}
		return out
	}
	panic(fmt.Sprintf("result of type %T", res))
}

func (n *native) memory() []byte {
	return bytes.Clone(n.mem.UnsafeData(n.store))
}

// argLists returns every combination of edges for the params.
func argLists(params []wasm.ValueType) [][]uint64 {
	out := [][]uint64{{}}
	for range params {
		var next [][]uint64
		for _, prefix := range out {
			for _, e := range edges {
				next = append(next, append(append([]uint64{}, prefix...), e))
			}
		}
		out = next
	}
	return out
}

// wasm64Fixtures returns every wasm64 module under engine/ (the
// differential test covers each: those without imports as a corpus,
// the Motoko ones in TestMotokoFixtures).
func wasm64Fixtures(t *testing.T) (plain, withImports []string) {
	t.Helper()
	err := filepath.WalkDir("../../engine", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".wasm") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		m, err := wasm.Parse(b)
		if err != nil || !m.IsMemory64() {
			return nil
		}
		if len(m.Imports) == 0 {
			plain = append(plain, path)
		} else {
			withImports = append(withImports, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return plain, withImports
}

// TestCorpus calls every export of every wasm64 fixture without imports
// (the corpus above all) with every combination of edge arguments, in the
// same order on the original module (wasmtime) and the lowered one
// (wazero), and requires the same results, traps, heap contents and heap
// size after every call.
func TestCorpus(t *testing.T) {
	plain, _ := wasm64Fixtures(t)
	if !slices.Contains(plain, filepath.Clean(corpus)) {
		t.Fatalf("the corpus %s is not among the fixtures %v", corpus, plain)
	}
	for _, path := range plain {
		t.Run(filepath.Base(path), func(t *testing.T) { runCorpus(t, path, path == filepath.Clean(corpus)) })
	}
}

func runCorpus(t *testing.T, path string, full bool) {
	ctx := context.Background()
	code, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := wasm.Parse(code)
	if err != nil {
		t.Fatal(err)
	}
	low, nat := newLowered(ctx, t, m), newNative(t, code)
	calls, traps := 0, 0
	for _, e := range m.Exports {
		if e.Kind != wasm.KindFunc {
			continue
		}
		ft, err := m.FuncType(e.Index)
		if err != nil {
			t.Fatal(err)
		}
		for _, args := range argLists(ft.Params) {
			want, got := nat.call(e.Name, ft.Params, args), low.call(ctx, e.Name, args)
			calls++
			if want.trap != "" {
				traps++
			}
			if want.String() != got.String() {
				t.Errorf("%s%v: wasmtime %v, lowered %v", e.Name, args, want, got)
			}
			if nat.mem == nil {
				continue
			}
			if wm, gm := nat.memory(), low.memory(); !bytes.Equal(wm, gm) {
				t.Fatalf("%s%v: heap differs (wasmtime %d bytes, lowered %d)", e.Name, args, len(wm), len(gm))
			}
		}
	}
	if full && (calls < 1000 || traps == 0 || traps == calls) {
		t.Fatalf("%d calls, %d traps: the corpus exercises too little", calls, traps)
	}
	t.Logf("%d calls compared, %d of them trapped", calls, traps)
}
