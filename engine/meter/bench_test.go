package meter

import (
	"context"
	"runtime"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// benchIterations is the mix loop length per call: 43n+9 IC instructions,
// about 45 million, long enough that call overhead does not matter.
const benchIterations = 1 << 20

// benchCall calls fn(benchIterations) b.N times on one OS thread and
// reports the thread's CPU time per call ("cpu-ns/op") where available,
// and the IC instructions per second of wall and of CPU time.
func benchCall(b *testing.B, fn api.Function, counter *Counter) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ctx := context.Background()
	start, cpuOK := threadCPU()
	n := 0
	b.ResetTimer()
	for b.Loop() {
		if counter != nil {
			counter.Set(UpdateLimit)
		}
		if _, err := fn.Call(ctx, benchIterations); err != nil {
			b.Fatal(err)
		}
		n++
	}
	const perCall = 43*benchIterations + 9 // compute.wat's count for mix(n)
	b.ReportMetric(perCall*float64(n)/b.Elapsed().Seconds(), "IC-instr/s")
	if end, ok := threadCPU(); cpuOK && ok && n > 0 {
		perOp := float64(end-start) / float64(n)
		b.ReportMetric(perOp, "cpu-ns/op")
		b.ReportMetric(perCall/perOp*1e9, "IC-instr/cpu-s")
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
	var counter *Counter
	if _, err := InstantiateHost(ctx, rt, func(context.Context, api.Module) error { counter.Refill(); return nil }); err != nil {
		b.Fatal(err)
	}
	mod, err := rt.Instantiate(ctx, inst.Encode())
	if err != nil {
		b.Fatal(err)
	}
	counter, err = NewCounter(mod, UpdateLimit)
	if err != nil {
		b.Fatal(err)
	}
	benchCall(b, mod.ExportedFunction("mix"), counter)
	if got, want := counter.Used(), uint64(43*benchIterations+9); got != want {
		b.Fatalf("used %d instructions per call, want %d", got, want)
	}
}
