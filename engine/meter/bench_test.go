package meter

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// benchIterations is the mix loop length per call: 43n+9 IC instructions,
// about 45 million, long enough that call overhead does not matter.
const benchIterations = 1 << 20

func benchCall(b *testing.B, fn api.Function, counter *Counter) {
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if counter != nil {
			counter.Set(UpdateLimit)
		}
		if _, err := fn.Call(ctx, benchIterations); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompute runs the mixing loop uninstrumented on wazero's
// compiler: the baseline for BenchmarkMeteredCompute.
func BenchmarkCompute(b *testing.B) {
	ctx := context.Background()
	m := loadModule(b, "testdata/compute.wasm")
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, m.Encode())
	if err != nil {
		b.Fatal(err)
	}
	benchCall(b, mod.ExportedFunction("mix"), nil)
	b.ReportMetric(float64(43*benchIterations+9)*float64(b.N)/b.Elapsed().Seconds(), "IC-instr/s")
}

// BenchmarkMeteredCompute runs the same loop instrumented and reports the
// metered IC instructions per second (target: at least 10 billion) and the
// overhead over BenchmarkCompute (target: at most 1.2x).
func BenchmarkMeteredCompute(b *testing.B) {
	ctx := context.Background()
	m := loadModule(b, "testdata/compute.wasm")
	inst, _, err := Instrument(m)
	if err != nil {
		b.Fatal(err)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	defer rt.Close(ctx)
	if _, err := InstantiateHost(ctx, rt, nil); err != nil {
		b.Fatal(err)
	}
	mod, err := rt.Instantiate(ctx, inst.Encode())
	if err != nil {
		b.Fatal(err)
	}
	counter, err := NewCounter(mod, UpdateLimit)
	if err != nil {
		b.Fatal(err)
	}
	benchCall(b, mod.ExportedFunction("mix"), counter)
	if got, want := counter.Used(), uint64(43*benchIterations+9); got != want {
		b.Fatalf("used %d instructions per call, want %d", got, want)
	}
	b.ReportMetric(float64(counter.Used())*float64(b.N)/b.Elapsed().Seconds(), "IC-instr/s")
}
