package dfx

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/canscope/canscope/snapshots"
	"golang.org/x/sys/unix"
)

// readRun is how many pages a worker reads with one pread: large reads
// keep the disk streaming (64 KiB preads from several workers defeated
// read-ahead), and a run is small enough that every worker has one.
const readRun = 16

// pageRun is a run of pages [First, First+N) that may hold data.
type pageRun struct{ First, N uint64 }

// walkData calls visit with the page ranges [first, last) of the file
// (size bytes) that may hold data, in order and without overlap: with
// SEEK_DATA/SEEK_HOLE the holes of a sparse file are skipped without
// reading them (a mostly-zero 40 GiB stable memory costs a few syscalls).
// On file systems without hole support the whole file is data.
func walkData(f *os.File, size uint64, visit func(first, last uint64) error) error {
	fd := int(f.Fd())
	emitted := uint64(0) // next page index not yet visited
	pages := (size + snapshots.PageSize - 1) / snapshots.PageSize
	send := func(from, to uint64) error {
		first := max(from/snapshots.PageSize, emitted)
		last := min((to+snapshots.PageSize-1)/snapshots.PageSize, pages)
		if first >= last {
			return nil
		}
		emitted = last
		return visit(first, last)
	}
	off := uint64(0)
	for off < size {
		data, err := unix.Seek(fd, int64(off), unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			return nil // only a hole remains
		}
		if err != nil {
			return send(off, size) // no hole support: read everything
		}
		hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
		if err != nil {
			return send(uint64(data), size)
		}
		if err := send(uint64(data), uint64(hole)); err != nil {
			return err
		}
		off = uint64(hole)
	}
	return nil
}

