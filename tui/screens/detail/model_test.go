package detail

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/bridge"
	"github.com/canscope/canscope/tui/frame"
	st "github.com/canscope/canscope/tui/internal/screentest"
	"github.com/canscope/canscope/tui/source"
)

func open(t *testing.T, theme string, w, h int, src source.Set, id snapshots.ID) *Model {
	t.Helper()
	return st.Open(t, theme, w, h, src, func(c *frame.Context) *Model { return New(c, id) })
}

func TestDetail(t *testing.T) {
	store := st.Incident()
	src := source.Set{Catalog: store, Inspect: bridge.Inspect, Labeller: bridge.StableLayout}
	tests := []struct {
		name string
		ref  string
		w, h int
		keys []tea.Msg
	}{
		{"metadata_80x24", "ledger@2", 80, 24, nil},
		{"module_80x24", "ledger@2", 80, 24, st.Keys("G")},
		{"maps_80x24", "ledger@2", 80, 24, st.Keys("tab", "tab")},
		{"zoomed_80x24", "ledger@3", 80, 24, st.Keys("+", "+", "tab", "tab", "tab")},
		{"no_inspector_80x24", "counter@1", 80, 24, st.Keys("G")},
		{"whole_160x48", "ledger@2", 160, 48, nil},
		{"root_snapshot_80x24", "ledger@1", 80, 24, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := src
			if strings.HasPrefix(tt.name, "no_inspector") {
				src.Inspect = nil
			}
			m := open(t, "dark", tt.w, tt.h, src, store.ID(t, tt.ref))
			st.Run(m, tt.keys...)
			st.Shot(t, m, tt.w, tt.h)
		})
	}
}

func TestDetailMissingSnapshot(t *testing.T) {
	m := open(t, "dark", 80, 24, source.Set{Catalog: st.Incident()}, snapshots.HashOf([]byte("nope")))
	if v := st.Plain(m.View()); !strings.Contains(v, "error: read snapshot") || !strings.Contains(v, "not found") {
		t.Errorf("view does not explain the missing snapshot:\n%s", v)
	}
}

func TestDetailScrollAndResize(t *testing.T) {
	store := st.Incident()
	m := open(t, "dark", 80, 24, source.Set{Catalog: store}, store.ID(t, "ledger@2"))
	st.Run(m, st.Key("G"))
	last := m.offset
	if last == 0 {
		t.Fatal("G should scroll to the bottom")
	}
	m.SetSize(160, 46) // a bigger window shows more: the offset must shrink
	if m.offset >= last {
		t.Errorf("after growing the window offset %d should be below %d", m.offset, last)
	}
	st.CheckSize(t, m.View(), 160, 46)
	m.SetSize(20, 3)
	st.CheckSize(t, m.View(), 20, 3)
	if nav := st.Run(m, st.Key("r")); len(nav) != 1 || nav[0] != (frame.OpenRunMsg{ID: store.ID(t, "ledger@2")}) {
		t.Errorf("r = %v, want the run screen", nav)
	}
}

// An EOP Motoko snapshot's detail screen lists its stable variables in
// Motoko syntax under the layout summary.
func TestDetailMotokoStableTypes(t *testing.T) {
	code, err := os.ReadFile(filepath.Join("..", "..", "..", "engine", "testdata", "eop_counter.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	store := st.NewMemory()
	h := store.Blob(code)
	store.Add(&snapshots.Manifest{
		Snapshot: snapshots.Snapshot{Name: "eop", MadeBy: snapshots.MadeByImport, ModuleHash: h},
		Module:   h,
		Heap:     snapshots.PageTable{Size: 65 * snapshots.PageSize},
	})
	m := open(t, "dark", 160, 200, source.Set{Catalog: store, Inspect: bridge.Inspect, Labeller: bridge.StableLayout}, store.ID(t, "eop@1"))
	v := st.Plain(m.View())
	for _, want := range []string{
		"layout: Motoko (enhanced orthogonal persistence): 2 stable variables (count, upgrades), kept in the heap",
		"  stable var count : Nat",
		"  stable var upgrades : Nat",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
}
