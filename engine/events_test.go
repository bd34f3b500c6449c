package engine

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/wasm"
)

// countingSink checks the events of traced executions as engine/trace
// reads them: records delimited from the end, calls and returns balanced,
// instruction counts never going back.
type countingSink struct {
	t                    *testing.T
	mod                  *Module
	enters, exits, grows int
	depth                int
	last                 uint64
	countdown            int64
	flushes              int
	// skip counts every event instead of recording it.
	skip bool
	ring *EventRing
}

func (s *countingSink) BeginEvents(mod *Module, _ api.Module, ring *EventRing) {
	s.mod, s.depth, s.last = mod, 0, 0
	if s.countdown > 0 {
		ring.SetCountdown(s.countdown)
	}
	if s.skip {
		ring.SetSkip(math.MaxInt64)
	}
	s.ring = ring
}

func (s *countingSink) Events(ws []uint64, counts Counts) int64 {
	s.flushes++
	var ends []int
	for i := len(ws); i >= 2; {
		ends = append(ends, i)
		code := ws[i-2]
		params, results, err := s.mod.FuncType(uint32(code >> 2))
		n := 2 // a grow's new and old size
		switch code & 3 {
		case meter.EventEnter:
			n = len(params)
		case meter.EventExit:
			n = len(results)
		}
		if code&3 != meter.EventGrow && err != nil {
			s.t.Fatalf("record of function %d: %v", code>>2, err)
		}
		i -= 2 + n
		if i < 0 {
			s.t.Fatalf("records do not delimit: %d words left", i+2+n)
		}
	}
	for k := len(ends) - 1; k >= 0; k-- {
		e := ends[k]
		at := counts.At(int64(ws[e-1]))
		if at < s.last {
			s.t.Errorf("instructions went back from %d to %d", s.last, at)
		}
		s.last = at
		switch ws[e-2] & 3 {
		case meter.EventEnter:
			s.enters++
			s.depth++
		case meter.EventExit:
			s.exits++
			s.depth--
		default:
			s.grows++
		}
	}
	return s.countdown
}

// EndEvents adds the events a skipping sink's execution counted.
func (s *countingSink) EndEvents(error) {
	if s.skip {
		left := s.ring.Skipped()
		s.enters += int(math.MaxInt64 - left[0])
		s.exits += int(math.MaxInt64 - left[1])
		s.grows += int(math.MaxInt64 - left[2])
	}
}

// TestCountedAsRecorded: an execution whose events are counted
// (EventRing.SetSkip) counts the same entries, exits and grows as one
// that records them, on the incident canister's upgrade (a million calls)
// and the Motoko canister's.
func TestCountedAsRecorded(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	for _, tt := range []struct {
		file   string
		method string
		arg    []byte
	}{
		{"incident.wasm", "add_chunks", u64(16)},
		{"motoko_v1.wasm", "add", []byte("DIDL\x00\x02\x7d\x71\x05\x02hi")},
	} {
		code, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		tctx := WithTracing(ctx)
		mod, err := e.Load(tctx, code)
		if err != nil {
			t.Fatal(err)
		}
		var got [2]countingSink
		for i, skip := range []bool{false, true} {
			sink := &countingSink{t: t, skip: skip}
			c, err := e.NewCanister(tctx, Options{})
			if err != nil {
				t.Fatal(err)
			}
			ectx := WithEvents(tctx, sink)
			didl := []byte("DIDL\x00\x00")
			if res, err := c.Install(ectx, mod, didl); err != nil || res.Status != StatusOK {
				t.Fatalf("install: %v %v", err, res.Trap)
			}
			if res, err := c.Update(ectx, tt.method, tt.arg); err != nil || res.Status != StatusOK {
				t.Fatalf("%s: %v %v", tt.method, err, res.Trap)
			}
			if res, err := c.Upgrade(ectx, nil, didl, UpgradeOptions{}); err != nil || res.Status != StatusOK {
				t.Fatalf("upgrade: %v %v", err, res.Trap)
			}
			c.Close(ctx)
			got[i] = *sink
		}
		rec, cnt := got[0], got[1]
		if rec.enters < 100 || rec.grows == 0 || cnt.enters != rec.enters || cnt.exits != rec.exits || cnt.grows != rec.grows {
			t.Errorf("%s: recorded %d entries, %d exits, %d grows; counted %d, %d, %d", tt.file, rec.enters, rec.exits, rec.grows, cnt.enters, cnt.exits, cnt.grows)
		}
	}
}

