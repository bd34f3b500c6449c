package trace

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/canscope/canscope/engine"
)

func TestOpenRejectsBadRequests(t *testing.T) {
	f := newFixture(t)
	snap := f.install(t, "../testdata/counter.wasm")
	for _, c := range []struct {
		req  Request
		want string
	}{
		{Request{}, "give either a method or an upgrade"},
		{Request{Method: "inc", Upgrade: true}, "give either a method or an upgrade"},
		{Request{Method: "inc", Rehearse: true}, "only an upgrade can be rehearsed"},
		{Request{Method: "nosuch"}, `exports no method "nosuch"`},
		{Request{Upgrade: true, Module: []byte("not wasm")}, "load the new module"},
	} {
		_, err := f.tracer.Open(context.Background(), snap.ID, c.req)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%+v) = %v, want an error containing %q", c.req, err, c.want)
		}
	}
}

func TestQueryTrace(t *testing.T) {
	f := newFixture(t)
	snap := f.install(t, "../testdata/counter.wasm", call{"inc", u64(7)})
	ctx := context.Background()
	s := f.open(t, snap.ID, Request{Method: "get"})
	if res := s.Result(); res.Status != engine.StatusOK || string(res.Reply) != string(u64(7)) {
		t.Fatalf("get = %v %x", res.Status, res.Reply)
	}
	var replied bool
	for _, e := range s.Events() {
		if e.Phase != "query get" {
			t.Errorf("event %d in phase %q", e.Index, e.Phase)
		}
		replied = replied || e.Kind == Syscall && e.Name == "msg_reply"
	}
	if !replied {
		t.Error("no msg_reply event")
	}
	// A query commits nothing, so time travel reuses the same canister.
	for _, i := range []int{s.Len() - 1, 0, s.Len() - 1} {
		if _, err := s.Seek(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMaxEvents(t *testing.T) {
	f := newFixture(t)
	snap := f.install(t, "testdata/longrun.wasm")
	ctx := context.Background()
	s := f.open(t, snap.ID, Request{Method: "fill", Arg: u32(8), MaxEvents: 5})
	if s.Len() != 5 || !s.Truncated() || s.Result().Status != engine.StatusOK {
		t.Fatalf("len %d, truncated %v, status %v", s.Len(), s.Truncated(), s.Result().Status)
	}
	if _, err := s.Seek(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seek(ctx, 5); err == nil {
		t.Fatal("seek past the recorded events succeeded")
	}
}

func TestSeekCancelled(t *testing.T) {
	f := newFixture(t)
	snap := f.install(t, "testdata/longrun.wasm")
	ctx := context.Background()
	s := f.open(t, snap.ID, Request{Method: "fill", Arg: u32(64)})
	v, err := s.Seek(ctx, s.Len()-1)
	if err != nil {
		t.Fatal(err)
	}
	want := stateHash(t, v)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Seek(cancelled, 3); !errors.Is(err, context.Canceled) {
		t.Fatalf("seek with a cancelled context = %v", err)
	}
	// Cancelled while re-executing (or just after reaching the event).
	for range 3 {
		short, cancel := context.WithTimeout(ctx, time.Millisecond)
		_, err := s.Seek(short, s.Len()-2)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("seek with a deadline = %v", err)
		}
		if _, err := s.Seek(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	v, err = s.Seek(ctx, s.Len()-1)
	if err != nil {
		t.Fatal(err)
	}
	if stateHash(t, v) != want {
		t.Error("the state after cancelled seeks differs")
	}
}