// dataBytes is how many bytes of the memory file at path import reads:
// the progress total, so the rate and ETA are those of the data, not of
// holes skipped in an instant.
func dataBytes(path string, size uint64) (uint64, error) {
	if size == 0 {
		return 0, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n uint64
	err = walkData(f, size, func(first, last uint64) error {
		n += min(last*snapshots.PageSize, size) - first*snapshots.PageSize
		return nil
	})
	return n, err
}

// pageStream feeds the runs of pages that may hold data (walkData), at
// most readRun pages each.
func pageStream(ctx context.Context, f *os.File, size uint64, out chan<- pageRun) error {
	defer close(out)
	return walkData(f, size, func(first, last uint64) error {
		for i := first; i < last; i += readRun {
			select {
			case out <- pageRun{First: i, N: min(readRun, last-i)}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
}

// importMemory streams the file at path (exactly size bytes) into the
// store with workers goroutines, and returns its page table. Each worker
// reads a run of pages with one pread and stores its pages; memory use
// is one run buffer per worker, whatever the size. progress counts the
// data bytes read (see dataBytes). copyTo, when set, receives every
// non-zero page at its offset (ImportOptions.HeapCopy).
func importMemory(ctx context.Context, st snapshots.Store, path string, size uint64, workers int, progress *snapshots.Progress, copyTo PageCopier) (snapshots.PageTable, error) {
	t := snapshots.PageTable{Size: size}
	if size == 0 {
		return t, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return t, err
	}
	defer f.Close()
	// The file is read once, front to back: let the kernel read ahead.
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_SEQUENTIAL)
	rd := newMemReader(f)
	defer rd.close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runs := make(chan pageRun, 2*workers)
	var streamErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		streamErr = pageStream(ctx, f, size, runs)
	}()
	var mu sync.Mutex
	var firstErr error
	results := make([][]snapshots.Page, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := alignedBuffer(readRun * snapshots.PageSize)
			for r := range runs {
				if err := importRun(st, rd, size, r, buf, &results[w], progress, copyTo); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					for range runs { // drain so the streamer can finish
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return t, firstErr
	}
	if streamErr != nil {
		return t, streamErr
	}
	for _, r := range results {
		t.Pages = append(t.Pages, r...)
	}
	slices.SortFunc(t.Pages, func(a, b snapshots.Page) int {
		switch {
		case a.Index < b.Index:
			return -1
		case a.Index > b.Index:
			return 1
		}
		return 0
	})
	return t, nil
}

// memReader reads a memory file for import. What the page cache holds
// (a download just written or read) is read through it. What it does not
// hold is read with O_DIRECT into the worker's buffer: read through the
// page cache, every byte of a cold 5.6 GB download went into new
// page-cache pages and was copied out again, and that copy was half the
// CPU of a cold import (perf: _copy_to_iter under pread, 48%), on pages
// the import reads once. cachestat(2) tells the two apart without side
// effects (a buffered RWF_NOWAIT read would start readahead of what it
// refuses). A direct read sees what a buffered one would: the kernel
// writes dirty cached pages of the range back first.
type memReader struct {
	f      *os.File
	direct *os.File // the file opened O_DIRECT; nil when refused
	// buffered is set once a direct read or cachestat failed: read
	// through the page cache from then on.
	buffered atomic.Bool
}

func newMemReader(f *os.File) *memReader {
	r := &memReader{f: f}
	if d, err := os.OpenFile(f.Name(), os.O_RDONLY|unix.O_DIRECT, 0); err == nil {
		r.direct = d
	}
	return r
}

func (r *memReader) close() {
	if r.direct != nil {
		r.direct.Close()
	}
}

// readAt fills buf (from alignedBuffer, a multiple of 4 KiB long for a
// direct read) with the file's bytes at off.
func (r *memReader) readAt(buf []byte, off int64) error {
	if r.direct != nil && !r.buffered.Load() && !r.cached(off, len(buf)) {
		_, err := r.direct.ReadAt(buf, off)
		if !errors.Is(err, unix.EINVAL) {
			return err
		}
		r.buffered.Store(true) // the file system refuses this direct read
	}
	_, err := r.f.ReadAt(buf, off)
	return err
}

// cached reports whether the page cache holds every page of the n bytes
// at off (true when it cannot tell: read as before).
func (r *memReader) cached(off int64, n int) bool {
	var cs unix.Cachestat_t
	rg := unix.CachestatRange{Off: uint64(off), Len: uint64(n)}
	sc, err := r.f.SyscallConn()
	if err == nil {
		cerr := sc.Control(func(fd uintptr) { err = unix.Cachestat(uint(fd), &rg, &cs, 0) })
		err = cmp.Or(cerr, err)
	}
	if err != nil {
		r.buffered.Store(true) // no cachestat (Linux < 6.5)
		return true
	}
	return cs.Cache*uint64(os.Getpagesize()) >= uint64(n)
}

// directAlign is the buffer alignment O_DIRECT needs (the logical block
// size of any disk: 4 KiB at most).
const directAlign = 4096

// alignedBuffer returns n bytes whose address is a multiple of
// directAlign.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+directAlign)
	skip := (directAlign - int(uintptr(unsafe.Pointer(&b[0]))%directAlign)) % directAlign
	return b[skip : skip+n : skip+n]
}

// importRun reads run r of the memory file with one pread and stores its
// pages, appending the non-zero ones to pages; copyTo (if set) gets each
// run of consecutive non-zero pages in one call.
func importRun(st snapshots.Store, rd *memReader, size uint64, r pageRun, buf []byte, pages *[]snapshots.Page, progress *snapshots.Progress, copyTo PageCopier) error {
	off := r.First * snapshots.PageSize
	n := min(r.N*snapshots.PageSize, size-off)
	if err := rd.readAt(buf[:n], int64(off)); err != nil {
		return fmt.Errorf("read %s at %d: %w", rd.f.Name(), off, err)
	}
	from := len(*pages) // the run of non-zero pages not yet copied
	copyRun := func() error {
		run := (*pages)[from:]
		if copyTo == nil || len(run) == 0 {
			return nil
		}
		from = len(*pages)
		lo := (run[0].Index - r.First) * snapshots.PageSize
		hashes := make([]snapshots.Hash, len(run))
		for i, p := range run {
			hashes[i] = p.Hash
		}
		if err := copyTo.CopyPages(run[0].Index, buf[lo:lo+uint64(len(run))*snapshots.PageSize], hashes); err != nil {
			return fmt.Errorf("copy pages at %d: %w", run[0].Index, err)
		}
		return nil
	}
	for i := range r.N {
		lo := i * snapshots.PageSize
		page := buf[lo:min(lo+snapshots.PageSize, n)]
		h, err := st.PutPage(page)
		if err != nil {
			return fmt.Errorf("page %d: %w", r.First+i, err)
		}
		progress.Add(uint64(len(page)))
		if h.IsZero() {
			if err := copyRun(); err != nil {
				return err
			}
			continue
		}
		*pages = append(*pages, snapshots.Page{Index: r.First + i, Hash: h})
	}
	return copyRun()
}

// exportMemory writes the memory t describes to a new file at path:
// the file is sized first and only stored pages are written, so zero
// pages stay holes (a sparse file with identical content). workers
// goroutines read and verify pages in parallel; one goroutine writes them,
// because concurrent writes to one file serialize in the kernel anyway and
// cost more than they overlap. Export does not fsync: the files are a copy
// for dfx to upload right away, the store holds the original, and
// flushing gigabytes would make export disk-bound.
func exportMemory(ctx context.Context, st snapshots.Store, t snapshots.PageTable, path string, workers int, progress *snapshots.Progress) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(int64(t.Size)); err != nil {
		return fmt.Errorf("size %s: %w", path, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var once sync.Once
	var firstErr error
	fail := func(e error) {
		once.Do(func() { firstErr = e })
		cancel()
	}
	// Each worker reads (decompresses, verifies) a run of up to
	// WriteChunk/PageSize consecutive pages into its own buffer and
	// writes it in place with one pwrite (safe from several goroutines;
	// 64 KiB writes cost the kernel almost twice what 256 KiB ones do).
	// Memory stays at one run per worker.
	pages := make(chan []snapshots.Page)
	var workersDone sync.WaitGroup
	for range workers {
		workersDone.Add(1)
		go func() {
			defer workersDone.Done()
			buf := make([]byte, snapshots.WriteChunk)
			for run := range pages {
				if ctx.Err() != nil {
					continue // drain after a failure
				}
				for i, p := range run {
					if err := st.ReadPage(p.Hash, buf[i*snapshots.PageSize:(i+1)*snapshots.PageSize]); err != nil {
						fail(fmt.Errorf("page %d: %w", p.Index, err))
						break
					}
				}
				if ctx.Err() != nil {
					continue
				}
				off := run[0].Index * snapshots.PageSize
				n := min(uint64(len(run))*snapshots.PageSize, t.Size-off)
				if _, err := f.WriteAt(buf[:n], int64(off)); err != nil {
					fail(fmt.Errorf("page %d: %w", run[0].Index, err))
				}
				progress.Add(uint64(len(run)) * snapshots.PageSize)
			}
		}()
	}
	const perRun = snapshots.WriteChunk / snapshots.PageSize
feed:
	for i := 0; i < len(t.Pages); {
		j := i + 1
		for j < len(t.Pages) && j-i < perRun && t.Pages[j].Index == t.Pages[j-1].Index+1 {
			j++
		}
		select {
		case pages <- t.Pages[i:j]:
		case <-ctx.Done():
			break feed
		}
		i = j
	}
	close(pages)
	workersDone.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.Close()
}
