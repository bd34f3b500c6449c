package screentest

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	"github.com/canscope/canscope/engine/snapcheck"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/tui/bridge"
	"github.com/canscope/canscope/tui/source"
)

// Memory is an in-memory snapshot store for screen tests: a map of
// manifests and a map of page contents. It implements source.Catalog,
// source.Forker and source.Exporter.
type Memory struct {
	manifests []*snapshots.Manifest // oldest first
	pages     map[snapshots.Hash][]byte
	blobs     map[snapshots.Hash][]byte
	// Exported records the directories Export was asked to write.
	Exported []string
}

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{pages: map[snapshots.Hash][]byte{}, blobs: map[snapshots.Hash][]byte{}}
}

// Clone returns an independent copy of the store (manifests are never
// modified once added, so they are shared), for tests that build a
// fixture once and mutate a copy per case.
func (s *Memory) Clone() *Memory {
	c := &Memory{
		manifests: append([]*snapshots.Manifest(nil), s.manifests...),
		pages:     make(map[snapshots.Hash][]byte, len(s.pages)),
		blobs:     make(map[snapshots.Hash][]byte, len(s.blobs)),
		Exported:  append([]string(nil), s.Exported...),
	}
	for h, p := range s.pages {
		c.pages[h] = p
	}
	for h, b := range s.blobs {
		c.blobs[h] = b
	}
	return c
}

// List implements source.Catalog.
func (s *Memory) List() ([]snapshots.Snapshot, error) {
	out := make([]snapshots.Snapshot, len(s.manifests))
	for i, m := range s.manifests {
		out[i] = m.Snapshot
	}
	return out, nil
}

// Manifest implements source.Catalog.
func (s *Memory) Manifest(id snapshots.ID) (*snapshots.Manifest, error) {
	for _, m := range s.manifests {
		if m.ID == id {
			return m, nil
		}
	}
	return nil, fmt.Errorf("snapshot %s: %w", id.Short(), snapshots.ErrNotFound)
}

// ReadPage implements snapshots.PageReader.
func (s *Memory) ReadPage(h snapshots.Hash, buf []byte) error {
	p, ok := s.pages[h]
	if !ok {
		return fmt.Errorf("page %s: %w", h.Short(), snapshots.ErrNotFound)
	}
	copy(buf, p)
	return nil
}

// ReadBlob implements source.Catalog.
func (s *Memory) ReadBlob(h snapshots.Hash) ([]byte, error) {
	b, ok := s.blobs[h]
	if !ok {
		return nil, fmt.Errorf("blob %s: %w", h.Short(), snapshots.ErrNotFound)
	}
	return b, nil
}

// Fork implements source.Forker.
func (s *Memory) Fork(_ context.Context, id snapshots.ID, name string) (snapshots.Snapshot, error) {
	m, err := s.Manifest(id)
	if err != nil {
		return snapshots.Snapshot{}, err
	}
	c := m.Child(snapshots.MadeByFork)
	c.Name = name
	c.ForkedFrom = &m.ID
	return s.Add(c), nil
}

// Check implements source.Exporter with the real checks
// (snapcheck.Run, converted as tui/bridge does) on the fake's manifests
// and blobs.
func (s *Memory) Check(_ context.Context, id snapshots.ID) (source.ExportReport, error) {
	rep, err := s.check(id)
	return bridge.ExportReport(rep), err
}

func (s *Memory) check(id snapshots.ID) (snapcheck.Report, error) {
	m, err := s.Manifest(id)
	if err != nil {
		return snapcheck.Report{}, err
	}
	return snapcheck.Run(s, snapcheck.ForExport(s, m), snapcheck.Settings{})
}

// Export implements source.Exporter: it refuses what Check fails unless
// forced (the same *snapcheck.RefusedError), records the directory,
// writes nothing, and returns the commands the real exporter returns (the
// same dfx.Commands); TestFakesMatchReal keeps the two alike.
func (s *Memory) Export(_ context.Context, id snapshots.ID, dir string, req source.ExportRequest) (dfx.Sequence, error) {
	m, err := s.Manifest(id)
	if err != nil {
		return dfx.Sequence{}, fmt.Errorf("export %s to %s: %w", id.Short(), dir, err)
	}
	rep, err := s.check(id)
	if err != nil {
		return dfx.Sequence{}, err
	}
	if !rep.OK && !req.Force {
		return dfx.Sequence{}, &snapcheck.RefusedError{Ref: m.Ref(), Report: rep}
	}
	s.Exported = append(s.Exported, dir)
	return dfx.Commands(dfx.ToolICP, m.CanisterID, dir, req.Upgrade), nil
}

// Commit implements Committer.
func (s *Memory) Commit(_ context.Context, m *snapshots.Manifest) (snapshots.Snapshot, error) {
	return s.Add(m), nil
}

// Add commits m: it assigns the sequence number, creation time and an ID.
func (s *Memory) Add(m *snapshots.Manifest) snapshots.Snapshot {
	seq := 1
	for _, o := range s.manifests {
		if o.Name == m.Name {
			seq++
		}
	}
	m.Seq = seq
	if m.CreatedAt.IsZero() {
		m.CreatedAt = Now().Add(time.Duration(len(s.manifests)-10) * time.Minute)
	}
	m.HeapPagesStored, m.StablePagesStored = len(m.Heap.Pages), len(m.Stable.Pages)
	m.HeapBytes, m.StableBytes = m.Heap.Size, m.Stable.Size
	m.ID = snapshots.HashOf([]byte(fmt.Sprintf("%s@%d", m.Name, m.Seq)))
	s.manifests = append(s.manifests, m)
	sort.SliceStable(s.manifests, func(i, j int) bool { return s.manifests[i].CreatedAt.Before(s.manifests[j].CreatedAt) })
	return m.Snapshot
}

// Page stores a page whose bytes are derived from seed and returns its
// table entry; the content is deterministic so hex goldens are stable.
func (s *Memory) Page(index uint64, seed uint64) snapshots.Page {
	b := make([]byte, snapshots.PageSize)
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], seed*0x9e3779b97f4a7c15^uint64(i/8)*(seed|1))
	}
	// Make most of each page quiet so diffs show a few changed bytes.
	for i := 64; i < len(b); i++ {
		if (i/64)%7 != int(seed%7) {
			b[i] = 0
		}
	}
	h := snapshots.HashOf(b)
	s.pages[h] = b
	return snapshots.Page{Index: index, Hash: h}
}

// PageOf stores b (at most a page, zero-padded) as page index and returns
// its table entry.
func (s *Memory) PageOf(index uint64, b []byte) snapshots.Page {
	p := make([]byte, snapshots.PageSize)
	copy(p, b)
	h := snapshots.HashOf(p)
	s.pages[h] = p
	return snapshots.Page{Index: index, Hash: h}
}

// PatchPage stores a copy of an existing page with n bytes from offset
// changed, for a diff that shows a few highlighted bytes.
func (s *Memory) PatchPage(p snapshots.Page, offset, n int) snapshots.Page {
	b := append([]byte(nil), s.pages[p.Hash]...)
	for i := offset; i < offset+n && i < len(b); i++ {
		b[i] ^= 0x5a
	}
	h := snapshots.HashOf(b)
	s.pages[h] = b
	return snapshots.Page{Index: p.Index, Hash: h}
}

// Blob stores a blob and returns its hash.
func (s *Memory) Blob(b []byte) snapshots.Hash {
	h := snapshots.HashOf(b)
	s.blobs[h] = b
	return h
}
