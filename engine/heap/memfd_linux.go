package heap

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// memfd is the Linux backend. The committed heap is a sparse memfd; the
// working memory maps it MAP_PRIVATE, so guest writes become private
// copy-on-write pages while the memfd keeps the committed bytes. The
// private pages are the dirty pages: PAGEMAP_SCAN (or /proc/self/pagemap)
// reports them as present and not file-backed. Commit writes them into the
// memfd; both commit and rollback then drop them with MADV_DONTNEED, after
// which the mapping reads the memfd again.
//
// Only the chunks (mapChunk bytes) holding committed bytes map the memfd;
// the rest of the reservation is anonymous memory, reading zero. A write
// fault on a hole of a shmem file mapped MAP_PRIVATE first allocates the
// file's page (zeroed) to copy it, so a post_upgrade filling a fresh GiB
// heap held it twice (the private copies and the memfd's zero pages)
// until the commit overwrote the latter. Anonymous chunks give private
// pages alone; a commit maps the memfd over a chunk once its pages are
// written there.
type memfd struct {
	fd      int
	pagemap *os.File
	scan    bool // PAGEMAP_SCAN works; else read pagemap entries
	regions []pageRegion
	entries []byte

	// image, when not -1, is a raw heap image mapped MAP_PRIVATE over
	// mem[:imageLen] in place of the memfd (useImage): the committed
	// bytes there are the image's and the memfd holds nothing yet. The
	// first change of the committed heap copies the image into the memfd
	// and maps the memfd back (migrate); reads and rollbacks never do.
	image    int
	imageLen uint64
	// patches are the ranges of the image's range whose committed bytes
	// are the memfd's, not the image's (writeCommitted before the first
	// commit: the pages a child snapshot changed over its ancestor's
	// image), each mapped MAP_PRIVATE from the memfd over the image's
	// mapping, so a rollback returns to them too.
	patches []span

	// mapped[c] says chunk c of the reservation maps the memfd (outside
	// the image's range, which maps the image until migrate).
	mapped []bool
}

// mapChunk is the granularity at which the memfd replaces anonymous
// memory in the reservation (2 MiB): a commit holds at most this much of
// a chunk twice, and a heap maps few enough ranges to stay far below the
// kernel's map count limit.
const mapChunk = 2 << 20

func newBackend() backend { return &memfd{fd: -1, image: -1} }

// useImage maps the raw image f (size bytes, a multiple of OSPageSize)
// copy-on-write as the committed heap: no byte is copied until the first
// commit. The committed heap must be empty.
func (m *memfd) useImage(mem []byte, f *os.File, size uint64) error {
	if size == 0 {
		return nil
	}
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return fmt.Errorf("use heap image: %w", err)
	}
	if err := mapFixed(mem[:size], fd); err != nil {
		unix.Close(fd)
		return fmt.Errorf("use heap image: %w", err)
	}
	m.image, m.imageLen = fd, size
	return nil
}

// span is a byte range [from, to) of the heap.
type span struct{ from, to uint64 }

// maxPatches bounds the patched ranges kept beside an image (each is a
// mapping of its own; the kernel allows ~65,000 per process): past it
// writeCommitted copies the image into the memfd as before.
const maxPatches = 4096

// mapFixed maps fd from offset 0 MAP_PRIVATE over mem, at mem's address.
func mapFixed(mem []byte, fd int) error {
	return mapFixedAt(mem, 0, uint64(len(mem)), fd)
}

// mapFixedAt maps [off, off+n) of fd MAP_PRIVATE over mem[off:off+n].
func mapFixedAt(mem []byte, off, n uint64, fd int) error {
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(mem))) + uintptr(off)
	_, _, errno := unix.Syscall6(unix.SYS_MMAP, addr, uintptr(n), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_FIXED|unix.MAP_NORESERVE, uintptr(fd), uintptr(off))
	if errno != 0 {
		return fmt.Errorf("mmap: %w", errno)
	}
	return nil
}

