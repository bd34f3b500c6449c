// Package storetest is the conformance suite every snapshot store backend
// passes: one table of cases run against the local directory store and
// the S3 store alike, so the two keep the same guarantees (content
// addressing, verified reads, NAME@N assignment, commit checks, fsck).
// Each backend's test file supplies a Backend with the few raw
// operations the damage cases need.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/canscope/canscope/snapshots"
)

// Store is a backend under test.
type Store interface {
	snapshots.Store
	Check(ctx context.Context) (*snapshots.CheckReport, error)
	Close() error
}

// Backend opens stores of one kind and damages them the way a disk or a
// careless operator would.
type Backend struct {
	// New returns an empty store, closed when the test ends.
	New func(t *testing.T) Store
	// Reopen returns a second, independent handle on s's store (as
	// another process would open it), closed when the test ends.
	Reopen func(t *testing.T, s Store) Store
	// Blobs counts the blobs stored (raw objects or files).
	Blobs func(t *testing.T, s Store) int
	// RawBlob returns blob h as stored (compressed); SetRawBlob
	// overwrites it; RemoveBlob deletes it. Each bypasses any cache, and
	// drops the cache's copy so the next read sees the damage.
	RawBlob    func(t *testing.T, s Store, h snapshots.Hash) []byte
	SetRawBlob func(t *testing.T, s Store, h snapshots.Hash, b []byte)
	RemoveBlob func(t *testing.T, s Store, h snapshots.Hash)
	// FlipManifestByte flips byte off of manifest id's stored encoding.
	FlipManifestByte func(t *testing.T, s Store, id snapshots.ID, off int)
}

// Run runs every conformance case against b.
func Run(t *testing.T, b Backend) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, b) })
	}
}

var cases = []struct {
	name string
	run  func(t *testing.T, b Backend)
}{
	{"BlobsRoundTripAndDedupe", blobsRoundTripAndDedupe},
	{"CorruptBlobIsRefusedAndReported", corruptBlobIsRefusedAndReported},
	{"CheckFindsMissingBlobAndCorruptManifest", checkFindsMissingBlobAndCorruptManifest},
	{"CommitSeqListResolveFork", commitSeqListResolveFork},
	{"CommitRefusesBadManifests", commitRefusesBadManifests},
	{"ChildCommitChecksOnlyChangedPages", childCommitChecksOnlyChangedPages},
	{"ConcurrentCommitsGetDistinctSeqs", concurrentCommitsGetDistinctSeqs},
	{"SecondHandleSeesCommits", secondHandleSeesCommits},
	{"RacingImportsBothLandRacingCallsDoNot", racingImportsBothLandRacingCallsDoNot},
}

// Page returns a page filled with b.
func Page(b byte) []byte { return bytes.Repeat([]byte{b}, snapshots.PageSize) }

// CommitPages stores pages (nil = zero page) as the heap of a new
// snapshot named name.
func CommitPages(t *testing.T, s snapshots.Store, name string, parent *snapshots.ID, pages ...[]byte) snapshots.Snapshot {
	t.Helper()
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: name, MadeBy: snapshots.MadeByImport, Parent: parent}}
	m.Heap.Size = uint64(len(pages)) * snapshots.PageSize
	for i, p := range pages {
		if p == nil {
			continue
		}
		h, err := s.PutPage(p)
		if err != nil {
			t.Fatal(err)
		}
		if !h.IsZero() {
			m.Heap.Pages = append(m.Heap.Pages, snapshots.Page{Index: uint64(i), Hash: h})
		}
	}
	snap, err := s.Commit(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func blobsRoundTripAndDedupe(t *testing.T, b Backend) {
	s := b.New(t)
	h, err := s.PutPage(make([]byte, snapshots.PageSize))
	if err != nil || !h.IsZero() {
		t.Fatalf("zero page: hash %s, err %v; want zero hash, nothing stored", h.Short(), err)
	}
	short := []byte("short last page")
	h, err = s.PutPage(short)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.PutPage(Page(7)); err != nil {
			t.Fatal(err)
		}
	}
	mod := []byte("\x00asm\x01\x00\x00\x00")
	mh, err := s.PutBlob(mod)
	if err != nil {
		t.Fatal(err)
	}
	// A commit is where a backend that writes behind must have every
	// blob in place; an empty snapshot referencing the module forces it.
	if _, err := s.Commit(context.Background(), &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "m", MadeBy: snapshots.MadeByImport}, Module: mh}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, snapshots.PageSize)
	if err := s.ReadPage(h, buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf, short) || !bytes.Equal(buf[len(short):], make([]byte, snapshots.PageSize-len(short))) {
		t.Error("short page not zero-padded")
	}
	if got, err := s.ReadBlob(mh); err != nil || !bytes.Equal(got, mod) {
		t.Errorf("ReadBlob = %q, %v", got, err)
	}
	if n := b.Blobs(t, s); n != 3 {
		t.Errorf("store holds %d blobs, want 3 (zero page skipped, duplicates stored once)", n)
	}
	if _, err := s.ReadBlob(snapshots.Hash{1}); !errors.Is(err, snapshots.ErrNotFound) {
		t.Errorf("missing blob error = %v, want ErrNotFound", err)
	}
}

