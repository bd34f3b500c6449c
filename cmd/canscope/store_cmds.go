package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/snapshots/fsstore"
	"github.com/canscope/canscope/snapshots/layout"
	"github.com/charmbracelet/x/term"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

// snapshotResult is the JSON of every store command that makes a
// snapshot: {"snapshot": {...}}.
type snapshotResult struct {
	Snapshot snapshots.Snapshot `json:"snapshot"`
}

func newImportCmd(a *app) *cobra.Command {
	var opt dfx.ImportOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import DIR [--name N] [--canister-id ID]",
		Short: "Import a `dfx canister snapshot download` directory into the store",
		Long: `Import a directory written by ` + "`dfx canister snapshot download <canister> <id> --dir DIR`" + `.
dfx's directory does not record the canister id: pass --canister-id to keep it
(it is then also the default name). Importing under an existing name adds the
next NAME@N, a child of the newest snapshot of that name that keeps its
canister id.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.openStore()
			if err != nil {
				return err
			}
			defer st.Close()
			opt.Progress = new(atomic.Uint64)
			stop := a.showProgress("importing", opt.Progress)
			snap, err := dfx.Import(cmd.Context(), st, args[0], opt)
			stop()
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(snapshotResult{snap})
			}
			fmt.Fprintf(a.stdout, "imported %s (%s): heap %s (%d pages stored), stable memory %s (%d pages stored)\n",
				snap.Ref(), snap.ID.Short(), humanize.IBytes(snap.HeapBytes), snap.HeapPagesStored,
				humanize.IBytes(snap.StableBytes), snap.StablePagesStored)
			return nil
		},
	}
	cmd.Flags().StringVar(&opt.Name, "name", "", "snapshot name (default: the canister id, else the directory name)")
	cmd.Flags().StringVar(&opt.CanisterID, "canister-id", "", "canister id to record (dfx's directory does not carry it)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the snapshot as JSON")
	return cmd
}

// showProgress prints "<what>: N GiB (R/s)" on stderr five times a second
// until stop is called, when stderr is a terminal: a 60 GiB import takes
// long enough to wonder. Scripts and pipes get no progress noise.
func (a *app) showProgress(what string, done *atomic.Uint64) (stop func()) {
	f, ok := a.stderr.(*os.File)
	if !ok || !term.IsTerminal(f.Fd()) {
		return func() {}
	}
	start := time.Now()
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				n := done.Load()
				rate := uint64(float64(n) / time.Since(start).Seconds())
				fmt.Fprintf(f, "\r%s: %s (%s/s)\033[K", what, humanize.IBytes(n), humanize.IBytes(rate))
			case <-quit:
				fmt.Fprint(f, "\r\033[K")
				return
			}
		}
	}()
	return func() { close(quit); <-finished }
}

func newExportCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "export SNAP DIR",
		Short: "Write a snapshot as a directory `dfx canister snapshot upload` accepts",
		Long: `Write SNAP into DIR (new or empty) as metadata.json, wasm_module.bin,
wasm_memory.bin, stable_memory.bin (when not empty) and wasm_chunk_store/.
An imported snapshot exports byte-identical files. Memories are written as
sparse files. Upload with:
  dfx canister snapshot upload <canister> --dir DIR
or use 'canscope restore', which also prints the whole dfx sequence.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			snap, err := a.export(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(exportJSON{Dir: args[1], Snapshot: snap})
			}
			fmt.Fprintf(a.stdout, "exported %s (%s) to %s\n", snap.Ref(), snap.ID.Short(), args[1])
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the directory and the snapshot as JSON")
	return cmd
}

// exportJSON is export's --json output.
type exportJSON struct {
	Dir      string             `json:"dir"`
	Snapshot snapshots.Snapshot `json:"snapshot"`
}

// export writes snapshot ref as a dfx snapshot directory at dir.
func (a *app) export(ctx context.Context, ref, dir string) (snapshots.Snapshot, error) {
	st, m, err := a.loadManifest(ref)
	if err != nil {
		return snapshots.Snapshot{}, err
	}
	defer st.Close()
	if err := dfx.Export(ctx, st, m, dir); err != nil {
		return snapshots.Snapshot{}, err
	}
	return m.Snapshot, nil
}

// loadManifest opens the store and reads the manifest ref names.
func (a *app) loadManifest(ref string) (*fsstore.Store, *snapshots.Manifest, error) {
	st, err := a.openStore()
	if err != nil {
		return nil, nil, err
	}
	snap, err := st.Resolve(ref)
	if err == nil {
		var m *snapshots.Manifest
		if m, err = st.Manifest(snap.ID); err == nil {
			return st, m, nil
		}
	}
	st.Close()
	return nil, nil, err
}

func newLsCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls [--json]",
		Short: "List the snapshots in the store, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.openStore()
			if err != nil {
				return err
			}
			defer st.Close()
			all, err := st.List()
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(struct {
					Snapshots []snapshots.Snapshot `json:"snapshots"`
				}{all})
			}
			if len(all) == 0 {
				fmt.Fprintln(a.stdout, "no snapshots: import one with `canscope import DIR`, or try `canscope demo`")
				return nil
			}
			printList(a.stdout, all)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"snapshots": [...]} as JSON`)
	return cmd
}

func printList(w io.Writer, all []snapshots.Snapshot) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SNAPSHOT\tID\tMADE BY\tCREATED\tCANISTER\tVERSION\tHEAP\tSTABLE\tMODULE")
	for _, s := range all {
		canister := s.CanisterID
		if canister == "" {
			canister = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", s.Ref(), s.ID.Short(), s.MadeBy,
			s.CreatedAt.Format("2006-01-02 15:04:05"), canister, s.CanisterVersion,
			humanize.IBytes(s.HeapBytes), humanize.IBytes(s.StableBytes), shortHash(s.ModuleHash))
	}
	tw.Flush()
}

func shortHash(h snapshots.Hash) string {
	if h.IsZero() {
		return "-"
	}
	return h.Short()
}

// showJSON is `show --json`: the snapshot object plus the details only
// show prints.
type showJSON struct {
	snapshots.Snapshot
	Ref               string               `json:"ref"`
	Lineage           []lineageJSON        `json:"lineage"`
	Globals           []snapshots.Global   `json:"globals"`
	CertifiedData     string               `json:"certified_data"`
	GlobalTimer       snapshots.TimerState `json:"global_timer"`
	LowWasmMemoryHook *string              `json:"on_low_wasm_memory_hook_status"`
	Chunks            []snapshots.Hash     `json:"wasm_chunk_store"`
	ModuleBytes       int                  `json:"module_bytes"`
	Exports           []string             `json:"exports"`
	Candid            *string              `json:"candid"`
	ModuleMetadata    []string             `json:"module_metadata"`
	// ModuleError says why exports and candid are missing, "" when the
	// module parsed.
	ModuleError string `json:"module_error,omitempty"`
}

// lineageJSON is one ancestor, root first.
type lineageJSON struct {
	ID     snapshots.ID     `json:"id"`
	Ref    string           `json:"ref"`
	MadeBy snapshots.MadeBy `json:"made_by"`
}

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

func pages(size uint64) uint64 { return (size + snapshots.PageSize - 1) / snapshots.PageSize }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timerText(t snapshots.TimerState) string {
	switch {
	case t.Unknown:
		return "null"
	case t.Active:
		return fmt.Sprintf("active, deadline %d", t.Deadline)
	}
	return "inactive"
}

// globalText renders a global as its wasm type and value.
func globalText(g *snapshots.Global) string {
	if g == nil {
		return "(none)"
	}
	switch g.Kind {
	case snapshots.KindI32:
		return fmt.Sprintf("i32 %d", int32(g.Bits))
	case snapshots.KindI64:
		return fmt.Sprintf("i64 %d", int64(g.Bits))
	case snapshots.KindF32:
		return "f32 " + strconv.FormatFloat(float64(math.Float32frombits(uint32(g.Bits))), 'g', -1, 32)
	case snapshots.KindF64:
		return "f64 " + strconv.FormatFloat(math.Float64frombits(g.Bits), 'g', -1, 64)
	case snapshots.KindV128:
		return fmt.Sprintf("v128 0x%016x%016x", g.Hi, g.Bits) // high half first
	}
	return string(g.Kind)
}

func newDiffCmd(a *app) *cobra.Command {
	var asJSON, withBytes bool
	cmd := &cobra.Command{
		Use:   "diff A B [--json] [--bytes]",
		Short: "Compare two snapshots: changed, added and removed memory ranges, globals, metadata",
		Long: `Compare two snapshots page by page from their manifests (no page is read),
then with --bytes read the changed pages and list the exact byte ranges
that differ. Ranges are byte offsets, end exclusive.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, ma, err := a.loadManifest(args[0])
			if err != nil {
				return err
			}
			defer st.Close()
			snap, err := st.Resolve(args[1])
			if err != nil {
				return err
			}
			mb, err := st.Manifest(snap.ID)
			if err != nil {
				return err
			}
			d := snapshots.Diff(ma, mb)
			if withBytes {
				if err := d.AddBytes(cmd.Context(), st, ma, mb); err != nil {
					return fmt.Errorf("diff %s %s: %w", ma.Ref(), mb.Ref(), err)
				}
				// Pages are being read anyway: name what the stable ranges
				// hold too.
				labelStable(st, ma, mb, d)
			}
			if asJSON {
				return a.printJSON(d)
			}
			printDiff(a.stdout, ma, mb, d)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the diff as JSON")
	cmd.Flags().BoolVar(&withBytes, "bytes", false, "also list the changed byte ranges inside changed pages (reads them)")
	return cmd
}

// maxBytesShown caps the byte ranges printed per range in human output;
// --json has them all.
const maxBytesShown = 8