// mapMemfd makes every chunk meeting [off, off+n) map the memfd, and
// drops the private pages of [off, off+n) in chunks that did already. A
// chunk's private pages are lost either way: callers first write into the
// memfd every page of those chunks that they keep. Chunks wholly in the
// image's range keep mapping the image (commit copies it into the memfd
// and maps the memfd over the range after).
func (m *memfd) mapMemfd(mem []byte, off, n uint64) error {
	end := off + n
	inImage := func(c uint64) bool { return m.image >= 0 && (c+1)*mapChunk <= m.imageLen }
	for c := off / mapChunk; c*mapChunk < end; {
		if m.mapped[c] || inImage(c) {
			from, to := max(off, c*mapChunk), min(end, (c+1)*mapChunk)
			if err := m.drop(mem[from:], to-from); err != nil {
				return err
			}
			c++
			continue
		}
		// One mmap for a run of unmapped chunks.
		d := c
		for d*mapChunk < end && !m.mapped[d] && !inImage(d) {
			m.mapped[d] = true
			d++
		}
		from, to := c*mapChunk, min(d*mapChunk, uint64(len(mem)))
		if err := mapFixedAt(mem, from, to-from, m.fd); err != nil {
			return fmt.Errorf("map memfd: %w", err)
		}
		c = d
	}
	return nil
}

// migrate copies the image's data into the memfd and maps the memfd over
// the image's range again. Private pages in that range are lost: callers
// write what they keep into the memfd first (commit writes them after the
// copy, before the remap, through remap).
func (m *memfd) migrate(mem []byte) error {
	if m.image < 0 {
		return nil
	}
	if err := m.copyData(); err != nil {
		return err
	}
	return m.remap(mem)
}

// remap maps the memfd back over the image's range and forgets the image.
func (m *memfd) remap(mem []byte) error {
	if err := mapFixed(mem[:m.imageLen], m.fd); err != nil {
		return fmt.Errorf("migrate heap image: %w", err)
	}
	// A chunk only partly in the range stays as it was: its anonymous
	// rest holds no private page now, and the next commit there maps it.
	for c := uint64(0); (c+1)*mapChunk <= m.imageLen; c++ {
		m.mapped[c] = true
	}
	unix.Close(m.image)
	m.image, m.imageLen, m.patches = -1, 0, nil
	return nil
}

// patch stores p at off in the memfd and maps it there over the image's
// mapping, a page run at a time: the image stays as it is.
func (m *memfd) patch(mem []byte, p []byte, off uint64) error {
	if err := pwriteAll(m.fd, p, off); err != nil {
		return err
	}
	if err := mapFixedAt(mem, off, uint64(len(p)), m.fd); err != nil {
		return fmt.Errorf("patch heap image: %w", err)
	}
	end := off + uint64(len(p))
	if off < m.imageLen {
		s := span{off, min(end, m.imageLen)}
		i, _ := slices.BinarySearchFunc(m.patches, s.from, func(a span, from uint64) int { return cmp.Compare(a.from, from) })
		if i > 0 && m.patches[i-1].to == s.from {
			m.patches[i-1].to = max(m.patches[i-1].to, s.to)
		} else {
			m.patches = slices.Insert(m.patches, i, s)
		}
	}
	return nil
}

// overPatches replaces the bytes of p (the image's bytes at off) that a
// patch covers with the memfd's.
func (m *memfd) overPatches(p []byte, off uint64) error {
	end := off + uint64(len(p))
	for _, s := range m.patches {
		from, to := max(s.from, off), min(s.to, end)
		if from >= to {
			continue
		}
		if err := preadAll(m.fd, p[from-off:to-off], from); err != nil {
			return err
		}
	}
	return nil
}

// nextPatch returns the start of the first patched byte at or after off
// (within a patch: off), or ok false when there is none.
func (m *memfd) nextPatch(off uint64) (uint64, bool) {
	for _, s := range m.patches {
		if s.to > off {
			return max(s.from, off), true
		}
	}
	return 0, false
}

