//go:build unix

package stable

import (
	"fmt"
	"os"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// spillChunk is the size of one mapping of the spill file (1 GiB).
const spillChunk = 1 << 30

// arena holds page buffers in a shared mapping of an unlinked temporary
// file instead of the Go heap. Large reads and writes (whole pages: what
// a pre_upgrade saving a GiB and a post_upgrade reading it back do) go
// through pread and pwrite and never map the file; small ones use the
// mapping, which is released from the process with MADV_DONTNEED every
// dropEvery allocations: the contents stay in the file (the kernel's page
// cache, written back and reclaimed under memory pressure) and come back on
// the next access.
type arena struct {
	f        *os.File
	chunks   [][]byte
	used     int // page slots handed out, over all chunks
	free     []*page
	touches  int
	released int // pages dropped from RSS so far (for tests and reports)
	// holes are the file offsets of recycled pages not punched yet.
	holes []int64
}

// dropEvery is how many arena page allocations pass between two releases
// of the mapping from RSS (64 MiB). Small accesses do not count: releasing
// after every few of them made each next small write fault the page back
// (1M random 8-byte writes over 256 MiB: 12 s, Go heap 0.9 s, now 2.1 s).
const dropEvery = 1024

func newArena() (*arena, error) {
	f, err := os.CreateTemp("", "canscope-stable-*")
	if err != nil {
		return nil, fmt.Errorf("stable memory spill file: %w", err)
	}
	os.Remove(f.Name()) // unlinked: the file goes with the process
	return &arena{f: f}, nil
}

// alloc returns a page buffer in the file.
func (a *arena) alloc() (*page, error) {
	a.touch()
	a.punch() // before a recycled slot is used again
	if n := len(a.free); n > 0 {
		p := a.free[n-1]
		a.free = a.free[:n-1]
		return p, nil
	}
	perChunk := spillChunk / PageSize
	if a.used == len(a.chunks)*perChunk {
		if err := a.f.Truncate(int64(len(a.chunks)+1) * spillChunk); err != nil {
			return nil, fmt.Errorf("grow stable memory spill file: %w", err)
		}
		b, err := unix.Mmap(int(a.f.Fd()), int64(len(a.chunks))*spillChunk, spillChunk, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return nil, fmt.Errorf("map stable memory spill file: %w", err)
		}
		a.chunks = append(a.chunks, b)
	}
	c, i := a.used/perChunk, a.used%perChunk
	a.used++
	return (*page)(unsafe.Pointer(&a.chunks[c][i*PageSize])), nil
}

// touch counts one allocation, releasing the mapping from RSS every
// dropEvery.
func (a *arena) touch() {
	a.touches++
	if a.touches%dropEvery == 0 {
		a.drop()
	}
}

// drop releases every mapped page from the process's resident set.
func (a *arena) drop() {
	for _, b := range a.chunks {
		if unix.Madvise(b, unix.MADV_DONTNEED) == nil {
			a.released += len(b) / PageSize
		}
	}
}

// pwriteMin is the smallest write write does with pwrite: below it the
// system call costs more than a fault of the mapping.
const pwriteMin = 16 << 10

// write stores src at byte in of p with pwrite when p lies in the arena
// and src is large, and reports whether it did.
func (a *arena) write(p *page, in uint64, src []byte) bool {
	if len(src) < pwriteMin {
		return false
	}
	off, ok := a.offset(p)
	if !ok {
		return false
	}
	for b, at := src, off+int64(in); len(b) > 0; {
		n, err := unix.Pwrite(int(a.f.Fd()), b, at)
		if err != nil {
			return false // the mapping writes it then, or faults as it would have
		}
		b, at = b[n:], at+int64(n)
	}
	return true
}

// read fills dst from byte in of p with pread when p lies in the arena
// and dst is large, and reports whether it did.
func (a *arena) read(dst []byte, p *page, in uint64) bool {
	if len(dst) < pwriteMin {
		return false
	}
	off, ok := a.offset(p)
	if !ok {
		return false
	}
	for b, at := dst, off+int64(in); len(b) > 0; {
		n, err := unix.Pread(int(a.f.Fd()), b, at)
		if err != nil || n == 0 {
			return false // the mapping reads it then
		}
		b, at = b[n:], at+int64(n)
	}
	return true
}

// owns reports whether p lies in the arena.
func (a *arena) owns(p *page) bool {
	_, ok := a.offset(p)
	return ok
}

// offset returns p's offset in the file.
func (a *arena) offset(p *page) (int64, bool) {
	addr := uintptr(unsafe.Pointer(p))
	for c, b := range a.chunks {
		base := uintptr(unsafe.Pointer(&b[0]))
		if addr >= base && addr < base+spillChunk {
			return int64(c)*spillChunk + int64(addr-base), true
		}
	}
	return 0, false
}

// recycle takes back a page buffer: its slot becomes a hole in the file
// (the page cache drops it, and the next use starts from a fresh zero
// page instead of faulting in whatever large folio held it) and joins the
// free list.
//
// The holes are punched later, together (punch): one punch per page cost
// an ext4 transaction each, 4 s for the 3,072 pages a 192 MiB pre_upgrade
// overwrote.
func (a *arena) recycle(p *page) {
	if off, ok := a.offset(p); ok {
		a.holes = append(a.holes, off)
	}
	a.free = append(a.free, p)
}

// punch makes the recycled slots holes, one fallocate per run of
// adjacent slots.
func (a *arena) punch() {
	if len(a.holes) == 0 {
		return
	}
	slices.Sort(a.holes)
	for i := 0; i < len(a.holes); {
		j := i + 1
		for j < len(a.holes) && a.holes[j] == a.holes[j-1]+PageSize {
			j++
		}
		unix.Fallocate(int(a.f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, a.holes[i], int64(j-i)*PageSize)
		i = j
	}
	a.holes = a.holes[:0]
}

// close unmaps the file and closes it.
func (a *arena) close() {
	for _, b := range a.chunks {
		unix.Munmap(b)
	}
	a.chunks = nil
	a.f.Close()
}