func corruptBlobIsRefusedAndReported(t *testing.T, b Backend) {
	s := b.New(t)
	snap := CommitPages(t, s, "prod", nil, Page(1), nil, Page(2))
	m, err := s.Manifest(snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	victim := m.Heap.Pages[1].Hash
	b.SetRawBlob(t, s, victim, []byte("garbage"))
	if err := s.ReadPage(victim, make([]byte, snapshots.PageSize)); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("reading a damaged blob: %v, want a corrupt error", err)
	}
	// Same length, one bit flipped inside a valid frame: caught by the hash.
	other := m.Heap.Pages[0].Hash
	raw := b.RawBlob(t, s, other)
	raw[len(raw)-1] ^= 1
	b.SetRawBlob(t, s, other, raw)
	if err := s.ReadPage(other, make([]byte, snapshots.PageSize)); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("reading a blob with a flipped bit: %v, want a corrupt error", err)
	}

	rep, err := s.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Problems) != 2 || rep.BlobsChecked != 2 || rep.SnapshotsChecked != 1 {
		t.Fatalf("fsck report = %+v, want two problems in one snapshot", rep)
	}
	for _, p := range rep.Problems {
		if p.Snapshot != snap.ID.String() || p.Ref != "prod@1" || p.Memory != "heap" || p.Page == nil || p.What != snapshots.ProblemCorruptBlob {
			t.Errorf("problem %+v does not name the snapshot and heap page", p)
		}
	}
	if p := rep.Problems[0]; !strings.Contains(p.String(), "prod@1 heap page") {
		t.Errorf("human line %q lacks the snapshot and page", p.String())
	}
}

func checkFindsMissingBlobAndCorruptManifest(t *testing.T, b Backend) {
	s := b.New(t)
	a := CommitPages(t, s, "a", nil, Page(1))
	bs := CommitPages(t, s, "b", nil, Page(2))
	mb, _ := s.Manifest(bs.ID)
	b.RemoveBlob(t, s, mb.Heap.Pages[0].Hash)
	b.FlipManifestByte(t, s, a.ID, 20)
	if _, err := s.Manifest(a.ID); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("Manifest of a damaged manifest: %v", err)
	}
	rep, err := s.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[snapshots.ProblemKind]string{}
	for _, p := range rep.Problems {
		kinds[p.What] = p.Snapshot
	}
	if kinds[snapshots.ProblemMissingBlob] != bs.ID.String() || kinds[snapshots.ProblemCorruptManifest] != a.ID.String() || rep.OK {
		t.Errorf("problems = %+v", rep.Problems)
	}
	if rep.UnreferencedBlobs != 1 {
		t.Errorf("unreferenced blobs = %d, want 1 (a's page, its manifest is unreadable)", rep.UnreferencedBlobs)
	}
}

