package snapshots

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// memPages is an in-memory PageReader for tests.
type memPages map[Hash][]byte

func (p memPages) ReadPage(h Hash, buf []byte) error {
	b, ok := p[h]
	if !ok {
		return fmt.Errorf("page %s: %w", h.Short(), ErrNotFound)
	}
	copy(buf, b)
	return nil
}

// table stores mem page by page the way an importer does.
func (p memPages) table(mem []byte) PageTable {
	t := PageTable{Size: uint64(len(mem))}
	for i := 0; i < len(mem); i += PageSize {
		page := make([]byte, PageSize)
		copy(page, mem[i:])
		if bytes.Equal(page, make([]byte, PageSize)) {
			continue
		}
		h := HashOf(page)
		p[h] = page
		t.Pages = append(t.Pages, Page{uint64(i / PageSize), h})
	}
	return t
}

// bruteForce compares two memories byte by byte (missing bytes count as
// different) and returns the differing ranges inside the common part plus
// the tail, merged.
func bruteForce(a, b []byte) (changed []ByteRange, pages uint64) {
	common := min(len(a), len(b))
	for i := 0; i < common; i++ {
		if a[i] != b[i] {
			if n := len(changed); n > 0 && changed[n-1].End == uint64(i) {
				changed[n-1].End++
			} else {
				changed = append(changed, ByteRange{uint64(i), uint64(i + 1)})
			}
		}
	}
	seen := map[int]bool{}
	for _, r := range changed {
		for o := r.Start; o < r.End; o++ {
			seen[int(o)/PageSize] = true
		}
	}
	if len(a) != len(b) {
		changed = append(changed, ByteRange{uint64(common), uint64(max(len(a), len(b)))})
		for o := common; o < max(len(a), len(b)); o += PageSize {
			seen[o/PageSize] = true
		}
	}
	return changed, uint64(len(seen))
}

func TestDiffAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 40 {
		pagesA := 1 + rng.IntN(12)
		pagesB := pagesA
		if trial%3 == 1 {
			pagesB = 1 + rng.IntN(12)
		}
		a := make([]byte, pagesA*PageSize)
		for range rng.IntN(6) {
			p := rng.IntN(pagesA) * PageSize
			for range 1 + rng.IntN(50) {
				a[p+rng.IntN(PageSize)] = byte(rng.Uint32())
			}
		}
		b := make([]byte, pagesB*PageSize)
		copy(b, a)
		for range rng.IntN(8) {
			// Runs of changes, sometimes across a page boundary.
			off, n := rng.IntN(len(b)), 1+rng.IntN(300)
			for i := off; i < min(off+n, len(b)); i++ {
				b[i] = byte(rng.Uint32())
			}
		}
		if trial%5 == 0 {
			clear(b[:PageSize]) // a page that became zero
		}
		pages := memPages{}
		ma := &Manifest{Snapshot: Snapshot{ID: h(1)}, Heap: pages.table(a)}
		mb := &Manifest{Snapshot: Snapshot{ID: h(2)}, Heap: pages.table(b)}
		d := Diff(ma, mb)
		if err := d.AddBytes(context.Background(), pages, ma, mb); err != nil {
			t.Fatal(err)
		}
		var got []ByteRange
		for _, r := range d.Heap.Ranges {
			for _, br := range r.Bytes {
				if br.Start < r.Start || br.End > r.End {
					t.Fatalf("trial %d: bytes %v outside range %v", trial, br, r)
				}
				if n := len(got); n > 0 && got[n-1].End == br.Start {
					got[n-1].End = br.End
				} else {
					got = append(got, br)
				}
			}
		}
		want, wantPages := bruteForce(a, b)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: byte ranges\n got %v\nwant %v", trial, got, want)
		}
		if d.Heap.ChangedPages != wantPages {
			t.Errorf("trial %d: changed_pages = %d, want %d", trial, d.Heap.ChangedPages, wantPages)
		}
		if (len(want) == 0) != d.Empty() {
			t.Errorf("trial %d: Empty() = %v with %d differing ranges", trial, d.Empty(), len(want))
		}
	}
}

