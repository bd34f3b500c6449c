package trace

import (
	"context"
	"errors"
	"reflect"
	"slices"
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
		{Request{}, "give either a method"},
		{Request{Method: "inc", Upgrade: true}, "give either a method"},
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
	for _, e := range events(t, s) {
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

// TestElided: events past MaxEvents are counted, listed as elided, and
// can be travelled to; a jump records the events before its target, the
// same ones a full recording holds.
func TestElided(t *testing.T) {
	f := newFixture(t)
	snap := f.install(t, "testdata/longrun.wasm")
	ctx := context.Background()
	full := f.open(t, snap.ID, Request{Method: "fill", Arg: u32(8)})
	all := events(t, full)
	if full.Truncated() || len(all) != full.Len() || full.Len() < 20 {
		t.Fatalf("full recording: %d events of %d, truncated %v", len(all), full.Len(), full.Truncated())
	}
	s := f.open(t, snap.ID, Request{Method: "fill", Arg: u32(8), MaxEvents: 5, From: 2})
	if s.Len() != full.Len() || !s.Truncated() || s.Result().Status != engine.StatusOK {
		t.Fatalf("len %d of %d, truncated %v, status %v", s.Len(), full.Len(), s.Truncated(), s.Result().Status)
	}
	want := []Span{{0, 2, "before event 2, where the log starts"}, {7, full.Len() - 1, "past the log's limit of 5 events"}}
	if got := s.Elided(); !slices.Equal(got, want) {
		t.Fatalf("elided %+v, want %+v", got, want)
	}
	// The log's events, then the last one, which is always kept.
	if got, want := events(t, s), append(all[2:7:7], all[len(all)-1]); !reflect.DeepEqual(got, want) {
		t.Fatalf("recorded %v, want %v", got, want)
	}
	last := s.Len() - 1
	if _, ok, _ := s.Event(last - 1); ok {
		t.Fatal("an elided event is known before any jump")
	}
	v, err := s.Seek(ctx, last)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v.Event(), all[last]) {
		t.Errorf("event at the jump %v, want %v", v.Event(), all[last])
	}
	for i := max(7, last-WindowEvents+1); i < last; i++ {
		e, ok, err := s.Event(i)
		if err != nil || !ok || !reflect.DeepEqual(e, all[i]) {
			t.Fatalf("event %d after the jump: %v %v %v, want %v", i, e, ok, err, all[i])
		}
	}
	// An instruction count inside the elided part lands on the first
	// event at or after it.
	mid := all[last/2]
	v, err = s.SeekInstructions(ctx, mid.Instructions)
	if err != nil {
		t.Fatal(err)
	}
	wantAt := slices.IndexFunc(all, func(e Event) bool { return e.Instructions >= mid.Instructions })
	if v.Index() != wantAt {
		t.Errorf("instruction %d: event %d, want %d", mid.Instructions, v.Index(), wantAt)
	}
	if _, err := s.Seek(ctx, s.Len()); err == nil {
		t.Fatal("seek past the last event succeeded")
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
