package snapshots

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Receiver is a store that takes snapshots copied verbatim from another
// store (push, pull). Both backends implement it.
type Receiver interface {
	Store
	// HasBlobs reports, for each hash, whether the store holds that blob.
	HasBlobs(ctx context.Context, hs []Hash) ([]bool, error)
	// Adopt commits m exactly as it is (same id, NAME@N, created_at), as
	// the copy of a snapshot of another store. Its blobs and parent must
	// be present. Adopting a snapshot the store already has is a no-op;
	// a NAME@N the store already gave another snapshot is refused
	// (CheckAdopt).
	Adopt(ctx context.Context, m *Manifest) (Snapshot, error)
}

// CheckAdopt is the rule every Adopt applies before writing: m is
// well-formed and hashes to its id, and its NAME@N is free among all or
// already m. It returns done=true when the store already has m.
func CheckAdopt(m *Manifest, all []Snapshot) (enc []byte, done bool, err error) {
	if err := m.CheckCommittable(); err != nil {
		return nil, false, err
	}
	if m.Seq < 1 {
		return nil, false, fmt.Errorf("snapshot %s has no NAME@N", m.ID.Short())
	}
	enc, err = EncodeManifest(m)
	if err != nil {
		return nil, false, err
	}
	if HashOf(enc) != m.ID {
		return nil, false, fmt.Errorf("snapshot %s does not encode to its id", m.ID.Short())
	}
	for _, s := range all {
		if s.ID == m.ID {
			return enc, true, nil
		}
		if s.Name == m.Name && s.Seq == m.Seq {
			return nil, false, RefTaken(m, s.ID)
		}
	}
	return enc, false, nil
}

// RefTaken is the error of a copy whose NAME@N the target gave another
// snapshot.
func RefTaken(m *Manifest, other ID) error {
	return fmt.Errorf("the target already has %s as another snapshot (%s): fork %s under a new name and copy that", m.Ref(), other.Short(), m.Ref())
}

// CopyResult says what Copy did.
type CopyResult struct {
	Snapshot Snapshot `json:"snapshot"`
	// Copied lists the snapshots written to the target, oldest first;
	// Present counts ancestors the target already had.
	Copied  []Snapshot `json:"copied"`
	Present int        `json:"present"`
	// BlobsSent and BytesSent count the blobs copied (uncompressed
	// bytes); BlobsPresent those the target already held.
	BlobsSent    int   `json:"blobs_sent"`
	BytesSent    int64 `json:"bytes_sent"`
	BlobsPresent int   `json:"blobs_present"`
	// HeapErr, when not nil, says CopyOptions.HeapCopy's writer did not
	// receive every page of the heap: what it wrote must not be used.
	// The copy itself succeeded.
	HeapErr error `json:"-"`
}

// PageWriter receives heap pages a copy has just read and verified
// (CopyOptions.HeapCopy), from several goroutines at once. Its errors
// are not the copy's: workbench.HeapImage, the one writer, never fails.
type PageWriter interface {
	CopyPages(first uint64, data []byte, hashes []Hash) error
	// Holds reports whether the writer has page index as h already
	// (from the image of the base heap): it is not read for it.
	Holds(index uint64, h Hash) bool
}

// CopyOptions are Copy's optional parts.
type CopyOptions struct {
	// Progress, when not nil, counts bytes sent.
	Progress *atomic.Uint64
	// HeapCopy, when set, is called once before the blobs are copied
	// with the heap size of the snapshot ref names and, when dst has an
	// ancestor of it, that ancestor's heap (for pages it need not
	// write); a non-nil PageWriter it returns receives every non-zero
	// page of that heap: as it is read from src and verified, or, for a
	// page dst already held, read back from dst. pull uses it to write
	// the heap image (workbench.HeapImage), as import does
	// (dfx.ImportOptions.HeapCopy), so the first open of a pulled
	// snapshot maps its heap instead of streaming it.
	HeapCopy func(size uint64, base *PageTable) PageWriter
}

