package render

import (
	// Registers -update, so go test ./tui/... -update runs everywhere.
	_ "github.com/canscope/canscope/tui/internal/screentest"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/themes"
)

func styles(t *testing.T) themes.Styles {
	t.Helper()
	th, err := themes.Lookup("dark")
	if err != nil {
		t.Fatal(err)
	}
	return th.Styles()
}

func h(b byte) snapshots.Hash { return snapshots.Hash{b} }

func table(size uint64, pages ...snapshots.Page) snapshots.PageTable {
	return snapshots.PageTable{Size: size, Pages: pages}
}

func TestChangedPages(t *testing.T) {
	a := table(10*snapshots.PageSize, snapshots.Page{Index: 1, Hash: h(1)}, snapshots.Page{Index: 3, Hash: h(3)}, snapshots.Page{Index: 5, Hash: h(5)})
	b := table(10*snapshots.PageSize, snapshots.Page{Index: 1, Hash: h(1)}, snapshots.Page{Index: 3, Hash: h(9)}, snapshots.Page{Index: 7, Hash: h(7)})
	got := ChangedPages(a, b)
	want := []uint64{3, 5, 7}
	if len(got) != len(want) {
		t.Fatalf("ChangedPages = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ChangedPages = %v, want %v", got, want)
		}
	}
	if len(ChangedPages(a, a)) != 0 {
		t.Error("a table differs from itself")
	}
}