func (m *memfd) reserve(max uint64) ([]byte, error) {
	fd, err := unix.MemfdCreate("canscope-heap", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	// A sparse file as long as the reservation: every page of the mapping
	// is backed (no SIGBUS past EOF) and reads zero until written.
	if err := unix.Ftruncate(fd, int64(max)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("size memfd: %w", err)
	}
	// Anonymous until a commit maps the memfd over a chunk (mapMemfd).
	mem, err := unix.Mmap(-1, 0, int(max), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("reserve heap: %w", err)
	}
	m.mapped = make([]bool, (max+mapChunk-1)/mapChunk)
	pm, err := os.Open("/proc/self/pagemap")
	if err != nil {
		unix.Munmap(mem)
		unix.Close(fd)
		return nil, fmt.Errorf("open pagemap: %w", err)
	}
	m.fd, m.pagemap = fd, pm
	m.scan = m.probeScan(mem)
	return mem, nil
}

// PAGEMAP_SCAN ioctl (Linux 6.7+), from include/uapi/linux/fs.h.
const (
	pageIsFile     = 1 << 2
	pageIsPresent  = 1 << 3
	pageIsPFNZero  = 1 << 5
	pagemapScanReq = 0xC0606610 // _IOWR('f', 16, struct pm_scan_arg)
)

type pmScanArg struct {
	size, flags, start, end, walkEnd, vec, vecLen, maxPages       uint64
	categoryInverted, categoryMask, categoryAnyofMask, returnMask uint64
}

type pageRegion struct{ start, end, categories uint64 }

// probeScan reports whether PAGEMAP_SCAN is available.
func (m *memfd) probeScan(mem []byte) bool {
	_, err := m.scanDirty(mem[:OSPageSize], nil)
	return err == nil
}

// scanDirty lists private (written) pages with PAGEMAP_SCAN: present, not
// file-backed and not the shared zero page.
func (m *memfd) scanDirty(mem []byte, out []uint32) ([]uint32, error) {
	if len(mem) == 0 {
		return out, nil
	}
	if m.regions == nil {
		m.regions = make([]pageRegion, 512)
	}
	base := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(mem))))
	end := base + uint64(len(mem))
	for start := base; start < end; {
		arg := pmScanArg{
			start:            start,
			end:              end,
			vec:              uint64(uintptr(unsafe.Pointer(&m.regions[0]))),
			vecLen:           uint64(len(m.regions)),
			categoryInverted: pageIsFile | pageIsPFNZero,
			categoryMask:     pageIsPresent | pageIsFile | pageIsPFNZero,
			returnMask:       pageIsPresent,
		}
		arg.size = uint64(unsafe.Sizeof(arg))
		n, _, errno := unix.Syscall(unix.SYS_IOCTL, m.pagemap.Fd(), pagemapScanReq, uintptr(unsafe.Pointer(&arg)))
		runtime.KeepAlive(m.regions)
		if errno != 0 {
			return out, fmt.Errorf("PAGEMAP_SCAN: %w", errno)
		}
		for _, r := range m.regions[:n] {
			for a := r.start; a < r.end; a += OSPageSize {
				out = append(out, uint32((a-base)/OSPageSize))
			}
		}
		// The kernel's resume position (walk_end) can be stale when it
		// restarts a walk internally: a short result means the walk is
		// done, a full one continues after the last run.
		if int(n) < len(m.regions) {
			break
		}
		start = m.regions[n-1].end
	}
	return out, nil
}

// Bits of a /proc/self/pagemap entry.
const (
	pmPresent   = 1 << 63
	pmFile      = 1 << 61
	pmExclusive = 1 << 56
)

