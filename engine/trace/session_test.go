package trace

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
)

func TestIncidentUpgradeTrace(t *testing.T) {
	f := newFixture(t)
	snap := f.incident(t)
	s := f.open(t, snap.ID, Request{Upgrade: true})
	for _, e := range events(t, s) {
		t.Logf("%5d %10d %-12s %s", e.Index, e.Instructions, e.Phase, e)
	}
	last := events(t, s)[s.Len()-1]
	if last.Kind != Trap || last.Function != "ic_cdk::api::stable::stable_size" || !strings.Contains(last.Message, "32 bit stable memory api used on a memory larger than 4GB") {
		t.Fatalf("last event = %+v", last)
	}
}

// stateHash hashes everything a view shows: heap, stable pages written,
// globals, stack and instructions.
func stateHash(t testing.TB, v *View) [32]byte {
	t.Helper()
	h := sha256.New()
	h.Write(v.heapBytes())
	buf := make([]byte, engine.PageSize)
	for _, p := range v.StablePagesChanged() {
		if err := v.ReadStable(buf, p*engine.PageSize); err != nil {
			t.Fatal(err)
		}
		h.Write(buf)
	}
	gs, err := v.Globals()
	if err != nil {
		t.Fatal(err)
	}
	used, limit := v.Instructions()
	fmt.Fprint(h, gs, v.Stack(), used, limit, v.StableSize(), v.Phase())
	return [32]byte(h.Sum(nil))
}

func TestSeekBackwardEqualsForward(t *testing.T) {
	f := newFixture(t)
	snap := f.incident(t)
	ctx := context.Background()
	s := f.open(t, snap.ID, Request{Upgrade: true})
	forward := make([][32]byte, s.Len())
	for i := range s.Len() {
		v, err := s.Seek(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		forward[i] = stateHash(t, v)
		if used, _ := v.Instructions(); used != events(t, s)[i].Instructions {
			t.Errorf("event %d: %d instructions, recorded %d", i, used, events(t, s)[i].Instructions)
		}
	}
	for i := s.Len() - 1; i >= 0; i-- {
		v, err := s.Seek(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		if got := stateHash(t, v); got != forward[i] {
			t.Errorf("event %d: state moving backward differs from moving forward", i)
		}
	}
}

// TestDebugPrintText: a debug_print event carries the text it printed,
// the same text the result's DebugPrints holds, and an Env and Limits
// given in the request reach the execution.
func TestDebugPrintText(t *testing.T) {
	f := newFixture(t)
	snap := f.incident(t)
	var envSeen bool
	s := f.open(t, snap.ID, Request{Upgrade: true, SkipPreUpgrade: true,
		Limits: meter.Limits{Install: 123_456_789},
		Env:    func(env *ic0.Env) { env.Time, envSeen = 42, true }})
	var texts []string
	for _, e := range events(t, s) {
		if e.Kind == Syscall && e.Name == "debug_print" {
			texts = append(texts, e.Text)
			if !strings.Contains(e.String(), fmt.Sprintf("%q", e.Text)) {
				t.Errorf("String() = %q lacks the text", e.String())
			}
		}
	}
	res := s.Result()
	if len(texts) == 0 || !slices.Equal(texts, res.DebugPrints) {
		t.Fatalf("debug_print events print %q, the result %q", texts, res.DebugPrints)
	}
	if !envSeen || res.Limit != 123_456_789 {
		t.Errorf("env applied %v, limit %d", envSeen, res.Limit)
	}
}

// TestAnchorAfter: a run that re-executes faster than
// Request.AnchorAfter keeps no anchors, not even the one at its trap; a
// slower one keeps them.
func TestAnchorAfter(t *testing.T) {
	f := newFixture(t)
	snap := f.incident(t) // its pre_upgrade traps
	short := f.open(t, snap.ID, Request{Upgrade: true, Anchors: 3, AnchorAfter: time.Hour})
	if len(short.anchors) != 0 {
		t.Errorf("a run shorter than AnchorAfter kept %d anchors", len(short.anchors))
	}
	at, ok := short.Trap()
	if !ok {
		t.Fatal("the incident's upgrade did not trap")
	}
	if _, err := short.Seek(context.Background(), at); err != nil {
		t.Fatalf("seek to the trap without anchors: %v", err)
	}
	long := f.open(t, snap.ID, Request{Upgrade: true, Anchors: 3, AnchorAfter: time.Nanosecond})
	if len(long.anchors) == 0 {
		t.Error("a run longer than AnchorAfter kept no anchors")
	}
}
