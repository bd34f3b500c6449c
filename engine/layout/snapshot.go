package layout

import (
	"fmt"

	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
)

// Store is what reading a stored snapshot's layout needs: its module blob
// (for the Motoko stable-variable names) and its stable memory pages.
type Store interface {
	snapshots.PageReader
	ReadBlob(h snapshots.Hash) ([]byte, error)
}

// Depth says how much of a stable memory Read decodes.
type Depth uint8

const (
	// Deep decodes serialised state too: Motoko variables and a Candid
	// stable_save message with their sizes and values (`canscope layout`).
	Deep Depth = iota
	// Shallow only locates what each range holds (DetectShallow): enough
	// to label diff ranges and hex rows, at a few small reads.
	Shallow
)

// Read detects the layout of snapshot m's stable memory, read from st,
// with the Motoko stable-variable names of m's module. It is the one
// reader of a stored snapshot's layout: `canscope layout`, the labels of
// `canscope diff --bytes` and the UI's diff screen all use it. A module
// that cannot be read only loses the Motoko names.
func Read(st Store, m *snapshots.Manifest, d Depth) (*Layout, error) {
	types, eop := stableTypes(st, m)
	r := snapshots.NewMemoryReader(st, m.Stable)
	var (
		l   *Layout
		err error
	)
	if d == Shallow {
		l, err = DetectShallow(r, m.Stable.Size, types)
	} else {
		l, err = Detect(r, m.Stable.Size, types)
	}
	if err != nil {
		return nil, fmt.Errorf("read the stable memory layout of %s: %w", m.Ref(), err)
	}
	if eop && l.Motoko != nil {
		l.Motoko.enhanced()
		l.Summary = l.Motoko.summary()
	}
	return l, nil
}

// stableTypes returns the motoko:stable-types text of m's module, "" when
// the module has none or cannot be read, and whether the module expects
// enhanced orthogonal persistence.
func stableTypes(st Store, m *snapshots.Manifest) (string, bool) {
	if m.Module.IsZero() {
		return "", false
	}
	code, err := st.ReadBlob(m.Module)
	if err != nil {
		return "", false
	}
	if code, err = wasm.Decompress(code); err != nil {
		return "", false
	}
	mod, err := wasm.Parse(code)
	if err != nil {
		return "", false
	}
	text, _, _ := mod.Metadata("motoko:stable-types")
	return string(text), mod.ExpectsEOP()
}
