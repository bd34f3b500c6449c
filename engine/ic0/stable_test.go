package ic0

import (
	"testing"

	"github.com/canscope/canscope/engine/stable"
)

func TestStable64(t *testing.T) {
	h := newHarness(t)
	msg := msgIn(Update)
	if got := h.ok(msg, "stable64_size"); got[0] != 0 {
		t.Fatalf("initial size %d", got[0])
	}
	if got := h.ok(msg, "stable64_grow", 3); got[0] != 0 {
		t.Fatalf("grow returned %d, want old size 0", got[0])
	}
	if got := h.ok(msg, "stable64_grow", stable.MaxPages); got[0] != ^uint64(0) {
		t.Fatalf("grow past 500 GiB returned %d, want -1", got[0])
	}
	if got := h.ok(msg, "stable64_size"); got[0] != 3 {
		t.Fatalf("size %d, want 3", got[0])
	}
	h.write(0, []byte("stable!"))
	h.ok(msg, "stable64_write", stable.PageSize-3, 0, 7) // across a page boundary
	h.ok(msg, "stable64_read", 1000, stable.PageSize-3, 7)
	if got := h.read(1000, 7); string(got) != "stable!" {
		t.Fatalf("read back %q", got)
	}

	tests := []struct {
		name   string
		fn     string
		args   []uint64
		reason string
	}{
		{"write past end", "stable64_write", []uint64{3*stable.PageSize - 1, 0, 2}, ReasonStableOutOfBounds},
		{"read past end", "stable64_read", []uint64{0, 3 * stable.PageSize, 1}, ReasonStableOutOfBounds},
		{"write offset overflow", "stable64_write", []uint64{^uint64(0), 0, 2}, ReasonStableOutOfBounds},
		{"read into heap end", "stable64_read", []uint64{heapEnd - 1, 0, 2}, ReasonHeapOutOfBounds},
		{"write from heap end", "stable64_write", []uint64{0, heapEnd, 1}, ReasonHeapOutOfBounds},
		{"read dst overflow", "stable64_read", []uint64{^uint64(0), 0, 2}, ReasonHeapOutOfBounds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := h.trap(msg, CodeCanisterTrapped, tt.reason, tt.fn, tt.args...)
			if tr.Reason != tt.reason {
				t.Fatalf("reason %q, want exactly %q", tr.Reason, tt.reason)
			}
		})
	}
}

func TestStable32(t *testing.T) {
	h := newHarness(t)
	msg := msgIn(PreUpgrade)
	if got := h.ok(msg, "stable_grow", 2); got[0] != 0 {
		t.Fatalf("stable_grow returned %d", got[0])
	}
	if got := h.ok(msg, "stable_size"); got[0] != 2 {
		t.Fatalf("stable_size = %d", got[0])
	}
	if got := h.ok(msg, "stable_grow", stable.Pages32); uint32(got[0]) != 0xFFFF_FFFF {
		t.Fatalf("growing past 4 GiB with stable_grow returned %d, want -1", int32(got[0]))
	}
	h.write(0, []byte("32bit"))
	h.ok(msg, "stable_write", 10, 0, 5)
	h.ok(msg, "stable_read", 200, 10, 5)
	if got := h.read(200, 5); string(got) != "32bit" {
		t.Fatalf("read back %q", got)
	}
	h.trap(msg, CodeCanisterTrapped, ReasonStableOutOfBounds, "stable_read", 0, 2*stable.PageSize-1, 2)
	h.trap(msg, CodeCanisterTrapped, ReasonStableOutOfBounds, "stable_write", 2*stable.PageSize, 0, 1)
	h.trap(msg, CodeCanisterTrapped, ReasonHeapOutOfBounds, "stable_read", heapEnd-1, 0, 2)
	h.trap(msg, CodeCanisterTrapped, ReasonHeapOutOfBounds, "stable_write", 0, heapEnd-1, 2)
}

// TestStable32AboveFourGiB is the incident: stable memory grown past 65536
// pages with stable64_grow, then any 32-bit call traps with the exact text.
func TestStable32AboveFourGiB(t *testing.T) {
	h := newHarness(t)
	msg := msgIn(PreUpgrade)
	h.ok(msg, "stable64_grow", stable.Pages32)
	h.ok(msg, "stable_size") // exactly 4 GiB is still fine
	h.ok(msg, "stable_read", 0, stable.Pages32*stable.PageSize-4, 4)
	h.ok(msg, "stable64_grow", 1)
	for _, c := range []struct {
		fn   string
		args []uint64
	}{
		{"stable_size", nil},
		{"stable_grow", []uint64{0}},
		{"stable_read", []uint64{0, 0, 1}},
		{"stable_write", []uint64{0, 0, 1}},
	} {
		tr := h.trap(msg, CodeCanisterTrapped, ReasonStableTooBigFor32, c.fn, c.args...)
		if want := "Canister trapped: 32 bit stable memory api used on a memory larger than 4GB"; tr.Error() != want {
			t.Fatalf("%s: Error() = %q, want %q", c.fn, tr.Error(), want)
		}
	}
	// The 64-bit calls keep working, and RAM follows what was written.
	h.ok(msg, "stable64_write", stable.Pages32*stable.PageSize, 0, 8)
	if n := h.state.Stable.Allocated(); n != 1 {
		t.Fatalf("allocated %d stable pages, want 1", n)
	}
}
