package snapshots

import (
	"errors"
	"fmt"
	"time"
)

// The rules every backend's Commit follows, kept here so the local store
// and the S3 store cannot drift: what a committable manifest is, which
// blobs a child must prove present, and how the sequence number, the
// creation time and the summary fields are filled before encoding.

// CheckCommittable validates the parts of m its author fills: the name,
// made_by and the page tables' invariants and limits.
func (m *Manifest) CheckCommittable() error {
	if err := ValidateName(m.Name); err != nil {
		return err
	}
	if m.MadeBy == "" {
		return errors.New("made_by is empty")
	}
	if err := m.Heap.Validate(MaxWasm64HeapBytes); err != nil {
		return fmt.Errorf("heap: %w", err)
	}
	if err := m.Stable.Validate(MaxStableBytes); err != nil {
		return fmt.Errorf("stable memory: %w", err)
	}
	return nil
}

// BlobRef is one blob a manifest references, with a description of where
// ("module", "chunk 2", "heap page 17") for error messages.
type BlobRef struct {
	Hash Hash
	What string
}

// NewBlobs lists the blobs m references that parent (nil for a root)
// does not reference at the same place: the ones Commit must find in the
// store. Committing a child of a 4 GiB heap after one message thus checks
// what the message changed, not every page.
func NewBlobs(m, parent *Manifest) []BlobRef {
	var out []BlobRef
	if !m.Module.IsZero() {
		out = append(out, BlobRef{m.Module, "module"})
	}
	for i, c := range m.Chunks {
		out = append(out, BlobRef{c, fmt.Sprintf("chunk %d", i)})
	}
	var ph, ps PageTable
	if parent != nil {
		ph, ps = parent.Heap, parent.Stable
	}
	for _, mem := range []struct {
		name          string
		table, parent PageTable
	}{{"heap", m.Heap, ph}, {"stable memory", m.Stable, ps}} {
		for _, p := range NewPages(mem.parent, mem.table) {
			out = append(out, BlobRef{p.Hash, fmt.Sprintf("%s page %d", mem.name, p.Index)})
		}
	}
	return out
}

// NewPages returns the pages of child whose hash differs from parent's
// page at the same index (a merge walk of the two sorted tables).
func NewPages(parent, child PageTable) []Page {
	var out []Page
	i := 0
	for _, p := range child.Pages {
		for i < len(parent.Pages) && parent.Pages[i].Index < p.Index {
			i++
		}
		if i < len(parent.Pages) && parent.Pages[i].Index == p.Index && parent.Pages[i].Hash == p.Hash {
			continue
		}
		out = append(out, p)
	}
	return out
}

// Seal prepares m for writing as the next snapshot of a store whose
// snapshots are all (oldest first): it assigns m.Seq (the next N of
// NAME@N), stamps CreatedAt when zero and keeps it strictly after the
// newest snapshot (so List's oldest-first order is the commit order even
// within one clock tick), fills the summary fields from the tables, and
// returns the encoding with m.ID set to its hash. It refuses a child of
// an older snapshot of its own name (CheckHead), except an import, which
// it re-parents onto the name's newest snapshot (rebaseImport). The
// caller holds
// whatever makes the sequence number its own (a lock, a conditional
// write) and writes the encoding.
func (m *Manifest) Seal(all []Snapshot) ([]byte, error) {
	m.rebaseImport(all)
	if err := CheckHead(all, m); err != nil {
		return nil, err
	}
	m.Seq = NextSeq(all, m.Name)
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	if n := len(all); n > 0 && !m.CreatedAt.After(all[n-1].CreatedAt) {
		m.CreatedAt = all[n-1].CreatedAt.Add(time.Microsecond)
	}
	m.CreatedAt = m.CreatedAt.UTC().Truncate(time.Microsecond)
	if m.ModuleHash.IsZero() {
		m.ModuleHash = m.Module
	}
	m.HeapBytes, m.StableBytes = m.Heap.Size, m.Stable.Size
	m.HeapPagesStored, m.StablePagesStored = len(m.Heap.Pages), len(m.Stable.Pages)
	enc, err := EncodeManifest(m)
	if err != nil {
		return nil, err
	}
	m.ID = HashOf(enc)
	return enc, nil
}

// rebaseImport makes an import that continues a name a child of the
// name's newest snapshot when another commit landed there while it ran.
// An import's state is the downloaded canister's, not derived from its
// parent (the parent only records the previous download), so two
// operators importing under one name at once both land, as NAME@N and
// NAME@N+1, and the lineage stays one line; a call or upgrade, whose
// state is derived from its parent, is refused instead (CheckHead). The
// blobs Commit checked against the old parent are all present either
// way: the old parent's pages are in the store.
func (m *Manifest) rebaseImport(all []Snapshot) {
	if m.MadeBy != MadeByImport || m.Parent == nil {
		return
	}
	for _, s := range all {
		if s.ID == *m.Parent && s.Name == m.Name {
			if head := newestNamed(all, m.Name); head.ID != s.ID {
				id := head.ID
				m.Parent = &id
			}
			return
		}
	}
}
