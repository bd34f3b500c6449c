package fsstore

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/canscope/canscope/snapshots"
	"golang.org/x/sys/unix"
)

// Pack files (FORMAT.md, "Pack files"): memory pages are stored many to a
// file instead of one file each. A file per 64 KiB page cost more than
// the page's data (create ≈ 35 µs, rename ≈ 18 µs, stat, open and close
// on every read, a directory entry each): importing a 5.6 GB snapshot
// created 85,000 files and spent a third of its CPU in those calls. A
// pack holds the same zstd frames a loose blob file holds, back to back,
// followed by an index of (hash, offset, length) and a trailer; it is
// named by the SHA-256 of its index, written under a temp name and
// renamed only once durable, and never changed afterwards (prune writes
// a new pack and removes the old one). Loose blob files remain: modules
// and chunks are stored loose, and stores written before packs existed
// are read as they are.

const (
	packsDir    = "packs"
	packSuffix  = ".pack"
	packMagic   = "CSPACK1\n"
	packEndMark = "CSPKEND1"
	// packTrailerBytes: u64 index offset, u64 entry count, end mark.
	packTrailerBytes = 8 + 8 + len(packEndMark)
	// packEntryBytes: 32-byte hash, u64 offset, u32 length.
	packEntryBytes = 32 + 8 + 4
	// packTarget is the size at which a pack is closed and a new one
	// begun: large enough that per-file costs vanish (85 files for the
	// 5.6 GB seed), small enough that prune rewrites little.
	packTarget = 64 << 20
	// packBuffer is how much a pack writer gathers before one write.
	packBuffer = 4 << 20
)

// packEntry locates one blob's zstd frame inside a pack.
type packEntry struct {
	hash snapshots.Hash
	off  int64
	n    uint32
}

// pack is one committed pack file: its name (hex SHA-256 of the index),
// its entries and a read descriptor opened on first use.
type pack struct {
	name    string
	path    string
	size    int64
	entries []packEntry

	mu sync.Mutex
	f  *os.File
}

// file returns the pack's read descriptor, opening it on first use.
func (p *pack) file() (*os.File, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		f, err := os.Open(p.path)
		if err != nil {
			return nil, err
		}
		p.f = f
	}
	return p.f, nil
}

func (p *pack) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f != nil {
		p.f.Close()
		p.f = nil
	}
}

// readFrame reads entry e's frame into dst (reusing its capacity).
func (p *pack) readFrame(e packEntry, dst []byte) ([]byte, error) {
	f, err := p.file()
	if err != nil {
		return nil, err
	}
	if cap(dst) < int(e.n) {
		dst = make([]byte, e.n)
	}
	dst = dst[:e.n]
	if _, err := f.ReadAt(dst, e.off); err != nil {
		return nil, fmt.Errorf("pack %s at %d: %w", p.name[:12], e.off, err)
	}
	return dst, nil
}

// unreferencedBytes is what prune frees in p: the whole file when no
// entry is used, else each unused entry's frame and index entry.
func (p *pack) unreferencedBytes(used map[snapshots.Hash]bool) int64 {
	var dead int64
	live := false
	for _, e := range p.entries {
		if used[e.hash] {
			live = true
		} else {
			dead += int64(e.n) + packEntryBytes
		}
	}
	if !live {
		return p.size
	}
	return dead
}

// encodeIndex returns the index section and trailer of a pack whose
// index begins at off, and the pack's name (the SHA-256 of the index).
func encodeIndex(entries []packEntry, off int64) (tail []byte, name string) {
	tail = make([]byte, 0, len(entries)*packEntryBytes+packTrailerBytes)
	for _, e := range entries {
		tail = append(tail, e.hash[:]...)
		tail = binary.LittleEndian.AppendUint64(tail, uint64(e.off))
		tail = binary.LittleEndian.AppendUint32(tail, e.n)
	}
	sum := snapshots.HashOf(tail)
	tail = binary.LittleEndian.AppendUint64(tail, uint64(off))
	tail = binary.LittleEndian.AppendUint64(tail, uint64(len(entries)))
	tail = append(tail, packEndMark...)
	return tail, hex.EncodeToString(sum[:])
}

