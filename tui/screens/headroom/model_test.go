package headroom

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/tui/frame"
	st "github.com/canscope/canscope/tui/internal/screentest"
	"github.com/canscope/canscope/tui/source"
)

func open(t *testing.T, w, h int, src source.Set, name string) *Model {
	t.Helper()
	return st.Open(t, "dark", w, h, src, func(c *frame.Context) *Model { return New(c, name) })
}

func TestHeadroom(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		keys []tea.Msg
	}{
		{"ledger_80x24", 80, 24, nil},
		{"ledger_scrolled_80x24", 80, 24, st.Keys("G")},
		{"ledger_160x48", 160, 48, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := st.Incident()
			m := open(t, tt.w, tt.h, source.Set{Catalog: store}, "ledger")
			st.Run(m, tt.keys...)
			st.Shot(t, m, tt.w, tt.h)
		})
	}
}

// TestHeadroomSaysWhatIsCut: at 80x24 the limits do not all fit; the
// last row says how many lines follow, and scrolling reaches the last
// limit.
func TestHeadroomSaysWhatIsCut(t *testing.T) {
	store := st.Incident()
	m := open(t, 80, 24, source.Set{Catalog: store}, "ledger")
	if v := st.Plain(m.View()); !strings.Contains(v, "more lines (↓ scrolls)") || strings.Contains(v, "heap_bytes:") {
		t.Fatalf("the first page hides lines without saying so:\n%s", v)
	}
	st.Run(m, st.Key("G"))
	if v := st.Plain(m.View()); !strings.Contains(v, "heap_bytes:") || strings.Contains(v, "more lines") {
		t.Errorf("the bottom does not show the last limit:\n%s", v)
	}
}

// TestHeadroomUnknownName: a lineage that does not exist is one error
// line naming it.
func TestHeadroomUnknownName(t *testing.T) {
	store := st.Incident()
	m := open(t, 80, 24, source.Set{Catalog: store}, "nope")
	if v := st.Plain(m.View()); !strings.Contains(v, `error: headroom of nope: no snapshot is named "nope"`) {
		t.Errorf("view:\n%s", v)
	}
}
