package main

import (
	"github.com/canscope/canscope/engine/layout"
	"github.com/canscope/canscope/snapshots"
)

// printLayout prints the layout as text or as one JSON document.
func (a *app) printLayout(st store, m *snapshots.Manifest, asJSON bool) error {
	// ic-stable-structures' MemoryManager and structure headers, Motoko's
	// stable variables (named by the module's motoko:stable-types
	// section), or a Candid stable_save message.
	l, err := layout.Read(st, m, layout.Deep)
	if err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(l)
	}
	return l.Render(a.stdout)
}
