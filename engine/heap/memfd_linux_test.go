package heap

import (
	"slices"
	"testing"
)

// TestPagemapFallback checks that reading /proc/self/pagemap finds the
// same dirty pages as the PAGEMAP_SCAN ioctl, so kernels without the
// ioctl behave the same.
func TestPagemapFallback(t *testing.T) {
	b := &memfd{fd: -1}
	h, err := newHeap(b, 64*WasmPageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if !b.scan {
		t.Log("PAGEMAP_SCAN unavailable; comparing the fallback with itself")
	}
	mem := h.Allocator().Allocate(0, 0).Reallocate(64 * WasmPageSize)
	_ = mem[12345] // a read maps a file page, which is not dirty
	for _, p := range []int{0, 1, 2, 100, 511, 1000, 1023} {
		mem[p*OSPageSize+5] = 1
	}
	viaScan, err := h.Dirty()
	if err != nil {
		t.Fatal(err)
	}
	viaRead, err := b.readDirty(mem, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint32{0, 1, 2, 100, 511, 1000, 1023}
	if !slices.Equal(viaScan, want) || !slices.Equal(viaRead, want) {
		t.Fatalf("dirty pages: scan %v, pagemap %v; want %v", viaScan, viaRead, want)
	}
}

// TestScanManyRuns makes more dirty runs than one ioctl call returns, so
// the scan must resume.
func TestScanManyRuns(t *testing.T) {
	h, err := New(64 * WasmPageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	mem := h.Allocator().Allocate(0, 0).Reallocate(64 * WasmPageSize)
	var want []uint32
	for p := 0; p < 1024; p += 2 { // 512 runs: exactly one full buffer, so the scan resumes
		mem[p*OSPageSize] = 1
		want = append(want, uint32(p))
	}
	mem[1023*OSPageSize] = 1
	want = append(want, 1023)
	got, err := h.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Commit found %d pages, want %d", len(got), len(want))
	}
}

func TestNewIsCopyOnWriteOnLinux(t *testing.T) {
	h, err := New(WasmPageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Portable() {
		t.Error("New fell back to the portable heap on Linux")
	}
}
