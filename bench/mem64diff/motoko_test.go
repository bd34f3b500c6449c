package mem64diff

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/ic0"
)

// host is a minimal System API for wasmtime, enough for the Motoko EOP
// fixtures' install, updates, queries and pre_upgrade (no calls, no
// cycles): the wasm64 signatures, the same environment as canscope's
// defaults (ic0.DefaultEnv), performance_counter 0 (wasmtime is not
// metered). It is a reference for the lowering, not a second System API:
// anything it does not serve traps with "not served".
type host struct {
	env    *ic0.Env
	arg    []byte
	reply  []byte
	stable []byte
	prints []string
	mem    func(*wasmtime.Caller) []byte
	counts *counters
}

// trapMessage is the text of an ic0.trap, as wasmtime returns it.
const trapPrefix = "ic0.trap: "

func (h *host) define(t *testing.T, linker *wasmtime.Linker, mod *wasmtime.Module) {
	t.Helper()
	for _, im := range mod.Imports() {
		if im.Module() != "ic0" {
			t.Fatalf("import %s.%s", im.Module(), *im.Name())
		}
		name := *im.Name()
		ft := im.Type().FuncType()
		impl := h.impl(name)
		err := linker.FuncNew("ic0", name, ft, func(c *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
			a := make([]uint64, len(args))
			for i, v := range args {
				if v.Kind() == wasmtime.KindI32 {
					a[i] = uint64(uint32(v.I32()))
				} else {
					a[i] = uint64(v.I64())
				}
			}
			res, trap := impl(c, a)
			if trap != nil {
				return nil, trap
			}
			out := make([]wasmtime.Val, len(ft.Results()))
			for i, r := range ft.Results() {
				if r.Kind() == wasmtime.KindI32 {
					out[i] = wasmtime.ValI32(int32(res))
				} else {
					out[i] = wasmtime.ValI64(int64(res))
				}
			}
			return out, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (h *host) impl(name string) func(*wasmtime.Caller, []uint64) (uint64, *wasmtime.Trap) {
	copyOut := func(data func() []byte) func(*wasmtime.Caller, []uint64) (uint64, *wasmtime.Trap) {
		return func(c *wasmtime.Caller, a []uint64) (uint64, *wasmtime.Trap) {
			d, mem := data(), h.mem(c)
			if a[1]+a[2] > uint64(len(d)) || a[0]+a[2] > uint64(len(mem)) {
				return 0, wasmtime.NewTrap("ic0." + name + " out of range")
			}
			copy(mem[a[0]:], d[a[1]:a[1]+a[2]])
			return 0, nil
		}
	}
	size := func(data func() []byte) func(*wasmtime.Caller, []uint64) (uint64, *wasmtime.Trap) {
		return func(*wasmtime.Caller, []uint64) (uint64, *wasmtime.Trap) { return uint64(len(data())), nil }
	}
	read := func(c *wasmtime.Caller, src, n uint64) ([]byte, *wasmtime.Trap) {
		mem := h.mem(c)
		if src+n > uint64(len(mem)) {
			return nil, wasmtime.NewTrap("ic0." + name + " heap out of range")
		}
		return bytes.Clone(mem[src : src+n]), nil
	}
	switch name {
	case "msg_arg_data_size":
		return size(func() []byte { return h.arg })
	case "msg_arg_data_copy":
		return copyOut(func() []byte { return h.arg })
	case "msg_caller_size":
		return size(func() []byte { return h.env.Caller })
	case "msg_caller_copy":
		return copyOut(func() []byte { return h.env.Caller })
	case "canister_self_size":
		return size(func() []byte { return h.env.CanisterID })
	case "canister_self_copy":
		return copyOut(func() []byte { return h.env.CanisterID })
	case "msg_reply_data_append":
		return func(c *wasmtime.Caller, a []uint64) (uint64, *wasmtime.Trap) {
			b, trap := read(c, a[0], a[1])
			h.reply = append(h.reply, b...)
			return 0, trap
		}
	case "msg_reply":
		return func(*wasmtime.Caller, []uint64) (uint64, *wasmtime.Trap) { return 0, nil }
	case "debug_print":
		return func(c *wasmtime.Caller, a []uint64) (uint64, *wasmtime.Trap) {
			b, _ := read(c, a[0], a[1])
			h.prints = append(h.prints, string(b))
			return 0, nil
		}
	case "trap":
		return func(c *wasmtime.Caller, a []uint64) (uint64, *wasmtime.Trap) {
			b, _ := read(c, a[0], a[1])
			return 0, wasmtime.NewTrap(trapPrefix + string(b))
		}
	case "time":
		return func(*wasmtime.Caller, []uint64) (uint64, *wasmtime.Trap) { return h.env.Time, nil }
	case "performance_counter":
		return func(*wasmtime.Caller, []uint64) (uint64, *wasmtime.Trap) {
			if len(h.counts.values) == 0 {
				return 0, wasmtime.NewTrap("performance_counter: canscope's run called it fewer times")
			}
			v := h.counts.values[0]
			h.counts.values = h.counts.values[1:]
			return v, nil
		}
	case "msg_reject_code", "msg_reject_msg_size", "is_controller", "global_timer_set":
		return func(*wasmtime.Caller, []uint64) (uint64, *wasmtime.Trap) { return 0, nil }
	case "canister_status":
		return func(*wasmtime.Caller, []uint64) (uint64, *wasmtime.Trap) { return 1, nil } // running
	case "stable64_size":
		return func(*wasmtime.Caller, []uint64) (uint64, *wasmtime.Trap) { return uint64(len(h.stable) / 65536), nil }
	case "stable64_grow":
		return func(_ *wasmtime.Caller, a []uint64) (uint64, *wasmtime.Trap) {
			old := uint64(len(h.stable) / 65536)
			h.stable = append(h.stable, make([]byte, a[0]*65536)...)
			return old, nil
		}
	case "stable64_write":
		return func(c *wasmtime.Caller, a []uint64) (uint64, *wasmtime.Trap) {
			b, trap := read(c, a[1], a[2])
			if trap == nil && a[0]+a[2] <= uint64(len(h.stable)) {
				copy(h.stable[a[0]:], b)
			}
			return 0, trap
		}
	case "stable64_read":
		return func(c *wasmtime.Caller, a []uint64) (uint64, *wasmtime.Trap) {
			mem := h.mem(c)
			if a[1]+a[2] > uint64(len(h.stable)) || a[0]+a[2] > uint64(len(mem)) {
				return 0, wasmtime.NewTrap("ic0.stable64_read out of range")
			}
			copy(mem[a[0]:], h.stable[a[1]:a[1]+a[2]])
			return 0, nil
		}
	}
	return func(*wasmtime.Caller, []uint64) (uint64, *wasmtime.Trap) {
		return 0, wasmtime.NewTrap("ic0." + name + " is not served by the differential host")
	}
}

// counters records the performance_counter results canscope's metered run
// returned, which wasmtime's host replays in the same order: Motoko keeps
// them in its heap (its instruction statistics), and an unmetered
// reference has no count of its own.
type counters struct{ values []uint64 }

// SystemCall records performance_counter's results.
func (c *counters) SystemCall(name string, _, results []uint64) {
	if name == "performance_counter" && len(results) == 1 {
		c.values = append(c.values, results[0])
	}
}

// motokoRun is a canister fixture on wasmtime.
type motokoRun struct {
	h     *host
	store *wasmtime.Store
	inst  *wasmtime.Instance
	mem   *wasmtime.Memory
}

func newMotoko(t *testing.T, code []byte, counts *counters) *motokoRun {
	t.Helper()
	eng := newEngine()
	store := wasmtime.NewStore(eng)
	mod, err := wasmtime.NewModule(eng, code)
	if err != nil {
		t.Fatal(err)
	}
	r := &motokoRun{h: &host{env: ic0.DefaultEnv(), counts: counts}, store: store}
	memName := ""
	for _, e := range mod.Exports() {
		if e.Type().MemoryType() != nil {
			memName = e.Name()
		}
	}
	r.h.mem = func(c *wasmtime.Caller) []byte { return c.GetExport(memName).Memory().UnsafeData(c) }
	linker := wasmtime.NewLinker(eng)
	r.h.define(t, linker, mod)
	// Instantiating runs the start function, as canscope's install does.
	if r.inst, err = linker.Instantiate(store, mod); err != nil {
		t.Fatal(err)
	}
	r.mem = r.inst.GetExport(store, memName).Memory()
	return r
}

// run calls export with arg and returns the reply or the trap's text.
// A trap rolls the heap back, as on the IC (a grown heap keeps its size:
// no fixture grows and traps in one message).
func (r *motokoRun) run(export string, arg []byte) ([]byte, string) {
	r.h.arg, r.h.reply = arg, nil
	saved := bytes.Clone(r.mem.UnsafeData(r.store))
	if _, err := r.inst.GetFunc(r.store, export).Call(r.store); err != nil {
		copy(r.mem.UnsafeData(r.store), saved)
		// wasmtime wraps the host's trap text in its backtrace.
		msg := err.Error()
		if _, m, ok := strings.Cut(msg, trapPrefix); ok {
			msg, _, _ = strings.Cut(m, "\n")
		}
		return nil, msg
	}
	return r.h.reply, ""
}

func candidNat(n byte) []byte { return []byte{'D', 'I', 'D', 'L', 0, 1, 0x7d, n} }

var emptyArgs = []byte("DIDL\x00\x00")

// TestCanisterFixtures runs each wasm64 canister fixture: the Motoko
// EOP ones (moc 4.10.0) and traps64.wat,
// through canscope's engine (engine.New, metered, as the product runs
// it) and on wasmtime, and requires the same replies and traps and, after
// the updates, the same heap.
func TestCanisterFixtures(t *testing.T) {
	ctx := context.Background()
	type step struct {
		export string // without "canister_update "/"canister_query "
		kind   string // update, query, pre_upgrade
		arg    []byte
	}
	motoko := []step{
		{"inc", "update", candidNat(5)},
		{"inc", "update", candidNat(7)},
		{"get", "query", emptyArgs},
		{"", "pre_upgrade", nil},
	}
	// engine/testdata/traps64.wat; its grow_past_4g is left out: the IC
	// grows that heap past 4 GiB, canscope refuses to run it (its own
	// test, engine/mem64_test.go).
	var traps64 []step
	for _, m := range []string{"touch", "load_wide", "touch", "store_wide", "load_edge", "load_past",
		"fill_wide", "reply_wide", "arg_wide", "touch"} {
		traps64 = append(traps64, step{m, "update", nil})
	}
	traps64 = append(traps64, step{"echo", "query", []byte("wasm64")})
	// engine/testdata/compute64.wat: the benchmark's loops, heap and
	// registers, 5,000 iterations each.
	iters := []byte{0x88, 0x13, 0, 0}
	compute64 := []step{{"run", "update", iters}, {"run", "update", iters}, {"burn", "update", iters},
		{"checksum", "query", nil}, {"burn_query", "query", iters}}
	stepsOf := map[string][]step{"traps64.wasm": traps64, "compute64.wasm": compute64}
	_, fixtures := wasm64Fixtures(t)
	for _, path := range fixtures {
		steps, ok := stepsOf[filepath.Base(path)]
		if strings.HasPrefix(filepath.Base(path), "eop_") {
			steps, ok = motoko, true
		}
		if !ok {
			t.Errorf("wasm64 fixture %s has no steps here: add them", path)
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			code, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			e, err := engine.New(engine.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(ctx)
			m, err := e.Load(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			counts := &counters{}
			c, err := e.NewCanister(ctx, engine.Options{Recorder: counts})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			if res, err := c.Install(ctx, m, emptyArgs); err != nil || res.Trap != nil {
				t.Fatalf("install: %v %v", err, res.Trap)
			}
			ref := newMotoko(t, code, counts)
			if ref.inst.GetFunc(ref.store, "canister_init") != nil {
				if _, trap := ref.run("canister_init", emptyArgs); trap != "" {
					t.Fatalf("wasmtime init: %s", trap)
				}
			}
			compareHeap(t, "after install", c, ref)
			compared := 0
			for _, s := range steps {
				var res engine.Result
				export := map[string]string{"update": "canister_update ", "query": "canister_query "}[s.kind] + s.export
				if s.kind == "pre_upgrade" {
					export = "canister_pre_upgrade"
				}
				if !m.HasExport(export) {
					continue // a Motoko fixture without this method (eop_diff_*: no inc)
				}
				compared++
				switch s.kind {
				case "update":
					res, err = c.Update(ctx, s.export, s.arg)
				case "query":
					res, err = c.Query(ctx, s.export, s.arg)
				case "pre_upgrade":
					// Upgrade to the same module: its pre_upgrade runs first.
					res, err = c.Upgrade(ctx, nil, nil, engine.UpgradeOptions{})
				}
				if err != nil {
					t.Fatalf("%s: %v", export, err)
				}
				var saved []byte
				if s.kind == "query" {
					saved = bytes.Clone(ref.mem.UnsafeData(ref.store))
				}
				want, wantTrap := ref.run(export, s.arg)
				if saved != nil {
					// The IC discards a query's changes, as canscope does.
					copy(ref.mem.UnsafeData(ref.store), saved)
				}
				got, gotTrap := res.Reply, ""
				if res.Trap != nil {
					gotTrap = res.Trap.Message
				}
				if s.kind == "pre_upgrade" {
					// Only the trap is compared: canscope goes on to
					// post_upgrade, wasmtime ran pre_upgrade alone.
					if (wantTrap == "") != (gotTrap == "") || !strings.Contains(gotTrap, wantTrap) {
						t.Errorf("pre_upgrade: wasmtime trap %q, canscope %q", wantTrap, gotTrap)
					}
					continue
				}
				if !bytes.Equal(want, got) || (wantTrap == "") != (gotTrap == "") {
					// The minimal host's trap texts are its own; whether
					// and where it traps, and the replies, must agree.
					t.Errorf("%s: wasmtime %x %q, canscope %x %q", export, want, wantTrap, got, gotTrap)
				}
				if s.kind == "update" {
					compareHeap(t, "after "+export, c, ref)
				}
			}
			if compared < 2 {
				t.Errorf("%d steps compared: the fixture exports too few of them", compared)
			}
		})
	}
}

// compareHeap requires canscope's heap to equal wasmtime's memory.
func compareHeap(t *testing.T, when string, c *engine.Canister, ref *motokoRun) {
	t.Helper()
	want := ref.mem.UnsafeData(ref.store)
	if c.HeapSize() != uint64(len(want)) {
		t.Fatalf("%s: heap of %d bytes, wasmtime's %d", when, c.HeapSize(), len(want))
	}
	got := make([]byte, len(want))
	if err := c.ReadHeap(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: heap differs: %s", when, firstDiff(got, want))
	}
}

func firstDiff(got, want []byte) string {
	n := 0
	first := -1
	for i := range got {
		if got[i] != want[i] {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	return fmt.Sprintf("%d bytes differ, the first at %#x: canscope %x, wasmtime %x", n, first,
		got[first:min(first+16, len(got))], want[first:min(first+16, len(want))])
}