// Copy copies the snapshot ref names from src to dst with every ancestor
// dst lacks, like git push: oldest first, each with the blobs it adds to
// its parent that dst does not hold, then adopted verbatim (same ids and
// NAME@N in both stores).
func Copy(ctx context.Context, src Store, dst Receiver, ref string, opt CopyOptions) (*CopyResult, error) {
	progress := opt.Progress
	snap, err := src.Resolve(ref)
	if err != nil {
		return nil, err
	}
	res := &CopyResult{Snapshot: snap}
	// Walk the lineage back to the first ancestor dst has.
	var chain []*Manifest
	for id := &snap.ID; id != nil; {
		if _, err := dst.Manifest(*id); err == nil {
			res.Present++
			break
		}
		m, err := src.Manifest(*id)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", snap.Ref(), err)
		}
		chain = append(chain, m)
		id = m.Parent
	}
	var parent *Manifest
	if n := len(chain); n > 0 && chain[n-1].Parent != nil {
		if parent, err = dst.Manifest(*chain[n-1].Parent); err != nil {
			return nil, fmt.Errorf("copy %s: %w", snap.Ref(), err)
		}
	}
	var heap *heapCopy
	if opt.HeapCopy != nil && len(chain) > 0 && chain[0].Heap.Size > 0 {
		var base *PageTable
		if parent != nil {
			base = &parent.Heap
		}
		if w := opt.HeapCopy(chain[0].Heap.Size, base); w != nil {
			heap = newHeapCopy(w, chain[0].Heap)
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		m := chain[i]
		if err := copyBlobs(ctx, src, dst, NewBlobs(m, parent), res, progress, heap); err != nil {
			return nil, fmt.Errorf("copy %s: %w", m.Ref(), err)
		}
		s, err := dst.Adopt(ctx, m)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", m.Ref(), err)
		}
		res.Copied = append(res.Copied, s)
		parent = m
	}
	if heap != nil {
		if err := heap.rest(ctx, dst); err != nil {
			res.HeapErr = fmt.Errorf("copy %s: %w", snap.Ref(), err)
		}
	}
	return res, nil
}

// heapCopy hands the pages of one heap to a PageWriter as a copy reads
// them (CopyOptions.HeapCopy).
type heapCopy struct {
	w  PageWriter
	mu sync.Mutex
	// left holds, for each page hash not yet written, the heap's
	// pages that hold it (a heap may hold one page several times).
	left map[Hash][]uint64
}

// newHeapCopy prepares the pages of heap for w, leaving out those w
// holds already.
func newHeapCopy(w PageWriter, heap PageTable) *heapCopy {
	c := &heapCopy{w: w, left: map[Hash][]uint64{}}
	for _, p := range heap.Pages {
		if w.Holds(p.Index, p.Hash) {
			continue
		}
		c.left[p.Hash] = append(c.left[p.Hash], p.Index)
	}
	return c
}

// page writes blob b, just read and verified as h, at every index of the
// heap that holds it.
func (c *heapCopy) page(h Hash, b []byte) {
	if c == nil || len(b) != PageSize {
		return // not a page: no heap holds it
	}
	c.mu.Lock()
	at := c.left[h]
	delete(c.left, h)
	c.mu.Unlock()
	for _, i := range at {
		c.w.CopyPages(i, b, []Hash{h})
	}
}

// rest writes the pages the copy did not send because dst held them
// already (shared with another snapshot), read back from dst.
func (c *heapCopy) rest(ctx context.Context, dst Store) error {
	for h := range c.left {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := dst.ReadBlob(h)
		if err != nil {
			return fmt.Errorf("heap page %s: %w", h.Short(), err)
		}
		if len(b) != PageSize {
			return fmt.Errorf("heap page %s: blob holds %d bytes, not a page", h.Short(), len(b))
		}
		c.page(h, b)
	}
	return nil
}

// copyBlobs sends the blobs of refs that dst lacks, in parallel.
// Heap pages among them go to heap as well (nil for none).
func copyBlobs(ctx context.Context, src Store, dst Receiver, refs []BlobRef, res *CopyResult, progress *atomic.Uint64, heap *heapCopy) error {
	seen := map[Hash]bool{}
	var hs []Hash
	for _, r := range refs {
		if !seen[r.Hash] {
			seen[r.Hash] = true
			hs = append(hs, r.Hash)
		}
	}
	has, err := dst.HasBlobs(ctx, hs)
	if err != nil {
		return err
	}
	var todo []Hash
	for i, h := range hs {
		if has[i] {
			res.BlobsPresent++
		} else {
			todo = append(todo, h)
		}
	}
	work := make(chan Hash)
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range work {
				b, err := src.ReadBlob(h)
				if err == nil {
					_, err = dst.PutBlob(b)
				}
				if err == nil {
					heap.page(h, b)
				}
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("blob %s: %w", h.Short(), err)
				} else if err == nil {
					res.BlobsSent++
					res.BytesSent += int64(len(b))
				}
				mu.Unlock()
				if progress != nil {
					progress.Add(uint64(len(b)))
				}
			}
		}()
	}
	for _, h := range todo {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		work <- h
	}
	close(work)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
