package bridge

import (
	"errors"

	"github.com/canscope/canscope/engine/layout"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/source"
)

// StableLayout names stable-memory ranges after what owns them, for the
// diff screen: the ic-stable-structures virtual memory (and the structure
// in it) or the Motoko stable-variable area, as engine/layout recognises
// them from a few small reads of m's stable memory. It satisfies
// source.StableLabeller. A module that cannot be read only loses the
// Motoko hint; a memory with no recognised layout is an error that says
// why.
func StableLayout(m *snapshots.Manifest, cat source.Catalog) (source.StableLayout, error) {
	l, err := layout.Read(cat, m, layout.Shallow)
	if err != nil {
		return source.StableLayout{}, err
	}
	if l.Kind == layout.KindUnknown || l.Kind == layout.KindEmpty {
		return source.StableLayout{}, errors.New(l.Summary)
	}
	return source.StableLayout{Summary: l.Summary, Lines: l.MotokoLines(), Label: l.DescribeRange}, nil
}