// TestTracedCountsAsPlain: the traced variant of a module (WithTracing)
// replies, traps and counts exactly like the plain one, its trap names the
// same function with the same backtrace (also without a name section),
// and every call it makes is recorded with a matching return.
func TestTracedCountsAsPlain(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	type msg struct {
		update bool
		method string
		arg    []byte
	}
	stripped := func(t *testing.T, name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := wasm.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		m.SetCustom("name", nil)
		return m.Encode()
	}
	read := func(t *testing.T, name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tt := range []struct {
		name      string
		code      func(t *testing.T) []byte
		msgs      []msg
		upgrade   bool
		countdown int64
	}{
		{"incident", func(t *testing.T) []byte { return read(t, "incident.wasm") }, []msg{{true, "add_chunks", u64(2)}}, true, 0},
		{"incident every event", func(t *testing.T) []byte { return read(t, "incident.wasm") }, []msg{{true, "add_chunks", u64(1)}}, true, 1},
		{"rust ledger", func(t *testing.T) []byte { return read(t, "rust_ledger.wasm") }, []msg{{true, "insert", candidNat64(300)}, {false, "checksum", nil}, {true, "fail", nil}}, true, 0},
		{"motoko", func(t *testing.T) []byte { return read(t, "motoko_v1.wasm") }, []msg{{true, "add", []byte("DIDL\x00\x02\x7d\x71\x05\x02hi")}}, true, 0},
		{"motoko wasm64", func(t *testing.T) []byte { return read(t, "eop_counter.wasm") }, []msg{{true, "inc", candidNat(5)}, {false, "get", []byte("DIDL\x00\x00")}}, false, 0},
		{"traps unnamed", func(t *testing.T) []byte { return stripped(t, "traps.wasm") }, []msg{{true, "unreachable", nil}, {true, "div_zero", nil}, {true, "heap_oob", nil}, {true, "ic0_trap", nil}}, false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code := tt.code(t)
			plainMod, err := e.Load(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			tctx := WithTracing(ctx)
			tracedMod, err := e.Load(tctx, code)
			if err != nil {
				t.Fatal(err)
			}
			didl := []byte("DIDL\x00\x00")
			plain := installed(t, e, plainMod, didl)
			traced, err := e.NewCanister(tctx, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer traced.Close(ctx)
			sink := &countingSink{t: t, countdown: tt.countdown}
			ectx := WithEvents(tctx, sink)
			if res, err := traced.Install(ectx, tracedMod, didl); err != nil || res.Status != StatusOK {
				t.Fatalf("install traced: %v %v", err, res.Trap)
			}
			run := func(c *Canister, ctx context.Context, m msg) (Result, error) {
				if m.update {
					return c.Update(ctx, m.method, m.arg)
				}
				return c.Query(ctx, m.method, m.arg)
			}
			same := func(what string, p, tr Result) {
				t.Helper()
				if p.Status != tr.Status || p.Instructions != tr.Instructions || string(p.Reply) != string(tr.Reply) || !reflect.DeepEqual(p.Trap, tr.Trap) || !reflect.DeepEqual(p.Phases, tr.Phases) {
					t.Errorf("%s: plain %s %d instructions %+v, traced %s %d instructions %+v", what, p.Status, p.Instructions, p.Trap, tr.Status, tr.Instructions, tr.Trap)
				}
				if p.Status == StatusOK && sink.depth != 0 {
					t.Errorf("%s: %d calls without their return", what, sink.depth)
				}
			}
			for _, m := range tt.msgs {
				p, err := run(plain, ctx, m)
				if err != nil {
					t.Fatal(err)
				}
				tr, err := run(traced, ectx, m)
				if err != nil {
					t.Fatal(err)
				}
				same(m.method, p, tr)
			}
			if tt.upgrade {
				p, err := plain.Upgrade(ctx, nil, didl, UpgradeOptions{})
				if err != nil {
					t.Fatal(err)
				}
				tr, err := traced.Upgrade(ectx, nil, didl, UpgradeOptions{})
				if err != nil {
					t.Fatal(err)
				}
				same("upgrade", p, tr)
			}
			if sink.enters == 0 || sink.enters < sink.exits {
				t.Errorf("%d calls, %d returns recorded", sink.enters, sink.exits)
			}
			if tt.countdown == 1 && sink.flushes < sink.enters+sink.exits {
				t.Errorf("countdown 1: %d flushes for %d events", sink.flushes, sink.enters+sink.exits)
			}
		})
	}
}

// deepModule is a canister whose update "run" recurses 16 calls deep per
// byte of its argument (a non-tail recursion of one i64 parameter), then
// replies.
func deepModule() []byte {
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	section := func(id byte, payload ...byte) []byte {
		return append([]byte{id, byte(len(payload))}, payload...)
	}
	var b []byte
	b = append(b, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)
	b = append(b, section(1, 3, 0x60, 0, 0, 0x60, 0, 1, 0x7f, 0x60, 1, 0x7e, 1, 0x7e)...)
	imp := []byte{2}
	imp = append(append(append(imp, str("ic0")...), str("msg_arg_data_size")...), 0x00, 1)
	imp = append(append(append(imp, str("ic0")...), str("msg_reply")...), 0x00, 0)
	b = append(b, section(2, imp...)...)
	b = append(b, section(3, 2, 2, 0)...)
	b = append(b, section(5, 1, 0x00, 1)...)
	b = append(b, section(7, append(append([]byte{1}, str("canister_update run")...), 0x00, 3)...)...)
	deep := []byte{0, 0x20, 0, 0x50, 0x04, 0x7e, 0x42, 0, 0x05, 0x20, 0, 0x42, 1, 0x7d, 0x10, 2, 0x42, 1, 0x7c, 0x0b, 0x0b}
	run := []byte{0, 0x10, 0, 0xad, 0x42, 16, 0x7e, 0x10, 2, 0x1a, 0x10, 1, 0x0b}
	code := append([]byte{2, byte(len(deep))}, deep...)
	code = append(append(code, byte(len(run))), run...)
	return append(b, section(10, code...)...)
}

// TestTracedRecursionDepth: a recursion as deep as the plain module goes
// without overflowing the stack does not overflow traced either when its
// events are counted, and 99% of it does not when they are recorded (the
// recording code adds no frames).
func TestTracedRecursionDepth(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	code := deepModule()
	plainMod, err := e.Load(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	plain := installed(t, e, plainMod, nil)
	overflows := func(c *Canister, ctx context.Context, n int) bool {
		t.Helper()
		res, err := c.Update(ctx, "run", make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != StatusOK && (res.Trap == nil || !strings.Contains(res.Trap.Message, stackOverflow)) {
			t.Fatalf("depth %d: %v %+v", 16*n, res.Status, res.Trap)
		}
		return res.Status != StatusOK
	}
	// The deepest argument that does not overflow plainly: lo passes, hi
	// overflows.
	lo, hi := 1<<14, 1<<17
	if overflows(plain, ctx, lo) || !overflows(plain, ctx, hi) {
		t.Fatalf("depth %d overflows, or %d does not", 16*lo, 16*hi)
	}
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; overflows(plain, ctx, mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	tctx := WithTracing(ctx)
	tracedMod, err := e.Load(tctx, code)
	if err != nil {
		t.Fatal(err)
	}
	traced, err := e.NewCanister(tctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer traced.Close(ctx)
	if res, err := traced.Install(tctx, tracedMod, nil); err != nil || res.Status != StatusOK {
		t.Fatalf("install traced: %v %v", err, res.Trap)
	}
	// Counted, the frames are the plain ones. Recorded, the deepest call
	// records into the ring and may call the host from there: that takes
	// stack too, but not per frame (measured: 1,512,000 calls recorded,
	// 1,514,336 plain; a wrapper per function halved the depth).
	if overflows(traced, WithEvents(tctx, &countingSink{t: t, skip: true}), lo) {
		t.Errorf("depth %d, the deepest plain, overflows traced and counted", 16*lo)
	}
	if n := lo * 99 / 100; overflows(traced, WithEvents(tctx, &countingSink{t: t}), n) {
		t.Errorf("depth %d, 99%% of the deepest plain, overflows traced and recorded", 16*n)
	}
	t.Logf("deepest plain recursion: %d calls", 16*lo)
}
