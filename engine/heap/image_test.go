package heap

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestImage: a heap written with WriteImage and loaded with LoadImage
// reads the same, reports no dirty pages, rolls back to the image, and
// its first commit keeps image and changes; the image file is not
// modified by any of it.
func TestImage(t *testing.T) {
	src := newTestHeap(t, newBackend, 8*WasmPageSize)
	mem := grow(t, src, 4*WasmPageSize)
	mem[10] = 1
	mem[2*WasmPageSize+5] = 2 // page 1 and 3 stay holes
	mem[4*WasmPageSize-1] = 3
	if _, err := src.Commit(); err != nil {
		t.Fatal(err)
	}
	want := committed(t, src)
	path := filepath.Join(t.TempDir(), "heap.img")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.WriteImage(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	image, _ := os.ReadFile(path)
	if !bytes.Equal(image, want) {
		t.Fatal("the image file differs from the committed heap")
	}

	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	h := newTestHeap(t, newBackend, 8*WasmPageSize)
	if err := h.LoadImage(f, uint64(len(want))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	os.Remove(path) // the mapping keeps the inode
	if h.Size() != uint64(len(want)) || !bytes.Equal(committed(t, h), want) {
		t.Fatal("a loaded image reads differently from the heap it was written from")
	}
	work := grow(t, h, h.Size())
	if !bytes.Equal(work, want) {
		t.Fatal("the working memory does not show the image")
	}
	if d, err := h.Dirty(); err != nil || len(d) != 0 {
		t.Fatalf("reading the image dirtied %v (%v)", d, err)
	}
	nz, err := h.NonZeroPages()
	if err != nil || len(nz) != 3 {
		t.Fatalf("non-zero pages %v, %v; want pages 0, 2 and 3", nz, err)
	}

	// A rolled back write leaves the image.
	work[20] = 9
	if _, err := h.Rollback(); err != nil {
		t.Fatal(err)
	}
	if work[20] != 0 || !bytes.Equal(committed(t, h), want) {
		t.Fatal("rollback did not return to the image")
	}

	// The first commit copies the image and keeps the change.
	work[20] = 9
	work[WasmPageSize+1] = 8 // a hole of the image
	d, err := h.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 2 {
		t.Errorf("commit reported %v, want the 2 pages written", d)
	}
	want[20], want[WasmPageSize+1] = 9, 8
	if !bytes.Equal(committed(t, h), want) || !bytes.Equal(work, want) {
		t.Fatal("after the first commit the heap lost the image or the change")
	}
	// Rollback now returns to the committed state, no longer the image.
	work[30] = 7
	if _, err := h.Rollback(); err != nil {
		t.Fatal(err)
	}
	if work[30] != 0 || work[20] != 9 {
		t.Fatal("rollback after the migration lost the committed bytes")
	}

	// The portable heap cannot map an image.
	p := newTestHeap(t, func() backend { return &copying{} }, WasmPageSize)
	if err := p.LoadImage(os.Stdin, 0); !errors.Is(err, ErrNoImage) {
		t.Errorf("portable LoadImage: %v, want ErrNoImage", err)
	}
}