func printDiff(w io.Writer, a, b *snapshots.Manifest, d *snapshots.Changes) {
	fmt.Fprintf(w, "%s (%s) → %s (%s)\n", a.Ref(), a.ID.Short(), b.Ref(), b.ID.Short())
	if d.Empty() {
		fmt.Fprintln(w, "identical state")
		return
	}
	for _, mem := range []struct {
		name string
		d    snapshots.MemDiff
	}{{"heap", d.Heap}, {"stable memory", d.Stable}} {
		size := humanize.IBytes(mem.d.SizeA)
		if mem.d.SizeA != mem.d.SizeB {
			size += " → " + humanize.IBytes(mem.d.SizeB)
		}
		if len(mem.d.Ranges) == 0 {
			fmt.Fprintf(w, "%s: %s, identical\n", mem.name, size)
			continue
		}
		fmt.Fprintf(w, "%s: %s, %d pages differ in %d ranges\n", mem.name, size, mem.d.ChangedPages, len(mem.d.Ranges))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, r := range mem.d.Ranges {
			label := ""
			if r.Label != "" {
				label = "\t" + r.Label
			}
			fmt.Fprintf(tw, "  %s\t%#010x-%#010x\t%s%s\n", r.Kind, r.Start, r.End, humanize.IBytes(r.End-r.Start), label)
			for i, br := range r.Bytes {
				if i == maxBytesShown {
					fmt.Fprintf(tw, "    …\t%d more byte ranges (see --json)\n", len(r.Bytes)-i)
					break
				}
				fmt.Fprintf(tw, "    bytes\t%#010x-%#010x\t%s\n", br.Start, br.End, humanize.IBytes(br.End-br.Start))
			}
		}
		tw.Flush()
	}
	if len(d.Globals) > 0 {
		fmt.Fprintln(w, "globals:")
		for _, g := range d.Globals {
			fmt.Fprintf(w, "  %d: %s → %s\n", g.Index, globalText(g.A), globalText(g.B))
		}
	}
	if len(d.Metadata) > 0 {
		fmt.Fprintln(w, "metadata:")
		for _, c := range d.Metadata {
			fmt.Fprintf(w, "  %s: %v → %v\n", c.Key, metaText(c.A), metaText(c.B))
		}
	}
}

// labelStable names what each changed stable memory range holds, from the
// stable-structures or Motoko layout of snapshot b (of a when b has no
// stable memory). Memories without a known layout stay unlabelled.
func labelStable(st *fsstore.Store, a, b *snapshots.Manifest, d *snapshots.Changes) {
	m := b
	if m.Stable.Size == 0 {
		m = a
	}
	if len(d.Stable.Ranges) == 0 || m.Stable.Size == 0 {
		return
	}
	l, err := layout.DetectShallow(snapshots.NewMemoryReader(st, m.Stable), m.Stable.Size, stableTypes(st, m))
	if err != nil {
		return // a label is a convenience; the diff itself stands
	}
	for i, r := range d.Stable.Ranges {
		d.Stable.Ranges[i].Label = l.DescribeRange(r.Start, min(r.End, m.Stable.Size))
	}
}

func metaText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return orDash(x)
	case snapshots.TimerState:
		return timerText(x)
	case []string:
		return fmt.Sprintf("%d chunks", len(x))
	}
	return fmt.Sprint(v)
}

func newForkCmd(a *app) *cobra.Command {
	var name string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fork SNAP --name N",
		Short: "Start a new named branch from a snapshot (shares all its pages)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return errors.New("fork needs --name NAME for the new branch")
			}
			st, err := a.openStore()
			if err != nil {
				return err
			}
			defer st.Close()
			snap, err := st.Fork(cmd.Context(), args[0], name)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(snapshotResult{snap})
			}
			fmt.Fprintf(a.stdout, "forked %s (%s) from %s\n", snap.Ref(), snap.ID.Short(), snap.Parent.Short())
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "name of the new branch")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the new snapshot as JSON")
	return cmd
}

func newFsckCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fsck [--json]",
		Short: "Verify every blob and manifest of the store; exit 1 when anything is damaged",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.openStore()
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := st.Check(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if err := a.printJSON(rep); err != nil {
					return err
				}
			} else {
				for _, p := range rep.Problems {
					fmt.Fprintln(a.stdout, p.String())
				}
				fmt.Fprintf(a.stdout, "checked %d snapshots and %d blobs (%d unreferenced): %d problems\n",
					rep.SnapshotsChecked, rep.BlobsChecked, rep.UnreferencedBlobs, len(rep.Problems))
			}
			if !rep.OK {
				return &statusError{code: exitError, err: fmt.Errorf("fsck found %d problems in store %s", len(rep.Problems), st.Dir())}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// takenAt renders a snapshot's taken_at (ns since the epoch) as UTC time
// with the raw value, which is what dfx and the replica print.
func takenAt(ns uint64) string {
	if ns == 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%d)", time.Unix(0, int64(ns)).UTC().Format("2006-01-02 15:04:05 UTC"), ns)
}
