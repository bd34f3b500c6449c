package lineage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/frame"
	st "github.com/canscope/canscope/tui/internal/screentest"
	"github.com/canscope/canscope/tui/source"
)

func newScreen(t *testing.T, theme string, w, h int, src source.Set) *Model {
	t.Helper()
	return st.Open(t, theme, w, h, src, New)
}

func TestLineage(t *testing.T) {
	store := st.Incident()
	src := source.Set{Catalog: store, Demo: func(context.Context) error { return nil }}
	tests := []struct {
		name string
		w, h int
		keys []tea.Msg
	}{
		{"tree_80x24", 80, 24, nil},
		{"tree_160x48", 160, 48, nil},
		{"cursor_and_marks_80x24", 80, 24, st.Keys("down", "space", "down", "down", "space")},
		{"filter_80x24", 80, 24, append(st.Keys("/"), st.Type("hotfix")...)},
		{"filter_applied_80x24", 80, 24, append(append(st.Keys("/"), st.Type("counter")...), st.Key("enter"))},
		{"tiny_40x8", 40, 8, st.Keys("G")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newScreen(t, "dark", tt.w, tt.h, src)
			st.Run(m, tt.keys...)
			st.Shot(t, m, tt.w, tt.h)
		})
	}
}

func TestLineageEmptyStore(t *testing.T) {
	loaded := 0
	empty := st.NewMemory()
	full := st.Incident()
	var cat *st.Memory = empty
	src := source.Set{Catalog: switching{cur: &cat}, Demo: func(context.Context) error { loaded++; cat = full; return nil }}
	m := newScreen(t, "dark", 80, 24, src)
	st.Golden(t, m.View())
	st.Run(m, st.Key("D"))
	if loaded != 1 {
		t.Fatalf("demo loaded %d times, want 1", loaded)
	}
	if len(m.all) != 6 {
		t.Errorf("after the demo the list has %d snapshots, want 6", len(m.all))
	}
	st.Run(m, st.Key("D"))
	if loaded != 1 {
		t.Error("D on a full store must not load the demo again")
	}
}

// TestLineageDemoFailsAndErrors: a demo that fails says so, and a store
// that cannot be listed shows its error.
func TestLineageDemoFailsAndErrors(t *testing.T) {
	m := newScreen(t, "dark", 80, 24, source.Set{Catalog: st.NewMemory()})
	st.Run(m, st.Key("D"))
	if m.err == nil {
		t.Error("a failing demo load should say why")
	}
	m = newScreen(t, "dark", 80, 24, source.Set{Catalog: failing{}})
	st.Golden(t, m.View())
}

func TestLineageNavigation(t *testing.T) {
	store := st.Incident()
	m := newScreen(t, "dark", 80, 24, source.Set{Catalog: store})
	l1, l2, l3 := store.ID(t, "ledger@1"), store.ID(t, "ledger@2"), store.ID(t, "ledger@3")
	tests := []struct {
		name string
		keys []tea.Msg
		want tea.Msg
	}{
		{"enter opens detail", st.Keys("enter"), frame.OpenDetailMsg{ID: l1}},
		{"r opens run", st.Keys("down", "r"), frame.OpenRunMsg{ID: l2}},
		{"f opens fork", st.Keys("f"), frame.OpenRestoreMsg{ID: l1}},
		// Marked newer first: the diff still puts the older one on the left.
		{"two marks diff older first", st.Keys("home", "down", "down", "down", "space", "home", "space", "d"), frame.OpenDiffMsg{A: l1, B: l3}},
		{"one mark diffs against cursor", st.Keys("home", "space", "space", "down", "space", "up", "d"), frame.OpenDiffMsg{A: l1, B: l2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m.marked = nil
			nav := st.Run(m, append(st.Keys("home"), tt.keys...)...)
			if len(nav) != 1 || nav[0] != tt.want {
				t.Errorf("navigation = %v, want %v", nav, tt.want)
			}
		})
	}
	m.marked = nil
	if nav := st.Run(m, st.Key("d")); len(nav) != 0 || m.notice == "" {
		t.Errorf("d without marks should explain, got nav %v notice %q", nav, m.notice)
	}
}

func TestLineageTreeShape(t *testing.T) {
	store := st.Incident()
	list, _ := store.List()
	rows := lineage(list)
	var got []string
	for _, r := range rows {
		if r.heading() {
			got = append(got, "# "+r.canister)
			continue
		}
		got = append(got, string(rune('0'+r.depth))+" "+r.snap.Ref())
	}
	// Continuations stay at depth 0; the fork and the checkpoint indent
	// under the snapshot they branched from.
	want := []string{
		"# " + st.LedgerCanister, "0 ledger@1", "0 ledger@2", "1 hotfix@1", "0 ledger@3", "1 trap-point@1",
		"# " + st.CounterCanister, "0 counter@1",
	}
	if len(got) != len(want) {
		t.Fatalf("rows = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("rows = %q, want %q", got, want)
		}
	}
}

// switching is a catalog whose backing store a test can swap, to model
// the demo filling an empty store.
type switching struct {
	source.Catalog
	cur **st.Memory
}

func (s switching) List() ([]snapshots.Snapshot, error) { return (*s.cur).List() }

// failing is a catalog that cannot list.
type failing struct{ source.Catalog }

func (failing) List() ([]snapshots.Snapshot, error) { return nil, errors.New("permission denied") }

// TestLineageBranchContinues checks that a branch's own history stays at
// the branch's depth, marked as a branch only on its first snapshot.
func TestLineageBranchContinues(t *testing.T) {
	id := func(s string) snapshots.ID { return snapshots.HashOf([]byte(s)) }
	ptr := func(s string) *snapshots.ID { i := id(s); return &i }
	list := []snapshots.Snapshot{
		{ID: id("a1"), Name: "a", Seq: 1, CanisterID: "c"},
		{ID: id("f1"), Name: "fix", Seq: 1, CanisterID: "c", Parent: ptr("a1"), ForkedFrom: ptr("a1"), MadeBy: snapshots.MadeByTransplant},
		{ID: id("f2"), Name: "fix", Seq: 2, CanisterID: "c", Parent: ptr("f1"), MadeBy: snapshots.MadeByUpgrade},
		{ID: id("a2"), Name: "a", Seq: 2, CanisterID: "c", Parent: ptr("a1"), MadeBy: snapshots.MadeByCall},
		{ID: id("o1"), Name: "orphan", Seq: 1, CanisterID: "c", Parent: ptr("gone")},
	}
	var got []string
	for _, r := range lineage(list) {
		if !r.heading() {
			got = append(got, fmt.Sprintf("%d%v %s", r.depth, r.branch, r.snap.Ref()))
		}
	}
	want := []string{"0false a@1", "1true fix@1", "1false fix@2", "0false a@2", "0false orphan@1"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("rows = %q, want %q", got, want)
	}
}

// TestLineageCloseStopsDemo: quitting while the demo loads cancels the
// load instead of letting it write into a store being closed.
func TestLineageCloseStopsDemo(t *testing.T) {
	var demoCtx context.Context
	src := source.Set{Catalog: st.NewMemory(), Demo: func(ctx context.Context) error { demoCtx = ctx; return ctx.Err() }}
	m := newScreen(t, "dark", 80, 24, src)
	load := m.Update(st.Key("D"))
	m.Close()
	m.Update(load())
	if demoCtx == nil || demoCtx.Err() == nil {
		t.Errorf("the demo load's context is still live after Close")
	}
}