// readPack opens the pack at path and decodes its index, checking the
// index against the pack's name and every entry against the file's
// bounds. It does not read the frames (fsck does).
func readPack(path string) (*pack, error) {
	name := strings.TrimSuffix(filepath.Base(path), packSuffix)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	bad := func(why string, a ...any) (*pack, error) {
		return nil, fmt.Errorf("pack %s: %s", name, fmt.Sprintf(why, a...))
	}
	if size < int64(len(packMagic)+packTrailerBytes) {
		return bad("%d bytes is too short for a pack", size)
	}
	var head [len(packMagic)]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return nil, err
	}
	var tr [packTrailerBytes]byte
	if _, err := f.ReadAt(tr[:], size-int64(packTrailerBytes)); err != nil {
		return nil, err
	}
	if string(head[:]) != packMagic || string(tr[16:]) != packEndMark {
		return bad("bad magic (not a pack, or truncated)")
	}
	off := int64(binary.LittleEndian.Uint64(tr[:8]))
	count := binary.LittleEndian.Uint64(tr[8:16])
	end := size - int64(packTrailerBytes)
	if off < int64(len(packMagic)) || off > end || uint64(end-off) != count*packEntryBytes {
		return bad("index of %d entries at %d does not fit the file's %d bytes", count, off, size)
	}
	idx := make([]byte, end-off)
	if _, err := f.ReadAt(idx, off); err != nil {
		return nil, err
	}
	if sum := snapshots.HashOf(idx); hex.EncodeToString(sum[:]) != name {
		return bad("index hashes to %s, not the pack's name", sum.Short())
	}
	p := &pack{name: name, path: path, size: size, entries: make([]packEntry, count)}
	for i := range p.entries {
		b := idx[i*packEntryBytes:]
		e := &p.entries[i]
		copy(e.hash[:], b[:32])
		e.off = int64(binary.LittleEndian.Uint64(b[32:40]))
		e.n = binary.LittleEndian.Uint32(b[40:44])
		if e.off < int64(len(packMagic)) || e.off+int64(e.n) > off {
			return bad("entry %d (%d bytes at %d) lies outside the frames", i, e.n, e.off)
		}
	}
	return p, nil
}

// packRef is where the index finds a blob: pack number and entry number.
type packRef struct{ pack, entry int32 }

// packIndex is the store's view of its committed packs, loaded on first
// use and rescanned when a blob is not found (another process may have
// committed or repacked since).
type packIndex struct {
	mu     sync.RWMutex
	loaded bool
	packs  []*pack // nil where a pack was removed
	byName map[string]int
	locs   map[snapshots.Hash]packRef
	// broken lists packs whose index cannot be read: fsck reports them.
	broken map[string]error
}

// lookup returns the pack and entry holding h.
func (ix *packIndex) lookup(h snapshots.Hash) (*pack, packEntry, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	r, ok := ix.locs[h]
	if !ok {
		return nil, packEntry{}, false
	}
	p := ix.packs[r.pack]
	return p, p.entries[r.entry], true
}

// add registers a committed pack.
func (ix *packIndex) add(p *pack) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.addLocked(p)
}

func (ix *packIndex) addLocked(p *pack) {
	if ix.byName == nil {
		ix.byName, ix.locs = map[string]int{}, map[snapshots.Hash]packRef{}
	}
	if _, dup := ix.byName[p.name]; dup {
		return
	}
	n := len(ix.packs)
	ix.packs = append(ix.packs, p)
	ix.byName[p.name] = n
	for i, e := range p.entries {
		if _, ok := ix.locs[e.hash]; !ok {
			ix.locs[e.hash] = packRef{int32(n), int32(i)}
		}
	}
}

// ensure loads the index on first use.
func (ix *packIndex) ensure(dir string) error {
	ix.mu.RLock()
	loaded := ix.loaded
	ix.mu.RUnlock()
	if loaded {
		return nil
	}
	return ix.scan(dir)
}

// invalidate makes the next ensure rescan the packs directory.
func (ix *packIndex) invalidate() {
	ix.mu.Lock()
	ix.loaded = false
	ix.mu.Unlock()
}

// scan reads the packs directory: packs not yet known are loaded, packs
// gone (pruned) are dropped.
func (ix *packIndex) scan(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		entries, err = nil, nil // a store written before packs existed
	}
	if err != nil {
		return fmt.Errorf("list packs: %w", err)
	}
	present := map[string]bool{}
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), packSuffix); ok && !strings.HasPrefix(n, tempPrefix) {
			present[n] = true
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	gone := false
	for name, i := range ix.byName {
		if !present[name] {
			// Not closed: a reader may be inside it (its descriptor
			// still reads the removed file); the finalizer closes it.
			gone = true
			ix.packs[i] = nil
		}
	}
	if gone { // rebuild the map without the removed packs
		old := ix.packs
		ix.packs, ix.byName, ix.locs = nil, nil, nil
		for _, p := range old {
			if p != nil {
				ix.addLocked(p)
			}
		}
	}
	for name := range present {
		if _, ok := ix.byName[name]; ok {
			continue
		}
		p, err := readPack(filepath.Join(dir, name+packSuffix))
		if errors.Is(err, fs.ErrNotExist) {
			continue // pruned since the listing
		}
		if err != nil {
			if ix.broken == nil {
				ix.broken = map[string]error{}
			}
			ix.broken[name] = err
			continue
		}
		ix.addLocked(p)
	}
	ix.loaded = true
	return nil
}

