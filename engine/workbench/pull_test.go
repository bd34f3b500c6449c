package workbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/fsstore"
	"github.com/canscope/canscope/snapshots/s3store"
	"github.com/minio/minio-go/v7"
)

// pullSource returns the store a pull reads from: a fresh prefix on the
// S3 test server (SeaweedFS, which .ci/run starts and names in
// CANSCOPE_S3_TEST_ENDPOINT) with src pushed to it, or, without a
// server, src itself (Copy reads either through the Store interface).
func pullSource(t *testing.T, src *fsstore.Store, ref string) snapshots.Store {
	t.Helper()
	ep := os.Getenv("CANSCOPE_S3_TEST_ENDPOINT")
	if ep == "" {
		t.Log("no S3 test server (CANSCOPE_S3_TEST_ENDPOINT): pulling from a directory store")
		return src
	}
	getenv := func(k string) string {
		if k == "AWS_ENDPOINT_URL" {
			return ep
		}
		return os.Getenv(k)
	}
	var b [6]byte
	rand.Read(b[:])
	const bucket = "canscope-test"
	cfg, err := s3store.FromEnv(s3store.Scheme+bucket+"/"+strings.ReplaceAll(t.Name(), "/", "-")+"-"+hex.EncodeToString(b[:]), getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: cfg.Creds, Secure: cfg.Secure, Region: cfg.Region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := c.BucketExists(ctx, bucket); err != nil {
		t.Fatal(err)
	} else if !ok {
		if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil && !strings.Contains(err.Error(), "already") {
			t.Fatal(err)
		}
	}
	cfg.CacheDir = t.TempDir()
	s3, err := s3store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s3.Close() })
	if _, err := snapshots.Copy(ctx, src, s3, ref, snapshots.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	return s3
}

// countingWriter counts the pages a copy hands to the image.
type countingWriter struct {
	*HeapImage
	pages atomic.Int64
}

func (w *countingWriter) CopyPages(first uint64, data []byte, hashes []snapshots.Hash) error {
	w.pages.Add(int64(len(hashes)))
	return w.HeapImage.CopyPages(first, data, hashes)
}

// pullWithImage copies snapshot id from src into local, writing its heap
// image into images as canscope pull does, and keeps the image under the
// pulled heap's page table; the writer counts the pages it was handed.
func pullWithImage(tb testing.TB, src snapshots.Store, local *fsstore.Store, id snapshots.ID, images string) *countingWriter {
	tb.Helper()
	var w *countingWriter
	res, err := snapshots.Copy(context.Background(), src, local, id.String(), snapshots.CopyOptions{HeapCopy: func(size uint64, base *snapshots.PageTable) snapshots.PageWriter {
		w = &countingWriter{HeapImage: NewHeapImage(images, size, base)}
		return w
	}})
	if err != nil || w == nil {
		tb.Fatalf("pull: %v (image %v)", err, w)
	}
	if res.HeapErr != nil {
		tb.Fatal(res.HeapErr)
	}
	m, err := local.Manifest(id)
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.Keep(m.Heap); err != nil {
		tb.Fatal(err)
	}
	return w
}

// TestPulledHeapImage: a pull that writes its heap into a HeapImage (as
// canscope pull does) makes the first open a mapping: no heap page is
// read from the store, and the heap is the one a streamed open sees. A
// later pull of a child over the parent's image writes only its changed
// pages, and the child opens mapped too.
func TestPulledHeapImage(t *testing.T) {
	ctx := context.Background()
	b, store := newBench(t)
	run := imageSizedRun(t, b)
	snap, err := run.Commit(ctx, CommitOptions{Name: "src", MadeBy: snapshots.MadeByCall})
	if err != nil {
		t.Fatal(err)
	}
	res, err := run.Canister.Update(ctx, "add_chunks", u64(1))
	mustOK(t, res, err)
	child, err := run.Commit(ctx, CommitOptions{Name: "src", MadeBy: snapshots.MadeByCall})
	if err != nil {
		t.Fatal(err)
	}
	run.Close(ctx)
	src := pullSource(t, store, child.ID.String())

	local, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	images := t.TempDir()
	pull := func(id snapshots.ID) *countingWriter { return pullWithImage(t, src, local, id, images) }
	eng, err := engine.New(engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	// open opens id on local, with the pulled images or streaming, and
	// returns its heap's hash and the pages it read from the store.
	open := func(id snapshots.ID, withImages bool) ([32]byte, int64) {
		t.Helper()
		cs := &countingStore{Store: local}
		fresh := New(cs, eng)
		if withImages {
			fresh.SetHeapImages(images, 0)
		}
		r, err := fresh.Open(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close(ctx)
		n := cs.pages.Load()
		stats, err := r.Canister.Query(ctx, "stats", nil)
		mustOK(t, stats, err)
		walked, err := r.Canister.Query(ctx, "verify", nil)
		mustOK(t, walked, err)
		if string(stats.Reply) != string(walked.Reply) {
			t.Fatal("the data store does not verify")
		}
		return heapHash(t, r.Canister), n
	}

	w := pull(snap.ID)
	if w.pages.Load() < 256 {
		t.Fatalf("the first pull wrote %d pages into the image, want the whole heap", w.pages.Load())
	}
	got, n := open(snap.ID, true)
	if n != 0 {
		t.Errorf("first open after the pull read %d pages from the store, want the image mapped", n)
	}
	if streamed, _ := open(snap.ID, false); got != streamed {
		t.Fatal("heap mapped from the pulled image differs from a streamed open")
	}

	// The child's heap grew by a page: the parent's image still gives
	// every page below its size.
	if pm, cm := mustManifest(t, local, snap.ID), mustManifest(t, src, child.ID); pm.Heap.Size >= cm.Heap.Size {
		t.Fatalf("heap of %d bytes -> %d, want the child's larger", pm.Heap.Size, cm.Heap.Size)
	}
	w = pull(child.ID)
	if n := w.pages.Load(); n == 0 || n > 8 {
		t.Errorf("the pull of a child over its parent's image wrote %d pages, want only its few changed ones", n)
	}
	t.Logf("child pull wrote %d pages into its image", w.pages.Load())
	got, n = open(child.ID, true)
	if n != 0 {
		t.Errorf("first open of the pulled child read %d pages from the store, want its image mapped", n)
	}
	if streamed, _ := open(child.ID, false); got != streamed {
		t.Fatal("child heap mapped from the pulled image differs from a streamed open")
	}
}

func mustManifest(t *testing.T, st snapshots.Store, id snapshots.ID) *snapshots.Manifest {
	t.Helper()
	m, err := st.Manifest(id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
