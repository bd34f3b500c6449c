package trace

import (
	"context"
	"errors"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/ic0"
)

// TestEntryPoints traces the system entry points issue 20 lists on the
// entry fixture: a timer only when due, the heartbeat, inspect_message
// refusing an update, and cycles attached to one.
func TestEntryPoints(t *testing.T) {
	f := newFixture(t)
	armed := f.install(t, "../testdata/entry.wasm", call{"arm", nil})

	// The timer is armed for time + 60 s: not due at the snapshot's time.
	_, err := f.tracer.Open(context.Background(), armed.ID, Request{Timer: true})
	var notDue *engine.TimerNotDueError
	if !errors.As(err, &notDue) || notDue.Deadline <= notDue.Now {
		t.Fatalf("timer before its deadline: %v, want a TimerNotDueError", err)
	}
	late := func(env *ic0.Env) { env.Time = notDue.Deadline }
	s := f.open(t, armed.ID, Request{Timer: true, Env: late})
	if res := s.Result(); res.Status != engine.StatusOK || len(res.DebugPrints) != 1 || res.DebugPrints[0] != "timer fired" {
		t.Fatalf("timer at its deadline: %+v", res)
	}

	if res := f.open(t, armed.ID, Request{Heartbeat: true}).Result(); res.Status != engine.StatusOK {
		t.Fatalf("heartbeat: %+v", res)
	}

	s = f.open(t, armed.ID, Request{Method: "forbidden", Inspect: true})
	if in := s.Inspect(); in == nil || in.Status == engine.StatusOK || s.Result().Status == engine.StatusOK {
		t.Fatalf("inspect_message accepted forbidden: %+v %+v", in, s.Result())
	}
	s = f.open(t, armed.ID, Request{Method: "arm", Inspect: true})
	if in := s.Inspect(); in == nil || in.Status != engine.StatusOK || s.Result().Status != engine.StatusOK {
		t.Fatalf("inspect_message refused arm: %+v %+v", in, s.Result())
	}

	cycles, _ := ic0.ParseCycles("1000")
	res := f.open(t, armed.ID, Request{Method: "take_half", Cycles: cycles}).Result()
	if res.Cycles == nil || res.Cycles.Accepted.String() != "500" || res.Cycles.Refunded.String() != "500" {
		t.Fatalf("take_half with 1000 cycles: %+v", res.Cycles)
	}

	if _, err := f.tracer.Open(context.Background(), armed.ID, Request{Method: "fired", Inspect: true}); err == nil {
		t.Fatal("inspect on a query: no error")
	}
}
