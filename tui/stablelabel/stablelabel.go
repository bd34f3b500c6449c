// Package stablelabel names stable-memory ranges after what owns them, for
// the diff screen: the ic-stable-structures virtual memory (and the
// structure in it) or the Motoko stable-variable area, as recognised by
// snapshots/layout from a few small reads of stable memory.
package stablelabel

import (
	"errors"
	"fmt"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/layout"
	"github.com/canscope/canscope/tui/modinfo"
	"github.com/canscope/canscope/tui/source"
)

// For detects the layout of m's stable memory. It satisfies
// source.StableLabeller. A module that cannot be read only loses the
// Motoko hint; a memory with no recognised layout is an error that says
// why.
func For(m *snapshots.Manifest, cat source.Catalog) (source.StableLayout, error) {
	var stableTypes string
	if !m.Module.IsZero() {
		if b, err := cat.ReadBlob(m.Module); err == nil {
			if info, err := modinfo.Inspect(b); err == nil {
				stableTypes = info.StableTypes
			}
		}
	}
	l, err := layout.DetectShallow(snapshots.NewMemoryReader(cat, m.Stable), m.Stable.Size, stableTypes)
	if err != nil {
		return source.StableLayout{}, fmt.Errorf("read the stable memory layout of %s: %w", m.Ref(), err)
	}
	if l.Kind == layout.KindUnknown || l.Kind == layout.KindEmpty {
		return source.StableLayout{}, errors.New(l.Summary)
	}
	return source.StableLayout{Summary: l.Summary, Label: l.DescribeRange}, nil
}
