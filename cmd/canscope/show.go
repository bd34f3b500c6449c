package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

func newShowCmd(a *app) *cobra.Command {
	var asJSON, withLayout bool
	cmd := &cobra.Command{
		Use:   "show SNAP [--json]",
		Short: "Show a snapshot: metadata, globals, sizes, module exports and Candid interface, lineage",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, m, err := a.loadManifest(args[0])
			if err != nil {
				return err
			}
			defer st.Close()
			if withLayout {
				return a.printLayout(st, m, asJSON)
			}
			all, err := st.List()
			if err != nil {
				return err
			}
			out := describe(st, m, all)
			if asJSON {
				return a.printJSON(out)
			}
			printShow(a.stdout, out)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the snapshot and its details as JSON")
	cmd.Flags().BoolVar(&withLayout, "layout", false, "decode the stable memory's layout (stable-structures, Motoko stable variables, Candid stable_save)")
	return cmd
}

// describe gathers what show prints. A module that cannot be read or
// parsed is reported in ModuleError, not as a failure: the snapshot's
// state is still worth showing.
func describe(st snapshots.Store, m *snapshots.Manifest, all []snapshots.Snapshot) showJSON {
	out := showJSON{
		Snapshot: m.Snapshot, Ref: m.Ref(), Globals: m.Globals,
		CertifiedData: hex.EncodeToString(m.CertifiedData), GlobalTimer: m.GlobalTimer,
		Chunks: m.Chunks, Exports: []string{}, ModuleMetadata: []string{},
	}
	if out.Globals == nil {
		out.Globals = []snapshots.Global{}
	}
	if out.Chunks == nil {
		out.Chunks = []snapshots.Hash{}
	}
	if m.LowWasmMemoryHook != "" {
		out.LowWasmMemoryHook = &m.LowWasmMemoryHook
	}
	out.Lineage = lineage(m.Snapshot, all)
	if m.Module.IsZero() {
		out.ModuleError = "no module installed"
		return out
	}
	raw, err := st.ReadBlob(m.Module)
	if err != nil {
		out.ModuleError = err.Error()
		return out
	}
	out.ModuleBytes = len(raw)
	code, err := wasm.Decompress(raw)
	if err == nil {
		var mod *wasm.Module
		if mod, err = wasm.Parse(code); err == nil {
			out.Exports = append(out.Exports, mod.ExportedFunctions()...)
			out.ModuleMetadata = append(out.ModuleMetadata, mod.MetadataNames()...)
			if did, _, ok := mod.Metadata("candid:service"); ok {
				s := string(did)
				out.Candid = &s
			}
		}
	}
	if err != nil {
		out.ModuleError = err.Error()
	}
	return out
}

// lineage returns the ancestors of s, root first, s included. A parent
// missing from the store ends the walk (fsck reports it).
func lineage(s snapshots.Snapshot, all []snapshots.Snapshot) []lineageJSON {
	byID := make(map[snapshots.ID]snapshots.Snapshot, len(all))
	for _, x := range all {
		byID[x.ID] = x
	}
	var chain []lineageJSON
	for cur, ok := s, true; ok && len(chain) <= len(all); {
		chain = append(chain, lineageJSON{ID: cur.ID, Ref: cur.Ref(), MadeBy: cur.MadeBy})
		if cur.Parent == nil {
			break
		}
		cur, ok = byID[*cur.Parent]
	}
	slices.Reverse(chain) // root first
	return chain
}

func printShow(w io.Writer, s showJSON) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("snapshot", "%s", s.Ref)
	row("id", "%s", s.ID)
	row("made by", "%s", s.MadeBy)
	row("created", "%s", s.CreatedAt.Format("2006-01-02 15:04:05 MST"))
	if s.Note != "" {
		row("note", "%s", s.Note)
	}
	var chain []string
	for _, l := range s.Lineage {
		chain = append(chain, fmt.Sprintf("%s (%s)", l.Ref, l.MadeBy))
	}
	row("lineage", "%s", strings.Join(chain, " → "))
	if s.ForkedFrom != nil {
		row("forked from", "%s", s.ForkedFrom.Short())
	}
	row("canister", "%s", orDash(s.CanisterID))
	row("version", "%d", s.CanisterVersion)
	row("taken at", "%s", takenAt(s.TakenAt))
	row("module", "%s (%s)", shortHash(s.ModuleHash), humanize.IBytes(uint64(s.ModuleBytes)))
	row("heap", "%s, %d of %d pages stored", humanize.IBytes(s.HeapBytes), s.HeapPagesStored, pages(s.HeapBytes))
	row("stable memory", "%s, %d of %d pages stored", humanize.IBytes(s.StableBytes), s.StablePagesStored, pages(s.StableBytes))
	row("certified data", "%s", orDash(s.CertifiedData))
	row("global timer", "%s", timerText(s.GlobalTimer))
	hook := "null"
	if s.LowWasmMemoryHook != nil {
		hook = *s.LowWasmMemoryHook
	}
	row("low memory hook", "%s", hook)
	row("chunk store", "%d chunks", len(s.Chunks))
	for i, g := range s.Globals {
		row(fmt.Sprintf("global %d", i), "%s", globalText(&g))
	}
	if s.ModuleError != "" {
		row("exports", "unavailable: %s", s.ModuleError)
	} else {
		row("exports", "%s", orDash(strings.Join(s.Exports, ", ")))
		row("module metadata", "%s", orDash(strings.Join(s.ModuleMetadata, ", ")))
	}
	tw.Flush()
	if s.Candid != nil {
		fmt.Fprintf(w, "\ncandid:service\n%s\n", strings.TrimRight(*s.Candid, "\n"))
	}
}
