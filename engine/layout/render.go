package layout

import (
	"fmt"
	"io"
	"strings"

	"github.com/dustin/go-humanize"
)

// Render writes l as text for `canscope show SNAP --layout`: the summary,
// then per memory or variable one line, and any problems.
func (l *Layout) Render(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "stable memory: %s (%d bytes)\n", humanize.IBytes(l.StableBytes), l.StableBytes)
	fmt.Fprintf(&b, "layout: %s\n", l.Summary)
	switch {
	case l.Manager != nil:
		renderManager(&b, l.Manager)
	case l.Structure != nil:
		fmt.Fprintf(&b, "  %s\n", structureLine(l.Structure))
	case l.Motoko != nil:
		renderMotoko(&b, l.Motoko)
	case l.Candid != nil && l.Candid.Values != "":
		fmt.Fprintf(&b, "  %s\n", l.Candid.Values)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// String returns Render's text.
func (l *Layout) String() string {
	var b strings.Builder
	l.Render(&b) // a strings.Builder never fails
	return b.String()
}

func renderManager(b *strings.Builder, m *Manager) {
	if len(m.Memories) > 0 {
		fmt.Fprintf(b, "  %-4s %10s  %-24s %s\n", "id", "size", "buckets", "structure")
	}
	for _, mem := range m.Memories {
		s := "-"
		if mem.Structure != nil {
			s = structureLine(mem.Structure)
		}
		fmt.Fprintf(b, "  %-4d %10s  %-24s %s\n", mem.ID, humanize.IBytes(mem.SizePages*wasmPageSize), bucketList(mem.Buckets), s)
	}
	if len(m.FreeBuckets) > 0 {
		fmt.Fprintf(b, "  free buckets: %s\n", bucketList(m.FreeBuckets))
	}
	for _, p := range m.Problems {
		fmt.Fprintf(b, "  problem: %s\n", p)
	}
}

// bucketList abbreviates runs: [0 1 2 3 7] → "0-3,7".
func bucketList(bs []int) string {
	if len(bs) == 0 {
		return "-"
	}
	var parts []string
	for i := 0; i < len(bs); {
		j := i
		for j+1 < len(bs) && bs[j+1] == bs[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", bs[i], bs[j]))
		} else {
			parts = append(parts, fmt.Sprint(bs[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func structureLine(s *Structure) string {
	line := s.Type
	if s.Version > 0 {
		line += fmt.Sprintf(" v%d", s.Version)
	}
	if s.Detail != "" {
		line += ": " + s.Detail
	}
	return line
}

func renderMotoko(b *strings.Builder, mo *Motoko) {
	if mo.Version >= 0 {
		fmt.Fprintf(b, "  format v%d, serialised variables at %d, %d bytes", mo.Version, mo.DataOffset, mo.DataBytes)
		if mo.UserPages > 0 {
			fmt.Fprintf(b, ", after %s of the canister's own stable memory", plural(int(mo.UserPages), "page", "pages"))
		}
		b.WriteByte('\n')
	}
	for _, v := range mo.Variables {
		size := "?"
		if v.Bytes >= 0 {
			size = humanize.IBytes(uint64(v.Bytes))
		}
		fmt.Fprintf(b, "  %-20s %-24s %8s", v.Name, v.Type, size)
		if v.Value != "" {
			b.WriteString("  " + v.Value)
		}
		b.WriteByte('\n')
	}
	for _, line := range mo.signatureLines() {
		fmt.Fprintf(b, "  %s\n", line)
	}
	if mo.Note != "" {
		fmt.Fprintf(b, "  note: %s\n", mo.Note)
	}
}

// signatureLines describe what the stable signature says besides the
// variable list: its type definitions, a migration's inputs, or why it
// does not parse.
func (mo *Motoko) signatureLines() []string {
	var out []string
	for _, d := range mo.TypeDefinitions {
		out = append(out, fmt.Sprintf("type %s = %s", d.Name, d.Definition))
	}
	if mo.MigrationInputs != nil {
		out = append(out, fmt.Sprintf("migration function reads (stable types format %s):", mo.SignatureVersion))
		for _, v := range mo.MigrationInputs {
			how := "stable"
			if v.Required {
				how = "in"
			}
			out = append(out, fmt.Sprintf("  %s %s : %s", how, v.Name, v.Type))
		}
	}
	if mo.StableTypesError != "" {
		out = append(out, "motoko:stable-types does not parse: "+mo.StableTypesError)
	}
	return out
}

// MotokoLines describes a Motoko canister's stable variables in Motoko
// syntax, one declaration a line (`stable var count : Nat`), then the
// signature's type definitions: the detail screen's lines under the
// layout summary. Empty for other layouts.
func (l *Layout) MotokoLines() []string {
	mo := l.Motoko
	if mo == nil {
		return nil
	}
	var out []string
	for _, v := range mo.Variables {
		decl := "stable "
		if v.Mutable {
			decl += "var "
		}
		line := decl + v.Name + " : " + v.Type
		if v.Type == "" {
			line = v.Name + " (not declared by this module's stable types)"
		}
		if v.Value != "" {
			line += " = " + v.Value
		}
		out = append(out, line)
	}
	return append(out, mo.signatureLines()...)
}
