package trace

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine"
)

// TestTraps traces every way a message fails: the timeline ends in a Trap
// event naming the function and the replica's message, the state at the
// trap shows what the message did before failing, and every re-execution
// starts again from the snapshot's state (a rejection keeps its changes,
// so its canister must not be reused).
func TestTraps(t *testing.T) {
	f := newFixture(t)
	snap := f.install(t, "../testdata/traps.wasm", call{"touch", nil})
	base, err := f.bench.Open(context.Background(), snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	baseGlobals := base.Canister.Globals()
	base.Close(context.Background())
	for _, c := range []struct {
		method string
		status engine.Status
		want   string // in the trap message
	}{
		{"unreachable", engine.StatusTrapped, "unreachable"},
		{"div_zero", engine.StatusTrapped, "integer division by 0"},
		{"heap_oob", engine.StatusTrapped, "heap out of bounds"},
		{"ic0_trap", engine.StatusTrapped, "traps: explicit ic0.trap after touching state"},
		{"stable_oob", engine.StatusTrapped, "stable memory out of bounds"},
		{"stable32_oob", engine.StatusTrapped, "stable memory out of bounds"},
		{"reply_then_trap", engine.StatusTrapped, "traps: trap after reply"},
		{"reject", engine.StatusRejected, ""},
		// Counted, the recursion would go deeper than recorded: the run
		// is executed again recording.
		{"stack_overflow", engine.StatusTrapped, "stack overflow"},
	} {
		t.Run(c.method, func(t *testing.T) {
			ctx := context.Background()
			s := f.open(t, snap.ID, Request{Method: c.method, MaxEvents: 200})
			res := s.Result()
			if res.Status != c.status {
				t.Fatalf("status %v, want %v", res.Status, c.status)
			}
			last, _, err := s.Event(s.Len() - 1)
			if err != nil {
				t.Fatal(err)
			}
			if c.status == engine.StatusTrapped && !s.Truncated() {
				if last.Kind != Trap || last.Function != res.Trap.Function || !strings.Contains(last.Message, c.want) {
					t.Errorf("last event %s, trap %+v", last, res.Trap)
				}
			}
			// Counted instead of recorded from the first event on, the run
			// has the same events and keeps the same last one (the trap's
			// depth and function from the engine's backtrace).
			counted := f.open(t, snap.ID, Request{Method: c.method, MaxEvents: 1})
			if counted.Len() != s.Len() || !counted.Truncated() {
				t.Fatalf("counted: %d events, truncated %v; recorded: %d", counted.Len(), counted.Truncated(), s.Len())
			}
			if e, ok, err := counted.Event(s.Len() - 1); err != nil || !ok || !reflect.DeepEqual(e, last) {
				t.Errorf("counted: last event %+v %v %v, want %+v", e, ok, err, last)
			}
			want, err := s.Seek(ctx, s.Len()-2)
			if err != nil {
				t.Fatal(err)
			}
			if v, err := counted.Seek(ctx, s.Len()-2); err != nil || !reflect.DeepEqual(v.Event(), want.Event()) {
				t.Errorf("counted: seek to the event before the last: %v, want %+v", err, want.Event())
			}
			for _, i := range []int{s.Len() - 1, 0, s.Len() - 1, 0} {
				v, err := s.Seek(ctx, i)
				if err != nil {
					t.Fatal(err)
				}
				g, err := v.Globals()
				if err != nil {
					t.Fatal(err)
				}
				touched := !slices.Equal(g, baseGlobals)
				if i == 0 && touched {
					t.Errorf("event 0: globals %v, want the snapshot's %v", g, baseGlobals)
				}
				if i > 0 && (!touched || !slices.Contains(v.StablePagesChanged(), 0)) {
					t.Errorf("event %d (%s): the message's changes are not visible", i, events(t, s)[i])
				}
			}
		})
	}
}
