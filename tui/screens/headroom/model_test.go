package headroom

import (
	"context"
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

// blocking reports one snapshot of three, then waits to be cancelled.
type blocking struct{}

func (blocking) Headroom(ctx context.Context, _ string, progress func(done, total int)) (source.HeadroomReport, error) {
	progress(1, 3)
	<-ctx.Done()
	return source.HeadroomReport{}, ctx.Err()
}

// TestHeadroomProgressAndCancel: the view counts the snapshots rehearsed
// while the rehearsals run; x cancels them and their late end is dropped.
func TestHeadroomProgressAndCancel(t *testing.T) {
	store := st.Incident()
	c := st.Context(t, "dark", 80, 24, source.Set{Catalog: store, Headroom: blocking{}})
	m := New(c, "ledger")
	m.SetSize(80, 22)
	batch := m.Init()().(tea.BatchMsg)
	next := m.Update(batch[0]()) // the first count
	if v := st.Plain(m.View()); !strings.Contains(v, "1 of 3 done") {
		t.Fatalf("the view does not count the rehearsals:\n%s", v)
	}
	m.Update(st.Key("x"))
	m.Update(next()) // the end, under the cancelled context
	if m.report != nil || m.err != nil || m.job.Running() || !strings.Contains(st.Plain(m.View()), "headroom cancelled") {
		t.Errorf("after x: report %v err %v running %v\n%s", m.report, m.err, m.job.Running(), st.Plain(m.View()))
	}
}
