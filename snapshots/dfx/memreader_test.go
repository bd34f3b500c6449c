package dfx

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/canscope/canscope/snapshots/dfx/dfxtest"
	"golang.org/x/sys/unix"
)

// TestMemReader: a range the page cache does not hold is read with
// O_DIRECT (where the file system allows it), one it holds through the
// cache, and both give the file's bytes, dirty cached pages included.
func TestMemReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mem")
	want := make([]byte, 8*dfxtest.PageSize)
	for i := range 8 {
		dfxtest.FillPage(want[i*dfxtest.PageSize:(i+1)*dfxtest.PageSize], 1, uint64(i))
	}
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := newMemReader(f)
	defer rd.close()
	if rd.direct == nil {
		t.Skip("the file system refuses O_DIRECT")
	}
	// Written just now: cached (and dirty), read through the cache.
	if !rd.cached(0, len(want)) {
		t.Fatal("a file just written is not seen as cached")
	}
	buf := alignedBuffer(len(want))
	if err := rd.readAt(buf, 0); err != nil || !bytes.Equal(buf, want) {
		t.Fatalf("cached read: %v, equal %v", err, bytes.Equal(buf, want))
	}
	// Flushed and dropped from the cache: read direct.
	if err := unix.Fsync(int(f.Fd())); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	if rd.cached(0, len(want)) {
		t.Skip("the page cache kept the dropped file")
	}
	clear(buf)
	if err := rd.readAt(buf[:4*dfxtest.PageSize], 4*dfxtest.PageSize); err != nil || !bytes.Equal(buf[:4*dfxtest.PageSize], want[4*dfxtest.PageSize:]) {
		t.Fatalf("direct read: %v", err)
	}
	if rd.buffered.Load() {
		t.Fatal("the direct read fell back to the page cache")
	}
	if rd.cached(4*dfxtest.PageSize, 4*dfxtest.PageSize) {
		t.Fatal("a direct read filled the page cache")
	}
}
