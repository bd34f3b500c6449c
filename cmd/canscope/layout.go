package main

import (
	"fmt"

	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/layout"
)

// stableLayout decodes the layout of a snapshot's stable memory:
// ic-stable-structures' MemoryManager and structure headers, Motoko's
// stable variables (named by the module's motoko:stable-types section),
// or a Candid stable_save message.
func stableLayout(st store, m *snapshots.Manifest) (*layout.Layout, error) {
	l, err := layout.Detect(snapshots.NewMemoryReader(st, m.Stable), m.Stable.Size, stableTypes(st, m))
	if err != nil {
		return nil, fmt.Errorf("read the stable memory of %s: %w", m.Ref(), err)
	}
	return l, nil
}

// stableTypes returns the module's motoko:stable-types text, "" when the
// module has none or cannot be read (the layout is then detected without
// variable names).
func stableTypes(st store, m *snapshots.Manifest) string {
	if m.Module.IsZero() {
		return ""
	}
	code, err := st.ReadBlob(m.Module)
	if err != nil {
		return ""
	}
	if code, err = wasm.Decompress(code); err != nil {
		return ""
	}
	mod, err := wasm.Parse(code)
	if err != nil {
		return ""
	}
	text, _, _ := mod.Metadata("motoko:stable-types")
	return string(text)
}

// printLayout prints the layout as text or as one JSON document.
func (a *app) printLayout(st store, m *snapshots.Manifest, asJSON bool) error {
	l, err := stableLayout(st, m)
	if err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(l)
	}
	return l.Render(a.stdout)
}
