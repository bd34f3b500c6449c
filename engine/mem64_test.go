package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
)

// TestWasm64OutOfRange: out-of-range 64-bit addresses trap as on the
// replica (testdata/traps64.wat): in wasm code with the wasm32 heap trap
// (IC0502 "heap out of bounds", as traps.wasm's heap_oob), in System API
// arguments with the replica's range check text and its 64-bit values;
// every trap rolls the message back. A grow the IC would allow past 4 GiB
// stops the run with canscope's limit instead of failing with -1.
func TestWasm64OutOfRange(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "traps64.wasm"), nil)

	// The wasm32 verdict to match: traps.wasm's heap_oob.
	c32 := installed(t, e, load(t, e, "traps.wasm"), nil)
	res32, err := c32.Update(ctx, "heap_oob", nil)
	if err != nil || res32.Trap == nil {
		t.Fatalf("wasm32 heap_oob: %v %+v", err, res32.Trap)
	}

	touches := uint64(0)
	touch := func() {
		t.Helper()
		res, err := c.Update(ctx, "touch", nil)
		mustOK(t, res, err)
		touches++
		if got := binary.LittleEndian.Uint64(res.Reply); got != touches {
			t.Fatalf("touch replied %d, want %d: a trapped message left its change", got, touches)
		}
	}
	touch()
	for _, tt := range []struct {
		method  string
		code    ic0.ErrorCode
		message string
	}{
		{"load_wide", res32.Trap.Code, "heap out of bounds"},
		{"store_wide", res32.Trap.Code, "heap out of bounds"},
		{"load_past", res32.Trap.Code, "heap out of bounds"},
		{"fill_wide", res32.Trap.Code, "heap out of bounds"},
		{"reply_wide", ic0.CodeCanisterContractViolation, "ic0.msg_reply_data_append: src=4294967296 + length=8 exceeds the slice size=65536"},
		{"arg_wide", ic0.CodeCanisterContractViolation, "ic0.msg_arg_data_copy payload: src=4294967296 + length=1 exceeds the slice size=0"},
	} {
		res, err := c.Update(ctx, tt.method, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.method, err)
		}
		if res.Trap == nil || res.Trap.Code != tt.code || !strings.Contains(res.Trap.Message, tt.message) {
			t.Errorf("%s: trap %+v, want %s %q", tt.method, res.Trap, tt.code, tt.message)
		}
		if tt.code == res32.Trap.Code && res.Trap.Reason != res32.Trap.Reason {
			t.Errorf("%s: reason %q, wasm32's %q", tt.method, res.Trap.Reason, res32.Trap.Reason)
		}
		touch()
	}
	res, err := c.Update(ctx, "load_edge", nil)
	mustOK(t, res, err)

	res, err = c.Query(ctx, "echo", []byte("wasm64"))
	mustOK(t, res, err)
	if string(res.Reply) != "wasm64" {
		t.Errorf("echo replied %q", res.Reply)
	}

	_, err = c.Update(ctx, "grow_past_4g", nil)
	var hl *meter.HeapLimitError
	if !errors.As(err, &hl) || !strings.Contains(err.Error(), "canscope runs wasm64 heaps up to 4 GiB") {
		t.Fatalf("grow past 4 GiB: %v, want canscope's limit", err)
	}
	touch() // rolled back, still running
}

// BenchmarkComputeWasm64 runs the same loops in wasm32 (compute.wasm) and
// wasm64 (compute64.wasm, lowered to 32-bit memory) through engine.New
// and Update, metered as the product runs them: run is the heap loop
// (one i64 load and store per iteration, 2^20 iterations), burn the
// register loop (no memory traffic). Compare cpu-ns/op between the modes
// for the lowering's cost; IC-instr/op differs by the replica's wasm64
// load/store cost (2 instead of 1).
func BenchmarkComputeWasm64(b *testing.B) {
	ctx := context.Background()
	arg := u32(1 << 20)
	replies := map[string][]byte{}
	for _, method := range []string{"run", "burn"} {
		for _, mod := range []string{"compute.wasm", "compute64.wasm"} {
			b.Run(method+"/"+strings.TrimSuffix(mod, ".wasm"), func(b *testing.B) {
				e := newEngine(b, Config{})
				c := installed(b, e, load(b, e, mod), nil)
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				start, cpuOK := threadCPU()
				n := 0
				var res Result
				var first []byte
				for b.Loop() {
					var err error
					if res, err = c.Update(ctx, method, arg); err != nil || res.Status != StatusOK {
						b.Fatal(err, res.Status)
					}
					if n == 0 {
						first = res.Reply
					}
					n++
				}
				// Fresh canisters: the first call replies the same in both
				// modes (run's accumulator then moves on per call).
				if prev, ok := replies[method]; ok && string(prev) != string(first) {
					b.Errorf("%s replied %x in wasm64, %x in wasm32", method, first, prev)
				}
				replies[method] = first
				b.ReportMetric(float64(res.Instructions), "IC-instr/op")
				if end, ok := threadCPU(); cpuOK && ok && n > 0 {
					b.ReportMetric(float64(end-start)/float64(n), "cpu-ns/op")
				}
			})
		}
	}
}

// TestWasm64DirtyPageOverhead: a wasm64 canister pays four times the
// dirty page overhead per heap page it writes, as the replica charges
// (WASM64_DIRTY_PAGE_OVERHEAD_MULTIPLIER).
func TestWasm64DirtyPageOverhead(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	used := func(opts Options) (uint64, uint64) {
		c, err := e.NewCanister(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(ctx) })
		res, err := c.Install(ctx, load(t, e, "traps64.wasm"), nil)
		mustOK(t, res, err)
		res, err = c.Update(ctx, "touch", nil)
		mustOK(t, res, err)
		pages := uint64(0)
		for _, p := range res.Phases {
			pages += p.DirtyHeapPages
		}
		return res.Instructions, pages
	}
	with, pages := used(Options{})
	without, _ := used(Options{Limits: meter.Limits{DirtyPageOverhead: meter.NoCharge}})
	if pages == 0 || with-without != pages*4*meter.DirtyPageOverhead {
		t.Fatalf("%d dirty heap pages cost %d instructions, want %d", pages, with-without, pages*4*meter.DirtyPageOverhead)
	}
}
