package ic0

import (
	"testing"

	"github.com/canscope/canscope/engine/meter"
)

// Page limits as the replica applies them (system_api_replacements.rs):
// exactly the limit passes, one page more traps with IC0524 and the
// replica's text; the limit depends on the context.
func TestStablePageLimits(t *testing.T) {
	h := newHarness(t)
	h.state.Stable.Grow(1)
	h.host.SetLimits(meter.Limits{
		StableDirtyPages:    meter.PageLimit{Message: 2, Upgrade: 3, Query: 1},
		StableAccessedPages: meter.PageLimit{Message: 4, Upgrade: 5, Query: 2},
	})
	const page = meter.OSPageSize
	// Dirty: 2 pages pass in an update, 3 trap; 3 pass in pre_upgrade.
	h.ok(msgIn(Update), "stable64_write", 0, 0, 2*page)
	h.ok(msgIn(Update), "stable64_write", page-1, 0, page+1) // [4095, 8192): pages 0 and 1
	const dirtyText = "Canister exceeded memory access limits: Exceeded the limit for the number of modified pages in the stable memory in a single execution: limit 8 KB for regular messages, 12 KB for upgrade messages and 4 KB for queries."
	h.trap(msgIn(Update), CodeMemoryAccessLimitExceeded, "modified pages", "stable64_write", page-1, 0, page+2) // pages 0..2
	tr := h.trap(msgIn(Update), CodeMemoryAccessLimitExceeded, "modified pages", "stable64_write", 0, 0, 2*page+1)
	if tr.Error() != dirtyText {
		t.Fatalf("text %q\nwant %q", tr.Error(), dirtyText)
	}
	h.ok(msgIn(PreUpgrade), "stable64_write", 0, 0, 3*page)
	h.ok(msgIn(PostUpgrade), "stable_write", 0, 0, 3*page)
	h.trap(msgIn(Start), CodeMemoryAccessLimitExceeded, "modified pages", "stable64_write", 0, 0, 3*page)
	// Accessed: reads count too; queries have their own limit.
	h.ok(msgIn(Update), "stable64_read", 0, 0, 4*page)
	const accessText = "Canister exceeded memory access limits: Exceeded the limit for the number of accessed pages in the stable memory in a single message execution: limit 16 KB for regular messages and 8 KB for queries."
	tr = h.trap(msgIn(Update), CodeMemoryAccessLimitExceeded, "accessed pages", "stable64_read", 0, 0, 4*page+1)
	if tr.Error() != accessText {
		t.Fatalf("text %q\nwant %q", tr.Error(), accessText)
	}
	h.ok(msgIn(NonReplicatedQuery), "stable64_read", 0, 0, 2*page)
	h.trap(msgIn(NonReplicatedQuery), CodeMemoryAccessLimitExceeded, "accessed pages", "stable_read", 0, 0, 2*page+1)
	// The accessed limit is checked before the dirty one.
	h.trap(msgIn(Update), CodeMemoryAccessLimitExceeded, "accessed pages", "stable64_write", 0, 0, 5*page)
	// A trapped write leaves stable memory alone.
	if got := h.host.StableUse(); got.DirtyPages != 0 {
		t.Fatalf("dirty pages after the trap %d", got.DirtyPages)
	}
}

// The charges of a stable write: overhead, a byte each, and 1000 per page
// dirtied for the first time in the execution (rewriting is free).
func TestStableWriteDirtyCharge(t *testing.T) {
	h := newHarness(t)
	h.state.Stable.Grow(1)
	m := &fixedMeter{limit: 1 << 40}
	if _, err := h.runMetered(msgIn(Update), m, nil, "stable64_write", 4000, 0, 200); err != nil {
		t.Fatal(err)
	}
	if want := uint64(20 + 200 + 2*1000); m.used != want {
		t.Fatalf("charged %d, want %d (two pages)", m.used, want)
	}
	u := h.host.StableUse()
	if u.DirtyPages != 2 || u.AccessedPages != 2 || u.BytesWritten != 200 {
		t.Fatalf("use %+v", u)
	}
	// 32-bit calls count their sizes as 32-bit values.
	m = &fixedMeter{limit: 1 << 40}
	if _, err := h.runMetered(msgIn(Update), m, nil, "stable_write", 0xFFFF_FFFF_0000_0010, 0, 0xFFFF_FFFF_0000_0008); err != nil {
		t.Fatal(err)
	}
	if u := h.host.StableUse(); u.BytesWritten != 8 {
		t.Fatalf("bytes written %d, want 8", u.BytesWritten)
	}
}

// Zero-length 64-bit calls return before any bounds check; the 32-bit
// stable_write checks bounds first (system_api_replacements.rs). Stable
// bounds are checked before heap bounds.
func TestStableZeroLengthAndOrder(t *testing.T) {
	h := newHarness(t)
	h.state.Stable.Grow(1)
	msg := msgIn(Update)
	far := uint64(1 << 40)
	h.ok(msg, "stable64_write", far, far, 0)
	h.ok(msg, "stable64_read", far, far, 0)
	h.ok(msg, "stable_read", 0xFFFF_FFF0, 0xFFFF_FFF0, 0)
	h.trap(msg, CodeCanisterTrapped, ReasonStableOutOfBounds, "stable_write", 0xFFFF_FFF0, 0, 0)
	// Both ranges bad: stable memory out of bounds wins.
	h.trap(msg, CodeCanisterTrapped, ReasonStableOutOfBounds, "stable64_read", heapEnd, 1<<20, 8)
	h.trap(msg, CodeCanisterTrapped, ReasonHeapOutOfBounds, "stable64_read", heapEnd, 0, 8)
}

// ic0.trap charges its overhead and a byte each of the full size, and
// keeps the first 16 KiB of the message (ic0_trap, linker.rs).
func TestTrapChargeAndTruncation(t *testing.T) {
	h := newHarness(t)
	msg := make([]byte, 20_000)
	for i := range msg {
		msg[i] = 'a' + byte(i%26)
	}
	h.write(0, msg)
	m := &fixedMeter{limit: 1 << 40}
	_, err := h.runMetered(msgIn(Update), m, nil, "trap", 0, 20_000)
	tr, ok := AsTrap(err)
	if !ok || tr.Code != CodeCanisterCalledTrap {
		t.Fatalf("err %v", err)
	}
	if m.used != 500+20_000 {
		t.Errorf("charged %d, want 20500", m.used)
	}
	if len(tr.Reason) != 16<<10 || tr.Reason != string(msg[:16<<10]) {
		t.Errorf("message of %d bytes, want the first 16 KiB", len(tr.Reason))
	}
}
