package heap

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
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

// TestImageBase: a heap loaded over another heap's image (LoadImageBase)
// with the pages that differ written over it reads as those pages over
// the image, at a larger or smaller size; rollbacks return to it, the
// first commit keeps it, and the image file is not modified.
func TestImageBase(t *testing.T) {
	img := make([]byte, 4*WasmPageSize)
	img[10] = 1               // page 0: kept
	img[2*WasmPageSize+5] = 2 // page 2: replaced
	img[3*WasmPageSize+7] = 3 // page 3: zero in the child
	path := filepath.Join(t.TempDir(), "base.img")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	h := newTestHeap(t, newBackend, 8*WasmPageSize)
	if err := h.LoadImageBase(f, 6*WasmPageSize); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 6*WasmPageSize)
	copy(want, img)
	page := func(i uint64, b byte) []byte {
		p := make([]byte, WasmPageSize)
		if b != 0 {
			p[100], p[WasmPageSize-1] = b, b
		}
		copy(want[i*WasmPageSize:], p)
		return p
	}
	for _, w := range []struct {
		i uint64
		b byte
	}{{2, 4}, {1, 5}, {3, 0}, {5, 6}} { // page 1: a hole of the image; 5: past it
		if err := h.WriteAt(page(w.i, w.b), w.i*WasmPageSize); err != nil {
			t.Fatal(err)
		}
	}
	if h.Size() != uint64(len(want)) || !bytes.Equal(committed(t, h), want) {
		t.Fatal("the committed heap is not the written pages over the image")
	}
	work := grow(t, h, h.Size())
	if !bytes.Equal(work, want) {
		t.Fatal("the working memory does not show the pages over the image")
	}
	if d, err := h.Dirty(); err != nil || len(d) != 0 {
		t.Fatalf("loading dirtied %v (%v)", d, err)
	}
	if nz, err := h.NonZeroPages(); err != nil || !slices.Equal(nz, []uint32{0, 1, 2, 5}) {
		t.Fatalf("non-zero pages %v, %v; want 0, 1, 2, 5", nz, err)
	}
	for _, off := range []int{20, WasmPageSize + 200, 2*WasmPageSize + 100, 3*WasmPageSize + 7, 5*WasmPageSize + 100} {
		work[off] = 9
	}
	if _, err := h.Rollback(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(work, want) || !bytes.Equal(committed(t, h), want) {
		t.Fatal("rollback did not return to the pages over the image")
	}
	work[20], work[2*WasmPageSize+200] = 9, 8
	if _, err := h.Commit(); err != nil {
		t.Fatal(err)
	}
	want[20], want[2*WasmPageSize+200] = 9, 8
	if !bytes.Equal(committed(t, h), want) || !bytes.Equal(work, want) {
		t.Fatal("the first commit lost the image, the written pages or the change")
	}
	work[WasmPageSize+300] = 7
	if _, err := h.Rollback(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(work, want) {
		t.Fatal("rollback after the first commit lost committed bytes")
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, img) {
		t.Fatal("the base image file changed")
	}

	// A smaller heap maps only its part of the image.
	s := newTestHeap(t, newBackend, 8*WasmPageSize)
	if err := s.LoadImageBase(f, 2*WasmPageSize); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed(t, s), img[:2*WasmPageSize]) {
		t.Fatal("a smaller heap does not read the image's first pages")
	}
	if err := s.SetSize(4 * WasmPageSize); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed(t, s)[2*WasmPageSize:], make([]byte, 2*WasmPageSize)) {
		t.Fatal("growing a smaller heap shows the image's pages past its size")
	}
}

// TestImageBaseManyPatches: past maxPatches scattered writes over an
// image, the heap copies the image into its own storage and keeps every
// page written so far.
func TestImageBaseManyPatches(t *testing.T) {
	const n = maxPatches + 8 // scattered OS pages: one patch each
	size := uint64(roundUp(2*n*OSPageSize, WasmPageSize))
	img := make([]byte, size)
	for i := range img {
		img[i] = byte(i / OSPageSize)
	}
	path := filepath.Join(t.TempDir(), "base.img")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := newTestHeap(t, newBackend, size)
	if err := h.LoadImageBase(f, size); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(img)
	p := make([]byte, OSPageSize)
	for i := range uint64(n) {
		off := 2 * i * OSPageSize
		for j := range p {
			p[j] = byte(i*7 + 1)
		}
		copy(want[off:], p)
		if err := h.WriteAt(p, off); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(committed(t, h), want) || !bytes.Equal(grow(t, h, size), want) {
		t.Fatal("the heap lost pages written past the patch bound")
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, img) {
		t.Fatal("the base image file changed")
	}
}