func commitSeqListResolveFork(t *testing.T, b Backend) {
	s := b.New(t)
	p1 := CommitPages(t, s, "prod", nil, Page(1), Page(2))
	p2 := CommitPages(t, s, "prod", &p1.ID, Page(1), Page(3))
	if p1.Seq != 1 || p2.Seq != 2 || *p2.Parent != p1.ID || p2.HeapPagesStored != 2 || p2.HeapBytes != 2*snapshots.PageSize {
		t.Fatalf("snapshots = %+v, %+v", p1, p2)
	}
	f, err := snapshots.Fork(context.Background(), s, "prod@1", "repair")
	if err != nil {
		t.Fatal(err)
	}
	if f.Ref() != "repair@1" || f.MadeBy != snapshots.MadeByFork || *f.ForkedFrom != p1.ID || *f.Parent != p1.ID {
		t.Errorf("fork = %+v", f)
	}
	fm, _ := s.Manifest(f.ID)
	pm, _ := s.Manifest(p1.ID)
	if d := snapshots.Diff(pm, fm); !d.Empty() {
		t.Errorf("fork differs from its source: %+v", d)
	}
	all, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, x := range all {
		refs = append(refs, x.Ref())
	}
	if strings.Join(refs, " ") != "prod@1 prod@2 repair@1" {
		t.Errorf("List order = %v", refs)
	}
	if got, err := s.Resolve("prod"); err != nil || got.ID != p2.ID {
		t.Errorf("Resolve(prod) = %v, %v", got.Ref(), err)
	}
	if _, err := snapshots.Fork(context.Background(), s, "nope", "x"); err == nil {
		t.Error("fork of an unknown ref succeeded")
	}
	if _, err := snapshots.Fork(context.Background(), s, "prod", "bad name"); err == nil {
		t.Error("fork with an invalid name succeeded")
	}
}

func commitRefusesBadManifests(t *testing.T, b Backend) {
	s := b.New(t)
	h, _ := s.PutPage(Page(1))
	missing := snapshots.Hash{0xab}
	tests := map[string]*snapshots.Manifest{
		"no name":       {Snapshot: snapshots.Snapshot{MadeBy: snapshots.MadeByImport}},
		"no made_by":    {Snapshot: snapshots.Snapshot{Name: "x"}},
		"missing page":  {Snapshot: snapshots.Snapshot{Name: "x", MadeBy: "import"}, Heap: snapshots.PageTable{Size: snapshots.PageSize, Pages: []snapshots.Page{{Index: 0, Hash: missing}}}},
		"missing mod":   {Snapshot: snapshots.Snapshot{Name: "x", MadeBy: "import"}, Module: missing},
		"heap too big":  {Snapshot: snapshots.Snapshot{Name: "x", MadeBy: "import"}, Heap: snapshots.PageTable{Size: snapshots.MaxWasm64HeapBytes + 1}},
		"page past end": {Snapshot: snapshots.Snapshot{Name: "x", MadeBy: "import"}, Heap: snapshots.PageTable{Size: snapshots.PageSize, Pages: []snapshots.Page{{Index: 1, Hash: h}}}},
		"bad parent":    {Snapshot: snapshots.Snapshot{Name: "x", MadeBy: "import", Parent: &missing}},
	}
	for name, m := range tests {
		if _, err := s.Commit(context.Background(), m); err == nil {
			t.Errorf("%s: Commit accepted it", name)
		}
	}
	if all, _ := s.List(); len(all) != 0 {
		t.Errorf("refused commits left %d snapshots", len(all))
	}
}

func childCommitChecksOnlyChangedPages(t *testing.T, b Backend) {
	s := b.New(t)
	p := CommitPages(t, s, "prod", nil, Page(1), Page(2), Page(3))
	pm, _ := s.Manifest(p.ID)
	child := pm.Child(snapshots.MadeByCall)
	h, err := s.PutPage(Page(9))
	if err != nil {
		t.Fatal(err)
	}
	child.Heap = child.Heap.Patch(4*snapshots.PageSize, []snapshots.Page{{Index: 1, Hash: h}, {Index: 2}})
	snap, err := s.Commit(context.Background(), child)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Manifest(snap.ID)
	d := snapshots.Diff(pm, got)
	if d.Heap.ChangedPages != 3 || snap.Ref() != "prod@2" || snap.MadeBy != snapshots.MadeByCall {
		t.Errorf("child %+v, diff %+v", snap, d.Heap)
	}
}

