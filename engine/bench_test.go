package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"
)

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// BenchmarkUpdateSmall: one counter update on a fresh canister, including
// commit and the changed-page report.
func BenchmarkUpdateSmall(b *testing.B) {
	ctx := context.Background()
	e := newEngine(b, Config{})
	c := installed(b, e, load(b, e, "counter.wasm"), nil)
	arg := u64(1)
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.Update(ctx, "inc", arg)
		if err != nil || res.Status != StatusOK {
			b.Fatal(err, res.Status)
		}
	}
}

// BenchmarkUpdateOnLargeHeap: a 1 GiB heap full of data; each update
// writes n pages spread over it. The cost must follow n, not the heap
// size (a whole-heap copy costs ~155 ms here).
func BenchmarkUpdateOnLargeHeap(b *testing.B) {
	b.Run("cow", func(b *testing.B) { benchmarkLargeHeap(b, Config{}, []uint32{10, 100, 1000}) })
	// The portable heap compares and copies: it shows the cost the
	// copy-on-write heap avoids.
	b.Run("portable", func(b *testing.B) { benchmarkLargeHeap(b, Config{PortableHeap: true}, []uint32{10}) })
}

func benchmarkLargeHeap(b *testing.B, cfg Config, touched []uint32) {
	ctx := context.Background()
	e := newEngine(b, cfg)
	c := installed(b, e, load(b, e, "core/bigheap.wasm"), u32(16384)) // 1 GiB
	if c.HeapSize() != 1<<30 {
		b.Fatalf("heap %d bytes, want 1 GiB", c.HeapSize())
	}
	for _, n := range touched {
		for _, method := range []string{"touch", "touch_trap"} {
			b.Run(fmt.Sprintf("%s/pages=%d", method, n), func(b *testing.B) {
				arg := u32(n)
				for b.Loop() {
					res, err := c.Update(ctx, method, arg)
					if err != nil {
						b.Fatal(err)
					}
					want := StatusOK
					if method == "touch_trap" {
						want = StatusTrapped
					}
					if res.Status != want {
						b.Fatalf("status %s, want %s", res.Status, want)
					}
					// n touched pages, plus page 0 where the argument is
					// copied (the portable heap compares contents and
					// finds it unchanged).
					if got := len(res.HeapPagesChanged); want == StatusOK && got != int(n) && got != int(n)+1 {
						b.Fatalf("changed %d pages, want %d", got, n+1)
					}
				}
			})
		}
	}
}

// BenchmarkCompute: compute.wasm's burn loop (2^20 iterations, about 45 M
// IC instructions per call) as the product runs it, through engine.New and
// Update: compiler with metering and slices (the default), compiler
// unmetered (slices only) and the interpreter. It reports IC instructions
// per second of wall and of the calling thread's CPU time, which a shared
// machine does not inflate. bench/wasmtime compares the same loop with
// wasmtime.
func BenchmarkCompute(b *testing.B) {
	for _, mode := range []struct {
		name string
		cfg  Config
	}{
		{"compiler", Config{}},
		{"compiler-unmetered", Config{Unmetered: true}},
		{"interpreter", Config{Interpreter: true}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			ctx := context.Background()
			e := newEngine(b, mode.cfg)
			c := installed(b, e, load(b, e, "compute.wasm"), nil)
			arg := u32(1 << 20)
			// The metered count of one call, also for the unmetered modes.
			perCall := uint64(0)
			{
				me := newEngine(b, Config{})
				res, err := installed(b, me, load(b, me, "compute.wasm"), nil).Update(ctx, "burn", arg)
				mustOK(b, res, err)
				perCall = res.Instructions
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			start, cpuOK := threadCPU()
			n := 0
			for b.Loop() {
				res, err := c.Update(ctx, "burn", arg)
				if err != nil || res.Status != StatusOK {
					b.Fatal(err, res.Status)
				}
				n++
			}
			b.ReportMetric(float64(perCall)*float64(n)/b.Elapsed().Seconds(), "IC-instr/s")
			if end, ok := threadCPU(); cpuOK && ok && n > 0 {
				perOp := float64(end-start) / float64(n)
				b.ReportMetric(perOp, "cpu-ns/op")
				b.ReportMetric(float64(perCall)/perOp*1e9, "IC-instr/cpu-s")
			}
		})
	}
}
