package bridge_test

import (
	"github.com/canscope/canscope/tui/bridge"

	"encoding/binary"
	"strings"
	"testing"

	"github.com/canscope/canscope/snapshots"
	st "github.com/canscope/canscope/tui/internal/screentest"
)

// managerHeader is page 0 of an ic-stable-structures MemoryManager with
// one-page buckets: bucket 0 belongs to memory 0, bucket 1 to memory 3.
func managerHeader() []byte {
	h := make([]byte, 2080+32768)
	copy(h, "MGR")
	h[3] = 1                                     // layout version
	binary.LittleEndian.PutUint16(h[4:], 2)      // allocated buckets
	binary.LittleEndian.PutUint16(h[6:], 1)      // bucket size in pages
	binary.LittleEndian.PutUint64(h[40+0*8:], 1) // memory 0: 1 page
	binary.LittleEndian.PutUint64(h[40+3*8:], 1) // memory 3: 1 page
	table := h[2080:]
	for i := range table {
		table[i] = 0xff
	}
	table[0], table[1] = 0, 3
	return h
}

func TestStableLayout(t *testing.T) {
	mem := st.NewMemory()
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "ss"}, Stable: snapshots.PageTable{
		Size:  3 * snapshots.PageSize,
		Pages: []snapshots.Page{mem.PageOf(0, managerHeader()), mem.PageOf(1, []byte{1}), mem.PageOf(2, []byte{2})},
	}}
	lay, err := bridge.StableLayout(m, mem)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(lay.Summary, "MemoryManager v1: 2 memories in 2 buckets") {
		t.Errorf("summary = %q", lay.Summary)
	}
	ps := uint64(snapshots.PageSize)
	// The buckets hold no structure header, so layout calls their
	// structure unknown.
	tests := []struct {
		start, end uint64
		want       string
	}{
		{0, 16, "memory-manager header"},
		{ps, ps + 8, "memory 0 (unknown)"},
		{2 * ps, 3 * ps, "memory 3 (unknown)"},
		{ps, 3 * ps, "memory 0 (unknown), memory 3 (unknown)"},
	}
	for _, tt := range tests {
		if got := lay.Label(tt.start, tt.end); got != tt.want {
			t.Errorf("label(%#x, %#x) = %q, want %q", tt.start, tt.end, got, tt.want)
		}
	}
}

func TestForUnknownLayout(t *testing.T) {
	mem := st.NewMemory()
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "raw"}, Stable: snapshots.PageTable{
		Size: snapshots.PageSize, Pages: []snapshots.Page{mem.PageOf(0, []byte("not a layout"))},
	}}
	if _, err := bridge.StableLayout(m, mem); err == nil || !strings.Contains(err.Error(), "MGR") {
		t.Errorf("For on raw bytes = %v, want an error naming the missing MGR magic", err)
	}
	empty := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "empty"}}
	if _, err := bridge.StableLayout(empty, mem); err == nil {
		t.Error("an empty stable memory has nothing to label")
	}
}