// Two handles on one store (as two processes would be) commit under one
// name at the same time: every snapshot gets its own NAME@N, none is lost.
func concurrentCommitsGetDistinctSeqs(t *testing.T, b Backend) {
	first := b.New(t)
	stores := [2]Store{first, b.Reopen(t, first)}
	const each = 6
	errs := make(chan error, 2*each)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				h, err := s.PutPage(Page(byte(10*i + j + 1)))
				if err == nil {
					m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "prod", MadeBy: snapshots.MadeByImport},
						Heap: snapshots.PageTable{Size: snapshots.PageSize, Pages: []snapshots.Page{{Index: 0, Hash: h}}}}
					_, err = s.Commit(context.Background(), m)
				}
				errs <- err
			}
		}()
	}
	wg.Wait()
	for range 2 * each {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	all, err := stores[0].List()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, s := range all {
		seen[s.Seq] = true
	}
	if len(all) != 2*each || len(seen) != 2*each {
		t.Errorf("%d snapshots with %d distinct seqs for %d commits", len(all), len(seen), 2*each)
	}
	for n := 1; n <= 2*each; n++ {
		if !seen[n] {
			t.Errorf("prod@%d missing: the sequence has a gap", n)
		}
	}
	if rep, err := stores[1].Check(context.Background()); err != nil || !rep.OK {
		t.Errorf("fsck after concurrent commits: %+v, %v", rep, err)
	}
}

// A snapshot committed through one handle is listed, resolved and read
// through another: nothing a store keeps in memory hides it.
func secondHandleSeesCommits(t *testing.T, b Backend) {
	a := b.New(t)
	other := b.Reopen(t, a)
	if all, err := other.List(); err != nil || len(all) != 0 {
		t.Fatalf("empty store lists %v, %v", all, err)
	}
	snap := CommitPages(t, a, "prod", nil, Page(4))
	got, err := other.Resolve("prod")
	if err != nil || got.ID != snap.ID {
		t.Fatalf("second handle resolves prod to %v, %v; want %s", got.Ref(), err, snap.ID.Short())
	}
	m, err := other.Manifest(snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, snapshots.PageSize)
	if err := other.ReadPage(m.Heap.Pages[0].Hash, buf); err != nil || !bytes.Equal(buf, Page(4)) {
		t.Errorf("second handle reads the page: %v", err)
	}
	snap2 := CommitPages(t, other, "prod", &snap.ID, Page(5))
	if snap2.Seq != 2 {
		t.Errorf("commit through the second handle is %s, want prod@2", snap2.Ref())
	}
}

// Two children of prod@1 committed one after the other, as two operators
// racing would: a second import lands after the first (re-parented onto
// it, the lineage stays one line); a call derived from the old prod@1 is
// refused with ErrMoved (CheckHead) rather than silently shadowing the
// first change.
func racingImportsBothLandRacingCallsDoNot(t *testing.T, b Backend) {
	a := b.New(t)
	other := b.Reopen(t, a)
	p1 := CommitPages(t, a, "prod", nil, Page(1))
	child := func(s Store, op snapshots.MadeBy, fill byte) (snapshots.Snapshot, error) {
		h, err := s.PutPage(Page(fill))
		if err != nil {
			t.Fatal(err)
		}
		m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "prod", MadeBy: op, Parent: &p1.ID},
			Heap: snapshots.PageTable{Size: snapshots.PageSize, Pages: []snapshots.Page{{Index: 0, Hash: h}}}}
		return s.Commit(context.Background(), m)
	}
	i2, err := child(a, snapshots.MadeByImport, 2)
	if err != nil {
		t.Fatal(err)
	}
	i3, err := child(other, snapshots.MadeByImport, 3)
	if err != nil {
		t.Fatalf("second import under prod: %v", err)
	}
	if i2.Ref() != "prod@2" || i3.Ref() != "prod@3" || *i3.Parent != i2.ID {
		t.Errorf("imports %s (parent %s), %s (parent %s); want prod@2, prod@3 child of prod@2", i2.Ref(), i2.Parent.Short(), i3.Ref(), i3.Parent.Short())
	}
	if _, err := child(other, snapshots.MadeByCall, 4); !errors.Is(err, snapshots.ErrMoved) {
		t.Errorf("a call on prod@1 after prod@3 landed: %v, want ErrMoved", err)
	}
	if all, _ := a.List(); len(all) != 3 {
		t.Errorf("%d snapshots, want 3", len(all))
	}
}
