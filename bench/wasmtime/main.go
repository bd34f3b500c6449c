// Command wasmtime-compare runs one canister loop, compute.wasm's burn
// (engine/testdata), under canscope's engine as the product runs it
// (engine.New with the default configuration: compiler, metering with
// the replica's costs, slices) and under wasmtime, the replica's engine,
// unmetered, and prints the times (CPU time of the calling thread, the
// fastest of -runs) and their ratio.
//
// It is a module of its own so that the main module gains no cgo (wasmtime
// is a C library). `go test ./...` at the repository root does not enter
// it; run it from this directory:
//
//	cd bench/wasmtime && go run . -iterations 235000000
//
// 235 M iterations are the 10.1 G IC instructions of the issue's
// `canscope call compute burn`.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/canscope/canscope/engine"
)

func main() {
	iterations := flag.Uint("iterations", 235_000_000, "burn iterations per run (about 43 IC instructions each)")
	runs := flag.Int("runs", 3, "runs per engine; the fastest counts")
	wasmPath := flag.String("wasm", "../../engine/testdata/compute.wasm", "the compute canister")
	flag.Parse()
	if err := run(uint32(*iterations), *runs, *wasmPath); err != nil {
		fmt.Fprintln(os.Stderr, "wasmtime-compare:", err)
		os.Exit(1)
	}
}

func run(iterations uint32, runs int, wasmPath string) error {
	code, err := os.ReadFile(wasmPath)
	if err != nil {
		return err
	}
	arg := binary.LittleEndian.AppendUint32(nil, iterations)
	var replies [][]byte
	var best []time.Duration
	var instructions uint64
	for _, r := range []struct {
		name string
		run  func() ([]byte, time.Duration, error)
	}{
		{"canscope (metered)", func() ([]byte, time.Duration, error) {
			reply, d, n, err := runCanscope(code, arg, engine.Config{})
			instructions = n
			return reply, d, err
		}},
		{"canscope (unmetered)", func() ([]byte, time.Duration, error) {
			reply, d, _, err := runCanscope(code, arg, engine.Config{Unmetered: true})
			return reply, d, err
		}},
		{"wasmtime (unmetered)", func() ([]byte, time.Duration, error) { return runWasmtime(code, arg) }},
	} {
		fastest := time.Duration(1<<63 - 1)
		var reply []byte
		for range runs {
			rep, d, err := r.run()
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			fastest, reply = min(fastest, d), rep
		}
		fmt.Printf("%-22s %8.3f s CPU\n", r.name, fastest.Seconds())
		replies, best = append(replies, reply), append(best, fastest)
	}
	for i := range replies[1:] {
		if string(replies[i+1]) != string(replies[0]) {
			return fmt.Errorf("the engines disagree: replies %x and %x", replies[0], replies[i+1])
		}
	}
	fmt.Printf("IC instructions        %d (%.1f G/s metered)\n", instructions, float64(instructions)/best[0].Seconds()/1e9)
	fmt.Printf("metered canscope / unmetered wasmtime   %.2fx (target <= 1.3x)\n", best[0].Seconds()/best[2].Seconds())
	fmt.Printf("unmetered canscope / unmetered wasmtime %.2fx\n", best[1].Seconds()/best[2].Seconds())
	return nil
}

// timed runs f on a locked OS thread and returns the thread's CPU time,
// which the other work of a shared machine does not inflate as it does
// wall time.
func timed(f func() error) (time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var before, after unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &before); err != nil {
		return 0, err
	}
	err := f()
	if cerr := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &after); err == nil {
		err = cerr
	}
	return time.Duration(after.Nano() - before.Nano()), err
}

// runCanscope installs the module on a fresh canister and times one update
// call of burn through the engine, as `canscope call` runs it.
func runCanscope(code, arg []byte, cfg engine.Config) ([]byte, time.Duration, uint64, error) {
	ctx := context.Background()
	e, err := engine.New(cfg)
	if err != nil {
		return nil, 0, 0, err
	}
	defer e.Close(ctx)
	mod, err := e.Load(ctx, code)
	if err != nil {
		return nil, 0, 0, err
	}
	c, err := e.NewCanister(ctx, engine.Options{})
	if err != nil {
		return nil, 0, 0, err
	}
	defer c.Close(ctx)
	if res, err := c.Install(ctx, mod, nil); err != nil || res.Status != engine.StatusOK {
		return nil, 0, 0, fmt.Errorf("install: %v %v", res.Status, err)
	}
	var res engine.Result
	d, err := timed(func() (err error) {
		res, err = c.Update(ctx, "burn", arg)
		return err
	})
	if err != nil {
		return nil, 0, 0, err
	}
	if res.Status != engine.StatusOK {
		return nil, 0, 0, errors.New(res.ErrorText(c.ID()))
	}
	return res.Reply, d, res.Instructions, nil
}

// runWasmtime runs burn under wasmtime's default configuration (Cranelift,
// no fuel, no epochs) with the four System API functions it imports
// implemented over the call's argument and reply.
func runWasmtime(code, arg []byte) ([]byte, time.Duration, error) {
	eng := wasmtime.NewEngine()
	defer eng.Close()
	store := wasmtime.NewStore(eng)
	defer store.Close()
	mod, err := wasmtime.NewModule(eng, code)
	if err != nil {
		return nil, 0, err
	}
	defer mod.Close()
	var reply []byte
	memory := func(c *wasmtime.Caller) []byte { return c.GetExport("memory").Memory().UnsafeData(c) }
	l := wasmtime.NewLinker(eng)
	defer l.Close()
	for name, f := range map[string]any{
		"msg_arg_data_size": func() int32 { return int32(len(arg)) },
		"msg_arg_data_copy": func(c *wasmtime.Caller, dst, off, size int32) {
			copy(memory(c)[dst:dst+size], arg[off:off+size])
		},
		"msg_reply_data_append": func(c *wasmtime.Caller, src, size int32) {
			reply = append(reply, memory(c)[src:src+size]...)
		},
		"msg_reply": func() {},
	} {
		if err := l.FuncWrap("ic0", name, f); err != nil {
			return nil, 0, err
		}
	}
	inst, err := l.Instantiate(store, mod)
	if err != nil {
		return nil, 0, err
	}
	burn := inst.GetFunc(store, "canister_update burn")
	d, err := timed(func() error {
		_, err := burn.Call(store)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return reply, d, nil
}
