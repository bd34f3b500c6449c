package snapshots

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"reflect"
)

// RangeKind says how a memory range differs between two snapshots.
type RangeKind string

// Range kinds of a memory diff.
const (
	RangeChanged RangeKind = "changed" // inside both memories, content differs
	RangeAdded   RangeKind = "added"   // only in B (the memory grew)
	RangeRemoved RangeKind = "removed" // only in A (B's memory is smaller)
)

// ByteRange is a half-open byte range [Start, End).
type ByteRange struct {
	Start uint64 `json:"start"`
	End   uint64 `json:"end"`
}

// Range is a maximal run of consecutive pages that differ the same way, in
// byte offsets (End exclusive). Bytes is filled by Changes.AddBytes: the
// exact differing byte ranges inside a changed range; an added or removed
// range is different as a whole, so its Bytes is the range itself. Label,
// set by callers that decode the memory's layout, names what the range
// holds (e.g. "memory 1 (Vec)" in a stable-structures layout).
type Range struct {
	Start uint64      `json:"start"`
	End   uint64      `json:"end"`
	Kind  RangeKind   `json:"kind"`
	Bytes []ByteRange `json:"bytes,omitempty"`
	Label string      `json:"label,omitempty"`
}

// MemDiff is the difference between one memory (heap or stable) of two
// snapshots; its JSON (heap and stable of `diff --json`) is part of the
// CLI contract, pinned by cmd/canscope's TestStoreJSONShapes: add fields,
// never rename.
type MemDiff struct {
	PageSize int    `json:"page_size"`
	SizeA    uint64 `json:"size_a"`
	SizeB    uint64 `json:"size_b"`
	// ChangedPages counts the pages in all ranges.
	ChangedPages uint64  `json:"changed_pages"`
	Ranges       []Range `json:"ranges"`
}

// GlobalChange is a global that differs; A or B is nil when that snapshot
// has fewer globals.
type GlobalChange struct {
	Index int     `json:"index"`
	A     *Global `json:"a"`
	B     *Global `json:"b"`
}

// MetaChange is a metadata field that differs, with both values in their
// JSON form.
type MetaChange struct {
	Key string `json:"key"`
	A   any    `json:"a"`
	B   any    `json:"b"`
}

// Changes is the difference between two snapshots, the `diff --json`
// document (pinned by cmd/canscope's TestStoreJSONShapes).
type Changes struct {
	A        ID             `json:"a"`
	B        ID             `json:"b"`
	Heap     MemDiff        `json:"heap"`
	Stable   MemDiff        `json:"stable"`
	Globals  []GlobalChange `json:"globals"`
	Metadata []MetaChange   `json:"metadata"`
}

// Empty reports whether the two snapshots hold the same state.
func (c *Changes) Empty() bool {
	return len(c.Heap.Ranges) == 0 && len(c.Stable.Ranges) == 0 && len(c.Globals) == 0 && len(c.Metadata) == 0
}

// Diff compares two manifests by page hashes alone: no page is read, so
// two 4 GiB heaps compare in milliseconds.
func Diff(a, b *Manifest) *Changes {
	c := &Changes{
		A:        a.ID,
		B:        b.ID,
		Heap:     DiffTables(a.Heap, b.Heap),
		Stable:   DiffTables(a.Stable, b.Stable),
		Globals:  []GlobalChange{},
		Metadata: []MetaChange{},
	}
	for i := range max(len(a.Globals), len(b.Globals)) {
		var ga, gb *Global
		if i < len(a.Globals) {
			ga = &a.Globals[i]
		}
		if i < len(b.Globals) {
			gb = &b.Globals[i]
		}
		if ga == nil || gb == nil || *ga != *gb {
			c.Globals = append(c.Globals, GlobalChange{Index: i, A: ga, B: gb})
		}
	}
	for _, f := range metaFields(a, b) {
		if !reflect.DeepEqual(f.A, f.B) {
			c.Metadata = append(c.Metadata, f)
		}
	}
	return c
}

// metaFields lists the compared metadata fields of a and b in JSON form.
func metaFields(a, b *Manifest) []MetaChange {
	hook := func(m *Manifest) any {
		if m.LowWasmMemoryHook == "" {
			return nil
		}
		return m.LowWasmMemoryHook
	}
	chunks := func(m *Manifest) any {
		s := make([]string, len(m.Chunks))
		for i, h := range m.Chunks {
			s[i] = h.String()
		}
		return s
	}
	return []MetaChange{
		{"canister_id", a.CanisterID, b.CanisterID},
		{"taken_at", a.TakenAt, b.TakenAt},
		{"canister_version", a.CanisterVersion, b.CanisterVersion},
		{"module_hash", a.ModuleHash.String(), b.ModuleHash.String()},
		{"certified_data", hex.EncodeToString(a.CertifiedData), hex.EncodeToString(b.CertifiedData)},
		{"global_timer", a.GlobalTimer, b.GlobalTimer},
		{"on_low_wasm_memory_hook_status", hook(a), hook(b)},
		{"wasm_chunk_store", chunks(a), chunks(b)},
	}
}