// all returns the committed packs.
func (ix *packIndex) all() []*pack {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []*pack
	for _, p := range ix.packs {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// closeAll closes every pack's descriptor.
func (ix *packIndex) closeAll() {
	for _, p := range ix.all() {
		p.close()
	}
}

// packWriter is a pack being written: a temp file in the packs
// directory, frames appended through a buffer, entries recorded.
type packWriter struct {
	mu      sync.Mutex // held by appends, reads back and finish
	f       *os.File
	size    int64  // bytes in the file (written) plus in buf
	flushed int64  // bytes written to the file
	buf     []byte // appended, not yet written
	entries []packEntry
	name    string // set by finish
	done    bool   // index and trailer written
	// committed is the pack once renamed to its name.
	committed *pack
}

func newPackWriter(dir string) (*packWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*"+packSuffix)
	if err != nil {
		return nil, err
	}
	w := &packWriter{f: f, buf: make([]byte, 0, packBuffer+snapshots.PageSize+1024)}
	w.buf = append(w.buf, packMagic...)
	w.size = int64(len(w.buf))
	return w, nil
}

// append adds frame (the compressed blob h: its parts back to back) and
// returns its entry.
func (w *packWriter) append(h snapshots.Hash, frame ...[]byte) (packEntry, error) {
	e := packEntry{hash: h, off: w.size}
	for _, part := range frame {
		w.buf = append(w.buf, part...)
		e.n += uint32(len(part))
	}
	w.size += int64(e.n)
	w.entries = append(w.entries, e)
	if len(w.buf) >= packBuffer {
		if err := w.writeBuf(); err != nil {
			return e, err
		}
	}
	return e, nil
}

func (w *packWriter) writeBuf() error {
	if len(w.buf) == 0 {
		return nil
	}
	if err := snapshots.WriteAtChunked(w.f, w.buf, w.flushed); err != nil {
		return err
	}
	startWriteback(w.f, w.flushed, int64(len(w.buf)))
	w.flushed += int64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}

// startWriteback asks the kernel to start writing the n bytes at off of
// f to the disk now (sync_file_range SYNC_FILE_RANGE_WRITE: no wait for
// the data, no metadata, no durability promise). Without it the kernel
// starts only once gigabytes are dirty, and the commit's fsyncs then wait
// for most of an import's data; with it the disk writes while the import
// still hashes, and the fsync finds little left. The fsync before the
// rename is still what makes a pack durable.
func startWriteback(f *os.File, off, n int64) {
	if c, err := f.SyscallConn(); err == nil {
		c.Control(func(fd uintptr) {
			unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
		})
	}
}

// readFrame reads entry e back before the pack is committed.
func (w *packWriter) readFrame(e packEntry, dst []byte) ([]byte, error) {
	if cap(dst) < int(e.n) {
		dst = make([]byte, e.n)
	}
	dst = dst[:e.n]
	if e.off >= w.flushed {
		copy(dst, w.buf[e.off-w.flushed:])
		return dst, nil
	}
	if e.off+int64(e.n) > w.flushed {
		if err := w.writeBuf(); err != nil {
			return nil, err
		}
	}
	_, err := w.f.ReadAt(dst, e.off)
	return dst, err
}

// finish writes the index and trailer (no fsync: the flush fsyncs the
// batch) and names the pack.
func (w *packWriter) finish() error {
	if w.done {
		return nil
	}
	tail, name := encodeIndex(w.entries, w.size)
	w.buf = append(w.buf, tail...)
	w.size += int64(len(tail))
	if err := w.writeBuf(); err != nil {
		return err
	}
	w.name, w.done = name, true
	return nil
}

// abandon closes and removes the temp file.
func (w *packWriter) abandon() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// commit renames the finished, synced pack to its name and returns it as
// a committed pack that reads through the writer's descriptor. A writer
// committed before returns the same pack.
func (w *packWriter) commit(dir string) (*pack, error) {
	if w.committed != nil {
		return w.committed, nil
	}
	path := filepath.Join(dir, w.name+packSuffix)
	if err := os.Rename(w.f.Name(), path); err != nil {
		return nil, err
	}
	w.committed = &pack{name: w.name, path: path, size: w.size, entries: w.entries, f: w.f}
	return w.committed, nil
}

// writePack writes a complete pack of the given frames (hash → frame, in
// order) durably: temp file, fsync, rename to its name. The caller fsyncs
// the directory. prune's repack uses it; entries come back located.
func writePack(dir string, hashes []snapshots.Hash, frames [][]byte) (*pack, error) {
	w, err := newPackWriter(dir)
	if err != nil {
		return nil, err
	}
	for i, h := range hashes {
		if _, err := w.append(h, frames[i]); err != nil {
			w.abandon()
			return nil, err
		}
	}
	if err := w.finish(); err == nil {
		err = w.f.Sync()
	}
	if err != nil {
		w.abandon()
		return nil, err
	}
	p, err := w.commit(dir)
	if err != nil {
		w.abandon()
		return nil, err
	}
	return p, nil
}
