package diff

import (
	"fmt"
	"slices"
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
		a, b   string
		w, h   int
		labels bool
		keys   []tea.Msg
	}{
		{"first_change_80x24", "ledger@1", "ledger@3", 80, 24, false, nil},
		{"third_change_80x24", "ledger@1", "ledger@3", 80, 24, false, st.Keys("n", "n")},
		{"stable_labelled_80x24", "ledger@1", "ledger@3", 80, 24, true, st.Keys("G")},
		{"wide_160x48", "ledger@1", "ledger@3", 160, 48, true, st.Keys("n", "n", "n", "N")},
		{"same_state_80x24", "ledger@2", "hotfix@1", 80, 24, false, nil},
		{"other_canister_80x24", "ledger@1", "counter@1", 80, 24, false, st.Keys("G")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := source.Set{Catalog: store}
			if tt.labels {
				src.Labeller = byMemoryID
			}
			m := open(t, "dark", tt.w, tt.h, src, store.ID(t, tt.a), store.ID(t, tt.b))
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
	page := func(i uint64) snapshots.Page {
		return snapshots.Page{Index: i, Hash: snapshots.HashOf(fmt.Append(nil, i))}
	}
	s := stops{
		mems: [2][]snapshots.Range{
			{{Start: 3 * ps, End: 5 * ps, Kind: snapshots.RangeChanged}, {Start: 9 * ps, End: 10 * ps, Kind: snapshots.RangeChanged},
				{Start: 12 * ps, End: 20 * ps, Kind: snapshots.RangeAdded}},
			{{Start: 0, End: ps, Kind: snapshots.RangeChanged}, {Start: 8 * ps, End: 65540 * ps, Kind: snapshots.RangeAdded}},
		},
		tables: [2][2]snapshots.PageTable{
			// The heap grew from 12 to 20 pages: 13 and 19 hold data.
			{{Size: 12 * ps}, {Size: 20 * ps, Pages: []snapshots.Page{page(3), page(13), page(19)}}},
			// Stable grew past 4 GiB: page 65536 is the first past it.
			{{Size: 8 * ps}, {Size: 65540 * ps, Pages: []snapshots.Page{page(0), page(8), page(50), page(65536)}}},
		},
	}
	want := []string{"heap 3", "heap 4", "heap 9", "heap 13", "heap 19", "stable 0", "stable 8", "stable 50", "stable 65536"}
	var got []string
	at := s.first()
	for range 20 {
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
	if o := s.ordinal(at); o != 3 {
		t.Errorf("page 65536 is stop %d of its range, want 3", o)
	}
	if z := s.zeroPages(heap, 2); z != 6 {
		t.Errorf("heap added range skips %d zero pages, want 6", z)
	}
	if z := s.zeroPages(stable, 1); z != 65532-3 {
		t.Errorf("stable added range skips %d zero pages, want %d", z, 65532-3)
	}
	got = nil
	for range 20 {
		got = append(got, fmt.Sprintf("%s %d", at.mem, at.page))
		p := s.prev(at)
		if p == at {
			break
		}
		at = p
	}
	slices.Reverse(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("prev walk = %v, want %v", got, want)
	}
	if (stops{}).first().valid || (stops{}).last().valid {
		t.Error("an empty diff has no stops")
	}
	// An added range with no data is one stop, its first page.
	empty := stops{mems: [2][]snapshots.Range{nil, {{Start: 4 * ps, End: 9 * ps, Kind: snapshots.RangeAdded}}},
		tables: [2][2]snapshots.PageTable{{}, {{Size: 4 * ps}, {Size: 9 * ps}}}}
	if f := empty.first(); !f.valid || f.page != 4 || empty.next(f) != f || empty.zeroPages(stable, 0) != 5 {
		t.Errorf("empty added range: first %v, zero pages %d", f, empty.zeroPages(stable, 0))
	}
}

// TestDiffAddedRange walks a diff whose stable memory grew past 4 GiB with
// n: every stored page of the added range is shown, the stored page at
// 4 GiB included, and the skipped zero pages are counted on screen.
func TestDiffAddedRange(t *testing.T) {
	store := st.Incident()
	base, err := store.Manifest(store.ID(t, "ledger@3"))
	if err != nil {
		t.Fatal(err)
	}
	grown := base.Child(snapshots.MadeByCall)
	grown.Note = "archive grows stable memory past 4 GiB"
	const fourGiB = 1 << 32
	grown.Stable = grown.Stable.Patch(fourGiB+2*snapshots.PageSize, []snapshots.Page{
		store.Page(20000, 7), store.Page(fourGiB/snapshots.PageSize, 9),
	})
	g := store.Add(grown)
	m := open(t, "dark", 80, 24, source.Set{Catalog: store}, base.ID, g.ID)
	var seen []string
	for range 4 {
		v := st.Plain(m.View())
		if i := strings.Index(v, "stable page"); i >= 0 {
			head := v[i:]
			head = head[:strings.Index(head, "\n")]
			note := v[i+len(head)+1:]
			seen = append(seen, strings.TrimSpace(head)+" | "+strings.TrimSpace(note[:strings.Index(note, "\n")]))
		}
		st.Run(m, st.Key("n"))
	}
	want := []string{
		"stable page 20000 at 0x4e200000 · 65536 bytes differ | added range: page 1 of 2 with data · 49152 zero pages skipped",
		"stable page 65536 at 0x100000000 · 65536 bytes differ | added range: page 2 of 2 with data · 49152 zero pages skipped",
	}
	if !slices.Equal(slices.Compact(seen), want) {
		t.Errorf("n walked\n%q\nwant\n%q", seen, want)
	}
	st.Run(m, st.Key("G"))
	st.Shot(t, m, 80, 24)
}

// TestDiffNoPageDiffers: a transplant against its parent changes only the
// module; the screen says no page differs and lists what does, instead of
// waiting for a page that will never be read.
func TestDiffNoPageDiffers(t *testing.T) {
	store := st.Incident()
	base, err := store.Manifest(store.ID(t, "ledger@1"))
	if err != nil {
		t.Fatal(err)
	}
	tr := base.Child(snapshots.MadeByTransplant)
	tr.Name, tr.Note = "ledger-fixed", "transplant of the fixed module"
	tr.Module = store.Blob([]byte("\x00asm\x01\x00\x00\x00fixed"))
	tr.ModuleHash = tr.Module
	fixed := store.Add(tr)
	m := open(t, "dark", 80, 24, source.Set{Catalog: store}, base.ID, fixed.ID)
	v := st.Plain(m.View())
	for _, want := range []string{"No page differs", "module_hash"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "reading") {
		t.Errorf("view waits for a page:\n%s", v)
	}
	st.Run(m, st.Keys("n", "N", "G", "g")...)
	st.Shot(t, m, 80, 24)
}

// TestDiffGoToAndSearch: : shows the page holding an offset in either
// memory, / finds bytes or text in the newer snapshot's memory (across
// its stored pages), and both say why when they cannot.
func TestDiffGoToAndSearch(t *testing.T) {
	store := st.Incident()
	base, err := store.Manifest(store.ID(t, "ledger@3"))
	if err != nil {
		t.Fatal(err)
	}
	grown := base.Child(snapshots.MadeByCall)
	page := make([]byte, snapshots.PageSize)
	copy(page[0x500:], "needle-xyz")
	grown.Stable = grown.Stable.Patch(1<<32+snapshots.PageSize, []snapshots.Page{store.PageOf(30000, page), store.Page(1<<32/snapshots.PageSize, 3)})
	g := store.Add(grown)
	m := open(t, "dark", 80, 24, source.Set{Catalog: store}, base.ID, g.ID)
	view := func() string { return st.Plain(m.View()) }

	st.Run(m, st.Key(":"))
	if !m.Capturing() || !strings.Contains(view(), "go to offset:") {
		t.Fatalf(": opens no prompt:\n%s", view())
	}
	st.Run(m, append(st.Type("stable 0x100000010"), st.Key("enter"))...)
	if v := view(); !strings.Contains(v, "stable page 65536 at 0x100000000") || !strings.Contains(v, "0100000010  ") {
		t.Errorf("go to stable 0x100000010:\n%s", v)
	}
	st.Run(m, append(st.Keys(":"), append(st.Type("heap 0x20000"), st.Key("enter"))...)...)
	if v := view(); !strings.Contains(v, "heap page 2 at 0x20000 · 0 bytes differ · not a change") {
		t.Errorf("go to an unchanged heap page:\n%s", v)
	}
	st.Run(m, st.Key("n")) // the heap is the same: the next change is stable
	if v := view(); !strings.Contains(v, "stable page 30000 at 0x75300000") {
		t.Errorf("n after a jump:\n%s", v)
	}
	st.Run(m, append(st.Keys(":"), append(st.Type("0x900000000"), st.Key("enter"))...)...)
	if v := view(); !strings.Contains(v, "go to 0x900000000: past the end of stable memory (4.0 GiB on the larger side)") {
		t.Errorf("a jump past the end:\n%s", v)
	}

	st.Run(m, append(st.Keys(":"), append(st.Type("stable 0"), st.Key("enter"))...)...)
	st.Run(m, append(st.Keys("/"), append(st.Type(`"needle-xyz"`), st.Key("enter"))...)...)
	if v := view(); !strings.Contains(v, `"needle-xyz" found at 0x75300500`) || !strings.Contains(v, "stable page 30000") {
		t.Errorf("search for text:\n%s", v)
	}
	st.Run(m, append(st.Keys("/"), append(st.Type("6e 65 65 64 6c 65"), st.Key("enter"))...)...)
	if v := view(); !strings.Contains(v, "no bytes 6e6565646c65 in stable memory") {
		t.Errorf("a second search from the match finds no later one:\n%s", v)
	}
	st.Shot(t, m, 80, 24)
}