// readDirty lists private pages by reading one pagemap entry per page:
// slower than scanDirty because it visits every page of the range.
func (m *memfd) readDirty(mem []byte, out []uint32) ([]uint32, error) {
	const chunk = 8192 // entries per read
	if m.entries == nil {
		m.entries = make([]byte, chunk*8)
	}
	base := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(mem))))
	pages := uint64(len(mem)) / OSPageSize
	for first := uint64(0); first < pages; first += chunk {
		n := min(chunk, pages-first)
		buf := m.entries[:n*8]
		if _, err := m.pagemap.ReadAt(buf, int64((base/OSPageSize+first)*8)); err != nil {
			return out, fmt.Errorf("read pagemap: %w", err)
		}
		for i := uint64(0); i < n; i++ {
			e := uint64(buf[i*8]) | uint64(buf[i*8+1])<<8 | uint64(buf[i*8+2])<<16 | uint64(buf[i*8+3])<<24 |
				uint64(buf[i*8+4])<<32 | uint64(buf[i*8+5])<<40 | uint64(buf[i*8+6])<<48 | uint64(buf[i*8+7])<<56
			// Exclusive: the shared zero page an anonymous read maps is
			// present and not file-backed too.
			if e&pmPresent != 0 && e&pmFile == 0 && e&pmExclusive != 0 {
				out = append(out, uint32(first+i))
			}
		}
	}
	return out, nil
}

func (m *memfd) dirty(mem []byte, size uint64, out []uint32) ([]uint32, error) {
	if m.scan {
		return m.scanDirty(mem[:size], out)
	}
	return m.readDirty(mem[:size], out)
}

func (m *memfd) commit(mem []byte, size uint64, pages []uint32) error {
	if m.image >= 0 && len(pages) > 0 {
		// Copy the image first, then the dirty pages over it, then map
		// the memfd back: the private pages are committed by then.
		if err := m.copyData(); err != nil {
			return err
		}
		if err := m.writeRuns(mem, pages); err != nil {
			return err
		}
		if err := m.remap(mem); err != nil {
			return err
		}
		return m.drop(mem, size)
	}
	if err := m.writeRuns(mem, pages); err != nil {
		return err
	}
	return m.drop(mem, size)
}

// copyData copies the image's data extents into the memfd.
func (m *memfd) copyData() error {
	buf := make([]byte, 1<<20)
	for off := uint64(0); off < m.imageLen; {
		n, err := unix.Seek(m.image, int64(off), unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("copy heap image: %w", err)
		}
		off = uint64(n) &^ (OSPageSize - 1)
		if off >= m.imageLen {
			return nil
		}
		chunk := buf[:min(uint64(len(buf)), m.imageLen-off)]
		if err := preadAll(m.image, chunk, off); err != nil {
			return fmt.Errorf("copy heap image: %w", err)
		}
		// The patched pages are in the memfd already: keep them.
		if err := m.overPatches(chunk, off); err != nil {
			return fmt.Errorf("copy heap image: %w", err)
		}
		if !isZero(chunk) {
			if err := pwriteAll(m.fd, chunk, off); err != nil {
				return fmt.Errorf("copy heap image: %w", err)
			}
		}
		off += uint64(len(chunk))
	}
	return nil
}

// writeRuns writes the given dirty pages of mem into the memfd, one
// chunk at a time, and then makes each chunk map the memfd, dropping its
// private pages: a message that wrote a GiB is not held twice until the
// end of the commit.
func (m *memfd) writeRuns(mem []byte, pages []uint32) error {
	const perChunk = mapChunk / OSPageSize
	for i := 0; i < len(pages); {
		c := pages[i] / perChunk
		k := i
		for k < len(pages) && pages[k]/perChunk == c {
			k++
		}
		// One pwrite per run of consecutive pages.
		for j := i; j < k; {
			e := j + 1
			for e < k && pages[e] == pages[e-1]+1 {
				e++
			}
			off := uint64(pages[j]) * OSPageSize
			end := (uint64(pages[e-1]) + 1) * OSPageSize
			if err := pwriteAll(m.fd, mem[off:end], off); err != nil {
				return err
			}
			j = e
		}
		from := uint64(c) * mapChunk
		if err := m.mapMemfd(mem, from, min(mapChunk, uint64(len(mem))-from)); err != nil {
			return err
		}
		i = k
	}
	return nil
}

func (m *memfd) discard(mem []byte, size uint64, _ []uint32) error {
	return m.drop(mem, size)
}