func TestPageMapCells(t *testing.T) {
	tb := table(16*snapshots.PageSize, snapshots.Page{Index: 2, Hash: h(1)}, snapshots.Page{Index: 9, Hash: h(2)})
	tests := []struct {
		name    string
		perCell uint64
		changed []uint64
		want    string
	}{
		{"one page per cell", 1, nil, "··▒······▒······"},
		{"four pages per cell", 4, nil, "▒·▒·"},
		{"changed wins", 4, []uint64{9}, "▒·█·"},
		{"changed zero page", 1, []uint64{4}, "··▒·█····▒······"},
		{"partial last cell", 5, nil, "▒▒··"},
	}
	st := styles(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewPageMap(tb, tt.changed, tt.perCell)
			row := ansi.Strip(m.Row(0, 100, st))
			got := strings.TrimSpace(row[RowPrefixWidth:])
			if got != tt.want {
				t.Errorf("row = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPageMapRowsAndOffsets(t *testing.T) {
	m := NewPageMap(table(65536*snapshots.PageSize), nil, 64)
	if m.Cells() != 1024 || m.Rows(100) != 11 {
		t.Fatalf("cells %d rows %d, want 1024 and 11", m.Cells(), m.Rows(100))
	}
	row := ansi.Strip(m.Row(1, 100, styles(t)))
	if !strings.HasPrefix(row, "  400 MiB ") {
		t.Errorf("row 1 should start at 100 cells × 64 pages × 64 KiB = 400 MiB, got %q", row[:RowPrefixWidth])
	}
}

func TestFitPerCell(t *testing.T) {
	tests := []struct {
		pages      uint64
		cols, rows int
		want       uint64
	}{
		{10, 10, 1, 1},
		{11, 10, 1, 2},
		{65536, 64, 8, 128},
		{1 << 20, 64, 8, 2048},
		{0, 0, 0, 1},
	}
	for _, tt := range tests {
		if got := FitPerCell(tt.pages, tt.cols, tt.rows); got != tt.want {
			t.Errorf("FitPerCell(%d, %d, %d) = %d, want %d", tt.pages, tt.cols, tt.rows, got, tt.want)
		}
	}
}

func TestHexRow(t *testing.T) {
	st := styles(t)
	a := []byte{0, 1, 2, 3, 4, 5, 6, 7}
	b := []byte{0, 1, 9, 3, 4, 5, 6, 7}
	got := ansi.Strip(HexRow(a, b, 0x10000, 0, 4, false, st))
	want := "0000010000  00 01 02 03 ≠ 00 01 09 03"
	if got != want {
		t.Errorf("HexRow = %q, want %q", got, want)
	}
	if got := ansi.Strip(HexRow(a, b, 0, 1, 4, false, st)); got != "0000000004  04 05 06 07 │ 04 05 06 07" {
		t.Errorf("same row = %q", got)
	}
	if !HexRowDiffers(a, b, 0, 4) || HexRowDiffers(a, b, 1, 4) {
		t.Error("HexRowDiffers wrong")
	}
	if w := HexRowWidth(4, false); w != len([]rune(want)) {
		t.Errorf("HexRowWidth(4) = %d, want %d", w, len([]rune(want)))
	}
	if got := ansi.Strip(HexRow(a[:2], b, 0, 0, 4, false, st)); got != "0000000000  00 01 -- -- ≠ 00 01 09 03" {
		t.Errorf("short page = %q", got)
	}
	text := []byte("ab\x00\x7fcd~ ")
	got = ansi.Strip(HexRow(text, text, 0, 0, 8, true, st))
	if want := "0000000000  61 62 00 7f 63 64 7e 20 ab..cd~  │ 61 62 00 7f 63 64 7e 20 ab..cd~ "; got != want {
		t.Errorf("ascii row = %q, want %q", got, want)
	}
	if w := HexRowWidth(8, true); w != len([]rune(got)) {
		t.Errorf("HexRowWidth(8, ascii) = %d, want %d", w, len([]rune(got)))
	}
}

func TestBar(t *testing.T) {
	st := styles(t)
	for _, tt := range []struct {
		frac float64
		want string
	}{{0, "░░░░"}, {0.5, "██░░"}, {1, "████"}, {7, "████"}, {-1, "░░░░"}} {
		if got := ansi.Strip(Bar(4, tt.frac, st)); got != tt.want {
			t.Errorf("Bar(4, %v) = %q, want %q", tt.frac, got, tt.want)
		}
	}
}

func TestFitAndOffset(t *testing.T) {
	if got := Fit("hello world", 5); got != "hell…" {
		t.Errorf("Fit = %q", got)
	}
	if got := Fit("hi", 4); got != "hi  " {
		t.Errorf("Fit = %q", got)
	}
	if got := FitLeft("7", 3); got != "  7" {
		t.Errorf("FitLeft = %q", got)
	}
	for _, tt := range []struct{ cursor, offset, height, n, want int }{
		{0, 0, 5, 3, 0}, {7, 0, 5, 20, 3}, {2, 5, 5, 20, 2}, {19, 0, 5, 20, 15}, {4, 3, 5, 20, 3},
	} {
		if got := Offset(tt.cursor, tt.offset, tt.height, tt.n); got != tt.want {
			t.Errorf("Offset(%d, %d, %d, %d) = %d, want %d", tt.cursor, tt.offset, tt.height, tt.n, got, tt.want)
		}
	}
	if b := Block([]string{"a"}, 3, 2); b != "a  \n   " {
		t.Errorf("Block = %q", b)
	}
}
func TestTail(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"ic_cdk::api::stable::stable_size", 40, "ic_cdk::api::stable::stable_size"},
		{"ic_cdk::api::stable::stable_size", 12, "…stable_size"},
		{"abc", 0, ""},
	} {
		if got := Tail(c.in, c.w); got != c.want {
			t.Errorf("Tail(%q, %d) = %q, want %q", c.in, c.w, got, c.want)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "30 seconds ago"},
		{3 * time.Hour, "3 hours ago"},
		{36 * time.Hour, "1 day ago"},
		{11 * 24 * time.Hour, "11 days ago"},
		{12 * 24 * time.Hour, "12 days ago"},
		{70 * 24 * time.Hour, "2 months ago"},
	} {
		if got := Ago(now.Add(-c.d), now); got != c.want {
			t.Errorf("Ago(-%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
