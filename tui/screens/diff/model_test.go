package diff

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/frame"
	st "github.com/canscope/canscope/tui/internal/screentest"
	"github.com/canscope/canscope/tui/source"
)

func open(t *testing.T, theme string, w, h int, src source.Set, a, b snapshots.ID) *Model {
	t.Helper()
	return st.Open(t, theme, w, h, src, func(c *frame.Context) *Model { return New(c, a, b) })
}

// byMemoryID labels stable ranges the way a stable-structures decoder
// would for a layout with one bucket per 1000 pages.
func byMemoryID(*snapshots.Manifest, source.Catalog) (source.StableLayout, error) {
	return source.StableLayout{
		Summary: "buckets of 1000 pages",
		Label:   func(start, _ uint64) string { return fmt.Sprintf("memory %d", start/snapshots.PageSize/1000) },
	}, nil
}

func TestDiff(t *testing.T) {
	store := st.Incident()
	tests := []struct {
		name   string
		theme  string
		a, b   string
		w, h   int
		labels bool
		keys   []tea.Msg
	}{
		{"first_change_80x24", "dark", "ledger@1", "ledger@3", 80, 24, false, nil},
		{"third_change_80x24", "light", "ledger@1", "ledger@3", 80, 24, false, st.Keys("n", "n")},
		{"stable_labelled_80x24", "high-contrast", "ledger@1", "ledger@3", 80, 24, true, st.Keys("G")},
		{"wide_160x48", "dark", "ledger@1", "ledger@3", 160, 48, true, st.Keys("n", "n", "n", "N")},
		{"same_state_80x24", "dark", "ledger@2", "hotfix@1", 80, 24, false, nil},
		{"other_canister_80x24", "dark", "ledger@1", "counter@1", 80, 24, false, st.Keys("G")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := source.Set{Catalog: store}
			if tt.labels {
				src.Labeller = byMemoryID
			}
			m := open(t, tt.theme, tt.w, tt.h, src, store.ID(t, tt.a), store.ID(t, tt.b))
			st.Run(m, tt.keys...)
			st.Shot(t, m, tt.w, tt.h)
		})
	}
}

func TestDiffErrors(t *testing.T) {
	store := st.Incident()
	missing := snapshots.HashOf([]byte("missing"))
	m := open(t, "dark", 80, 24, source.Set{Catalog: store}, store.ID(t, "ledger@1"), missing)
	if v := st.Plain(m.View()); !strings.Contains(v, "error: read snapshot") {
		t.Errorf("missing snapshot not reported:\n%s", v)
	}
	st.Run(m, st.Keys("n", "N", "G")...) // keys on an error screen do nothing, and never panic
}

func TestStopsWalk(t *testing.T) {
	ps := uint64(snapshots.PageSize)
	s := stops{mems: [2][]snapshots.Range{
		{{Start: 3 * ps, End: 5 * ps, Kind: snapshots.RangeChanged}, {Start: 9 * ps, End: 10 * ps, Kind: snapshots.RangeChanged}},
		{{Start: 0, End: ps, Kind: snapshots.RangeChanged}, {Start: 8 * ps, End: 100 * ps, Kind: snapshots.RangeAdded}},
	}}
	want := []string{"heap 3", "heap 4", "heap 9", "stable 0", "stable 8"}
	var got []string
	at := s.first()
	for range 10 {
		got = append(got, fmt.Sprintf("%s %d", at.mem, at.page))
		n := s.next(at)
		if n == at {
			break
		}
		at = n
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("next walk = %v, want %v", got, want)
	}
	if at != s.last() {
		t.Errorf("walk ended at %v, last() = %v", at, s.last())
	}
	got = nil
	for range 10 {
		got = append(got, fmt.Sprintf("%s %d", at.mem, at.page))
		p := s.prev(at)
		if p == at {
			break
		}
		at = p
	}
	for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
		want[i], want[j] = want[j], want[i]
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("prev walk = %v, want %v", got, want)
	}
	if (stops{}).first().valid || (stops{}).last().valid {
		t.Error("an empty diff has no stops")
	}
}