// DiffTables compares two page tables by hash. Pages inside both memories
// differ when their hashes differ (a missing page is a zero page); the part
// of the longer memory past the shorter one is added or removed as a whole.
func DiffTables(a, b PageTable) MemDiff {
	d := MemDiff{PageSize: PageSize, SizeA: a.Size, SizeB: b.Size, Ranges: []Range{}}
	common := min(a.Size, b.Size)
	commonPages := (common + PageSize - 1) / PageSize
	add := func(idx uint64) {
		start, end := idx*PageSize, min((idx+1)*PageSize, common)
		d.ChangedPages++
		if n := len(d.Ranges); n > 0 && d.Ranges[n-1].End == start {
			d.Ranges[n-1].End = end
			return
		}
		d.Ranges = append(d.Ranges, Range{Start: start, End: end, Kind: RangeChanged})
	}
	i, j := 0, 0
	for i < len(a.Pages) || j < len(b.Pages) {
		var idx uint64
		var ha, hb Hash
		switch {
		case j == len(b.Pages) || (i < len(a.Pages) && a.Pages[i].Index < b.Pages[j].Index):
			idx, ha = a.Pages[i].Index, a.Pages[i].Hash
			i++
		case i == len(a.Pages) || b.Pages[j].Index < a.Pages[i].Index:
			idx, hb = b.Pages[j].Index, b.Pages[j].Hash
			j++
		default:
			idx, ha, hb = a.Pages[i].Index, a.Pages[i].Hash, b.Pages[j].Hash
			i++
			j++
		}
		if idx >= commonPages {
			break // both lists are sorted: the rest is in the tail
		}
		if ha != hb {
			add(idx)
		}
	}
	if a.Size != b.Size {
		kind, end := RangeAdded, b.Size
		if a.Size > b.Size {
			kind, end = RangeRemoved, a.Size
		}
		d.ChangedPages += (end+PageSize-1)/PageSize - common/PageSize
		d.Ranges = append(d.Ranges, Range{Start: common, End: end, Kind: kind})
	}
	return d
}

// AddBytes refines every range with the exact byte ranges that differ,
// reading the pages of changed ranges from r. Work is proportional to the
// changed pages, not the memory size; ctx cancels it between pages.
func (c *Changes) AddBytes(ctx context.Context, r PageReader, a, b *Manifest) error {
	if err := addBytes(ctx, &c.Heap, NewMemoryReader(r, a.Heap), NewMemoryReader(r, b.Heap)); err != nil {
		return fmt.Errorf("diff heap bytes: %w", err)
	}
	if err := addBytes(ctx, &c.Stable, NewMemoryReader(r, a.Stable), NewMemoryReader(r, b.Stable)); err != nil {
		return fmt.Errorf("diff stable memory bytes: %w", err)
	}
	return nil
}

func addBytes(ctx context.Context, d *MemDiff, a, b *MemoryReader) error {
	pa, pb := make([]byte, PageSize), make([]byte, PageSize)
	for ri := range d.Ranges {
		r := &d.Ranges[ri]
		r.Bytes = []ByteRange{}
		if r.Kind != RangeChanged {
			r.Bytes = append(r.Bytes, ByteRange{r.Start, r.End})
			continue
		}
		for off := r.Start; off < r.End; off += PageSize {
			if err := ctx.Err(); err != nil {
				return err
			}
			idx := off / PageSize
			if err := a.ReadPage(idx, pa); err != nil {
				return err
			}
			if err := b.ReadPage(idx, pb); err != nil {
				return err
			}
			n := min(PageSize, r.End-off)
			r.Bytes = appendByteDiff(r.Bytes, off, pa[:n], pb[:n])
		}
	}
	return nil
}

// appendByteDiff appends the ranges where x and y (both starting at byte
// offset base) differ, merging with the last range when contiguous.
func appendByteDiff(out []ByteRange, base uint64, x, y []byte) []ByteRange {
	const word = 64
	for i := 0; i < len(x); {
		// Skip equal blocks quickly; most of a changed page is unchanged.
		if j := min(i+word, len(x)); bytes.Equal(x[i:j], y[i:j]) {
			i = j
			continue
		}
		if x[i] == y[i] {
			i++
			continue
		}
		s := i
		for i < len(x) && x[i] != y[i] {
			i++
		}
		start, end := base+uint64(s), base+uint64(i)
		if n := len(out); n > 0 && out[n-1].End == start {
			out[n-1].End = end
		} else {
			out = append(out, ByteRange{start, end})
		}
	}
	return out
}
