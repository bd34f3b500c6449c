package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/canscope/canscope/engine/layout"
	"github.com/canscope/canscope/snapshots"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

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
		verb := "differ"
		if mem.d.ChangedPages == 1 {
			verb = "differs"
		}
		fmt.Fprintf(w, "%s: %s, %s %s in %s\n", mem.name, size, count(mem.d.ChangedPages, "page"), verb, count(uint64(len(mem.d.Ranges)), "range"))
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
func labelStable(st store, a, b *snapshots.Manifest, d *snapshots.Changes) {
	m := b
	if m.Stable.Size == 0 {
		m = a
	}
	if len(d.Stable.Ranges) == 0 || m.Stable.Size == 0 {
		return
	}
	l, err := layout.Read(st, m, layout.Shallow)
	if err != nil {
		return // a label is a convenience; the diff itself stands
	}
	for i, r := range d.Stable.Ranges {
		d.Stable.Ranges[i].Label = l.DescribeRange(r.Start, min(r.End, m.Stable.Size))
	}
}
