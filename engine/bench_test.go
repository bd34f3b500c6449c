package engine

import (
	"context"
	"encoding/binary"
	"fmt"
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

// BenchmarkCompute: a pure wasm loop (no state change), compiler against
// interpreter, with and without instruction metering.
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
			arg := u32(100_000)
			for b.Loop() {
				res, err := c.Update(ctx, "burn", arg)
				if err != nil || res.Status != StatusOK {
					b.Fatal(err, res.Status)
				}
			}
		})
	}
}
