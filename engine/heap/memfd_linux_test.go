package heap

import (
	"bytes"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
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

// TestCommitHoldsPagesOnce: writing a fresh heap allocates only the
// private pages (no zeroed memfd pages behind them, as a MAP_PRIVATE
// mapping of the memfd's holes did), and the commit moves them into the
// memfd, which then holds exactly the pages written; writes, rollbacks and
// commits across chunks that map the memfd and chunks that do not keep
// the bytes.
func TestCommitHoldsPagesOnce(t *testing.T) {
	b := &memfd{fd: -1, image: -1}
	h := newTestHeap(t, func() backend { return b }, 512*WasmPageSize)
	mem := grow(t, h, 256*WasmPageSize) // 16 MiB: 8 chunks
	allocated := func() uint64 {
		var st unix.Stat_t
		if err := unix.Fstat(b.fd, &st); err != nil {
			t.Fatal(err)
		}
		return uint64(st.Blocks) * 512
	}
	want := make([]byte, len(mem))
	write := func(from, to int, v byte) {
		for i := from; i < to; i++ {
			mem[i], want[i] = v+byte(i>>12), v+byte(i>>12)
		}
	}
	// 8 MiB from 1 MiB: two partial chunks and three whole ones.
	write(1<<20, 9<<20, 1)
	_ = mem[12<<20] // a read of an untouched chunk maps the zero page
	if n := allocated(); n != 0 {
		t.Fatalf("writing a fresh heap allocated %d bytes of the memfd before the commit", n)
	}
	if _, err := h.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := allocated(); n != 8<<20 {
		t.Fatalf("the memfd holds %d bytes after committing 8 MiB", n)
	}
	if !bytes.Equal(mem, want) || !bytes.Equal(committed(t, h), want) {
		t.Fatal("the commit lost bytes")
	}
	// A message writing into mapped chunks and an anonymous one, rolled
	// back, then committed.
	saved := slices.Clone(want)
	write(4<<20, 4<<20+8192, 7)
	mem[14<<20] = 5
	if _, err := h.Rollback(); err != nil {
		t.Fatal(err)
	}
	want = saved
	if !bytes.Equal(mem, want) {
		t.Fatal("rollback kept writes")
	}
	write(0, 4096, 3)            // the first chunk, partly committed
	write(8<<20+4096, 10<<20, 4) // across a chunk boundary
	write(15<<20, 16<<20, 6)     // the last chunk, anonymous until now
	d, err := h.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 1+(2<<20-4096)/4096+256 {
		t.Errorf("commit reported %d pages", len(d))
	}
	if !bytes.Equal(mem, want) || !bytes.Equal(committed(t, h), want) {
		t.Fatal("the second commit lost bytes")
	}
	if dd, err := h.Dirty(); err != nil || len(dd) != 0 {
		t.Fatalf("after the commit %d pages are dirty (%v)", len(dd), err)
	}
}