func TestDiffRangesAndJSON(t *testing.T) {
	a := &Manifest{
		Snapshot: Snapshot{ID: h(1), CanisterVersion: 1},
		Heap:     PageTable{Size: 8 * PageSize, Pages: []Page{{1, h(1)}, {2, h(2)}, {3, h(3)}, {6, h(6)}}},
		Stable:   PageTable{Size: 4 * PageSize},
		Globals:  []Global{{Kind: KindI32, Bits: 1}, {Kind: KindI64, Bits: 2}},
	}
	b := &Manifest{
		Snapshot: Snapshot{ID: h(2), CanisterVersion: 2},
		Heap:     PageTable{Size: 10 * PageSize, Pages: []Page{{1, h(11)}, {2, h(12)}, {3, h(3)}, {5, h(5)}}},
		Stable:   PageTable{Size: 2 * PageSize},
		Globals:  []Global{{Kind: KindI32, Bits: 1}, {Kind: KindI64, Bits: 3}, {Kind: KindI64, Bits: 9}},
	}
	d := Diff(a, b)
	wantHeap := []Range{
		{Start: 1 * PageSize, End: 3 * PageSize, Kind: RangeChanged},
		{Start: 5 * PageSize, End: 7 * PageSize, Kind: RangeChanged},
		{Start: 8 * PageSize, End: 10 * PageSize, Kind: RangeAdded},
	}
	if !reflect.DeepEqual(d.Heap.Ranges, wantHeap) || d.Heap.ChangedPages != 6 {
		t.Errorf("heap ranges = %+v (%d pages), want %+v (6 pages)", d.Heap.Ranges, d.Heap.ChangedPages, wantHeap)
	}
	if want := []Range{{Start: 2 * PageSize, End: 4 * PageSize, Kind: RangeRemoved}}; !reflect.DeepEqual(d.Stable.Ranges, want) {
		t.Errorf("stable ranges = %+v, want %+v", d.Stable.Ranges, want)
	}
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	globals := doc["globals"].([]any)
	if len(globals) != 2 || globals[1].(map[string]any)["a"] != nil {
		t.Errorf("globals = %v, want index 1 changed and index 2 added (a null)", globals)
	}
	meta := doc["metadata"].([]any)
	if len(meta) != 1 || meta[0].(map[string]any)["key"] != "canister_version" {
		t.Errorf("metadata = %v, want only canister_version", meta)
	}
	heap := doc["heap"].(map[string]any)
	for _, k := range []string{"page_size", "size_a", "size_b", "changed_pages", "ranges"} {
		if _, ok := heap[k]; !ok {
			t.Errorf("memdiff lacks %q: %s", k, out)
		}
	}
}

// BenchmarkDiff4GiB compares two fully populated 4 GiB heap manifests
// (65536 stored pages each, 1% changed) from their encoded form, as
// `canscope diff` does: decode both, then diff.
func BenchmarkDiff4GiB(b *testing.B) {
	mk := func(salt byte) []byte {
		m := &Manifest{Snapshot: Snapshot{Name: "x", MadeBy: MadeByImport}, Heap: PageTable{Size: MaxHeapBytes}}
		for i := range uint64(65536) {
			hh := Hash{byte(i), byte(i >> 8), 1}
			if i%100 == 0 {
				hh[3] = salt
			}
			m.Heap.Pages = append(m.Heap.Pages, Page{i, hh})
		}
		enc, err := EncodeManifest(m)
		if err != nil {
			b.Fatal(err)
		}
		return enc
	}
	ea, eb := mk(1), mk(2)
	b.ResetTimer()
	for b.Loop() {
		ma, err := DecodeManifest(ea)
		if err != nil {
			b.Fatal(err)
		}
		mb, err := DecodeManifest(eb)
		if err != nil {
			b.Fatal(err)
		}
		if d := Diff(ma, mb); d.Heap.ChangedPages != 656 {
			b.Fatalf("changed pages = %d", d.Heap.ChangedPages)
		}
	}
}
