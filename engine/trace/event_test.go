package trace

import "testing"

func TestEventString(t *testing.T) {
	for _, c := range []struct {
		e    Event
		want string
	}{
		{Event{Kind: Enter, Function: "f", Args: []uint64{1, 1 << 20}}, "-> f(1, 0x100000)"},
		{Event{Kind: Exit, Function: "f", Depth: 1}, "  <- f"},
		{Event{Kind: Exit, Function: "f", Results: []uint64{7}}, "<- f = 7"},
		{Event{Kind: Syscall, Name: "stable_size", Depth: 2}, "    ic0.stable_size() trapped"},
		{Event{Kind: Syscall, Name: "msg_reply", Results: []uint64{}}, "ic0.msg_reply()"},
		{Event{Kind: Syscall, Name: "stable64_grow", Args: []uint64{3}, Results: []uint64{1}}, "ic0.stable64_grow(3) = 1"},
		{Event{Kind: Grow, Name: HeapMemory, Args: []uint64{2}, Results: []uint64{17}}, "memory grew by 2 pages from 17 to 19"},
		{Event{Kind: Trap, Function: "g", Message: "Canister trapped: unreachable", Depth: 1}, "  trap in g: Canister trapped: unreachable"},
	} {
		if got := c.e.String(); got != c.want {
			t.Errorf("%+v: String() = %q, want %q", c.e, got, c.want)
		}
	}
}

func TestStableGrow(t *testing.T) {
	for _, c := range []struct {
		name            string
		params, results []uint64
		grown, old      uint64
		ok              bool
	}{
		{"stable_grow", []uint64{2}, []uint64{5}, 2, 5, true},
		{"stable_grow", []uint64{2}, []uint64{0xffff_ffff}, 0, 0, false},
		{"stable_grow", []uint64{0}, []uint64{5}, 0, 5, false},
		{"stable64_grow", []uint64{70000}, []uint64{1}, 70000, 1, true},
		{"stable64_grow", []uint64{1}, []uint64{^uint64(0)}, 0, 0, false},
		{"stable64_size", nil, []uint64{1}, 0, 0, false},
	} {
		grown, old, ok := stableGrow(c.name, c.params, c.results)
		if grown != c.grown || old != c.old || ok != c.ok {
			t.Errorf("stableGrow(%s, %v, %v) = %d, %d, %v", c.name, c.params, c.results, grown, old, ok)
		}
	}
}