// drop discards the private pages and the page table entries of
// mem[:size], so the next access reads the memfd and the next scan walks
// an empty range.
func (m *memfd) drop(mem []byte, size uint64) error {
	if size == 0 {
		return nil
	}
	if err := unix.Madvise(mem[:size], unix.MADV_DONTNEED); err != nil {
		return fmt.Errorf("madvise: %w", err)
	}
	return nil
}

func (m *memfd) readCommitted(p []byte, off uint64) error {
	if m.image >= 0 && off < m.imageLen {
		n := min(uint64(len(p)), m.imageLen-off)
		if err := preadAll(m.image, p[:n], off); err != nil {
			return fmt.Errorf("read heap image: %w", err)
		}
		if err := m.overPatches(p[:n], off); err != nil {
			return fmt.Errorf("read heap image: %w", err)
		}
		p, off = p[n:], off+n
	}
	return preadAll(m.fd, p, off)
}

// preadAll fills p from fd at off; past the end of the file it fails.
func preadAll(fd int, p []byte, off uint64) error {
	for len(p) > 0 {
		n, err := unix.Pread(fd, p, int64(off))
		if err != nil {
			return fmt.Errorf("pread memfd: %w", err)
		}
		if n == 0 {
			return errors.New("pread memfd: unexpected end of file")
		}
		p, off = p[n:], off+uint64(n)
	}
	return nil
}

func (m *memfd) writeCommitted(mem []byte, p []byte, off uint64) error {
	if m.image >= 0 && len(m.patches) < maxPatches {
		return m.patch(mem, p, off)
	}
	if err := m.migrate(mem); err != nil {
		return err
	}
	if err := pwriteAll(m.fd, p, off); err != nil {
		return err
	}
	// Map the memfd there (no private page is kept: the working memory
	// holds no uncommitted change).
	return m.mapMemfd(mem, off, uint64(len(p)))
}

func (m *memfd) zeroFrom(mem []byte, off uint64) error {
	if err := m.migrate(mem); err != nil {
		return err
	}
	length := int64(len(mem)) - int64(off)
	if length <= 0 {
		return nil
	}
	if err := unix.Fallocate(m.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(off), length); err != nil {
		return fmt.Errorf("punch memfd: %w", err)
	}
	return m.drop(mem[off:], uint64(length))
}

func (m *memfd) nextData(off, size uint64) (uint64, error) {
	if m.image >= 0 && off < m.imageLen {
		// Before the first commit the memfd holds nothing: the image's
		// data is all there is.
		n, err := unix.Seek(m.image, int64(off), unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			n = int64(m.imageLen)
		} else if err != nil {
			return 0, fmt.Errorf("seek heap image: %w", err)
		}
		next := uint64(n)
		if p, ok := m.nextPatch(off); ok {
			next = min(next, p)
		}
		if next >= m.imageLen {
			// Past the image's data: what follows is the memfd's.
			return m.nextData(m.imageLen, size)
		}
		return min(next, size), nil
	}
	n, err := unix.Seek(m.fd, int64(off), unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		return size, nil // only holes from off to the end of the file
	}
	if err != nil {
		return 0, fmt.Errorf("seek memfd: %w", err)
	}
	return min(uint64(n), size), nil
}

func (m *memfd) close(mem []byte) error {
	var errs []error
	if mem != nil {
		if err := unix.Munmap(mem); err != nil {
			errs = append(errs, fmt.Errorf("unmap heap: %w", err))
		}
	}
	if m.image >= 0 {
		unix.Close(m.image)
		m.image = -1
	}
	if m.fd >= 0 {
		if err := unix.Close(m.fd); err != nil {
			errs = append(errs, fmt.Errorf("close memfd: %w", err))
		}
		m.fd = -1
	}
	if m.pagemap != nil {
		if err := m.pagemap.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close pagemap: %w", err))
		}
		m.pagemap = nil
	}
	return errors.Join(errs...)
}

func pwriteAll(fd int, p []byte, off uint64) error {
	for len(p) > 0 {
		n, err := unix.Pwrite(fd, p, int64(off))
		if err != nil {
			return fmt.Errorf("pwrite memfd: %w", err)
		}
		p, off = p[n:], off+uint64(n)
	}
	return nil
}
