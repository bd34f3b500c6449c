package snapshots

import (
	"fmt"
	"sort"
	"time"
)

// Lookup returns the hash of page index, or the zero Hash when the page is
// zero (not stored) or past the end.
func (t PageTable) Lookup(index uint64) Hash {
	i := sort.Search(len(t.Pages), func(i int) bool { return t.Pages[i].Index >= index })
	if i < len(t.Pages) && t.Pages[i].Index == index {
		return t.Pages[i].Hash
	}
	return Hash{}
}

// Patch returns a copy of t with the given pages replaced, the way the
// engine bridge commits a child snapshot: start from the parent's table,
// pass only the pages a message wrote. A change with the zero Hash makes
// that page zero (drops it). changes need not be sorted; when an index
// repeats, the last change wins. size is the new memory size; pages at or
// past it are dropped, so a reinstall can pass size 0 to wipe.
//
// Patch is O(len(t.Pages) + len(changes)·log): a 4 GiB heap with a few
// dirty pages patches in well under a millisecond.
func (t PageTable) Patch(size uint64, changes []Page) PageTable {
	ch := make([]Page, len(changes))
	copy(ch, changes)
	sort.SliceStable(ch, func(i, j int) bool { return ch[i].Index < ch[j].Index })
	out := PageTable{Size: size, Pages: make([]Page, 0, len(t.Pages)+len(ch))}
	limit := out.NumPages()
	emit := func(p Page) {
		if p.Index < limit && !p.Hash.IsZero() {
			out.Pages = append(out.Pages, p)
		}
	}
	i, j := 0, 0
	for i < len(t.Pages) || j < len(ch) {
		switch {
		case j == len(ch) || (i < len(t.Pages) && t.Pages[i].Index < ch[j].Index):
			emit(t.Pages[i])
			i++
		default:
			idx := ch[j].Index
			for j+1 < len(ch) && ch[j+1].Index == idx {
				j++ // last change to an index wins
			}
			emit(ch[j])
			j++
			if i < len(t.Pages) && t.Pages[i].Index == idx {
				i++
			}
		}
	}
	return out
}

// Validate checks the invariants every stored table keeps: pages sorted by
// index without duplicates, no zero hashes, every index inside Size, and
// Size within max.
func (t PageTable) Validate(max uint64) error {
	if t.Size > max {
		return fmt.Errorf("size %d bytes exceeds the IC limit of %d bytes", t.Size, max)
	}
	n := t.NumPages()
	for i, p := range t.Pages {
		if p.Index >= n {
			return fmt.Errorf("page %d is past the end of a %d-byte memory", p.Index, t.Size)
		}
		if i > 0 && p.Index <= t.Pages[i-1].Index {
			return fmt.Errorf("page %d listed after page %d: table not sorted or has duplicates", p.Index, t.Pages[i-1].Index)
		}
		if p.Hash.IsZero() {
			return fmt.Errorf("page %d has the zero hash", p.Index)
		}
	}
	return nil
}

// Clone returns a deep copy of m, for callers that derive a child snapshot
// from a parent without aliasing its slices.
func (m *Manifest) Clone() *Manifest {
	c := *m
	if m.Parent != nil {
		p := *m.Parent
		c.Parent = &p
	}
	if m.ForkedFrom != nil {
		f := *m.ForkedFrom
		c.ForkedFrom = &f
	}
	c.Heap.Pages = append([]Page(nil), m.Heap.Pages...)
	c.Stable.Pages = append([]Page(nil), m.Stable.Pages...)
	c.Globals = append([]Global(nil), m.Globals...)
	c.CertifiedData = append([]byte(nil), m.CertifiedData...)
	c.Chunks = append([]Hash(nil), m.Chunks...)
	c.DfxMetadata = append([]byte(nil), m.DfxMetadata...)
	return &c
}

// Child returns a copy of m prepared as the next snapshot in its lineage:
// parent set to m, made by op, ID and sequence cleared for Commit. The
// caller patches the memories and commits.
func (m *Manifest) Child(op MadeBy) *Manifest {
	c := m.Clone()
	id := m.ID
	c.Parent = &id
	c.ForkedFrom = nil
	c.MadeBy = op
	c.ID = ID{}
	c.Seq = 0
	c.Note = ""
	c.CreatedAt = time.Time{} // Commit stamps it
	return c
}
