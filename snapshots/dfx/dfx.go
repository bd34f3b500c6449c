package dfx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"

	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
)

// File names inside a dfx snapshot directory.
const (
	MetadataFile = "metadata.json"
	ModuleFile   = "wasm_module.bin"
	HeapFile     = "wasm_memory.bin"
	StableFile   = "stable_memory.bin"
	ChunkDir     = "wasm_chunk_store"
)

// maxChunkBytes is the IC's wasm chunk size limit.
const maxChunkBytes = 1 << 20

// ImportOptions tune Import.
type ImportOptions struct {
	// Name of the snapshot; empty means the canister id, else the
	// directory's base name.
	Name string
	// CanisterID to record: dfx's directory does not carry it. Empty
	// keeps the canister id of an earlier snapshot of the same name.
	CanisterID string
	// Workers hashing and compressing pages; 0 means 2×GOMAXPROCS (page
	// writes wait on fsync, so more workers than cores pays).
	Workers int
	// Progress, when set, counts the bytes of memory data read against
	// their total (holes are skipped, and not counted).
	Progress *snapshots.Progress
	// HeapCopy, when set, is called once the heap's size is known, with
	// the heap table of the snapshot the import continues (nil for a new
	// name); a non-nil PageCopier it returns receives every non-zero heap
	// page, from the very bytes import hashed and stored.
	// workbench.HeapImage uses it so that the first open of an imported
	// snapshot maps its heap instead of streaming it. Its errors fail the
	// import: a copier whose failure is harmless (a cache) keeps them to
	// itself.
	HeapCopy func(size uint64, parentHeap *snapshots.PageTable) PageCopier
}

// PageCopier receives the heap pages an import stores
// (ImportOptions.HeapCopy), from several goroutines at once.
type PageCopier interface {
	// CopyPages receives the consecutive non-zero pages first,
	// first+1, …: data holds them back to back, hashes their hashes.
	CopyPages(first uint64, data []byte, hashes []snapshots.Hash) error
}

// Import reads the dfx snapshot directory dir into st and commits it as a
// new snapshot (made by import). Everything that can be checked is
// checked before the first write: metadata, sizes against the IC limits
// and against the files, chunk hashes. So bad input leaves the store as
// it was.
func Import(ctx context.Context, st snapshots.Store, dir string, opt ImportOptions) (snapshots.Snapshot, error) {
	fail := func(err error) (snapshots.Snapshot, error) {
		return snapshots.Snapshot{}, fmt.Errorf("import %s: %w", dir, err)
	}
	name := opt.Name
	if name == "" {
		name = opt.CanisterID
	}
	if name == "" {
		name = filepath.Base(filepath.Clean(dir))
	}
	if err := snapshots.ValidateName(name); err != nil {
		return fail(err)
	}
	// A new download of a canister already in the store follows the newest
	// snapshot of that name in the lineage and keeps its canister id.
	all, err := st.List()
	if err != nil {
		return fail(err)
	}
	var parent *snapshots.ID
	for _, s := range all {
		if s.Name == name {
			id := s.ID
			parent = &id
			if opt.CanisterID == "" {
				opt.CanisterID = s.CanisterID
			}
		}
	}
	if err := checkFinished(dir); err != nil {
		return fail(err)
	}
	raw, err := readLimited(filepath.Join(dir, MetadataFile), maxMetadataBytes)
	if err != nil {
		return fail(err)
	}
	md, err := ParseMetadata(raw)
	if err != nil {
		return fail(err)
	}
	// The heap cap depends on the module's mode (wasm32: 4 GiB, wasm64:
	// MaxWasm64HeapBytes); the module is read here only for a heap above
	// 4 GiB.
	if md.HeapSize > snapshots.MaxWasm64HeapBytes {
		return fail(fmt.Errorf("metadata.json: wasm_memory_size %d exceeds the IC's %d GiB wasm64 heap limit", md.HeapSize, snapshots.MaxWasm64HeapBytes>>30))
	}
	if md.HeapSize > snapshots.MaxHeapBytes {
		module, err := readLimited(filepath.Join(dir, ModuleFile), snapshots.MaxModuleBytes)
		if err != nil {
			return fail(err)
		}
		if !isMemory64(module) {
			return fail(fmt.Errorf("metadata.json: wasm_memory_size %d exceeds the IC's 4 GiB heap limit for a wasm32 module (a wasm64 module may have up to %d GiB)", md.HeapSize, snapshots.MaxWasm64HeapBytes>>30))
		}
	}
	if md.StableSize > snapshots.MaxStableBytes {
		return fail(fmt.Errorf("metadata.json: stable_memory_size %d exceeds the IC's 500 GiB stable memory limit", md.StableSize))
	}
	if md.ModuleSize > snapshots.MaxModuleBytes {
		return fail(fmt.Errorf("metadata.json: wasm_module_size %d exceeds the %d-byte module limit", md.ModuleSize, snapshots.MaxModuleBytes))
	}
	// The replica refuses memories that are not whole wasm pages when the
	// snapshot is uploaded (WasmMemoryNotPageAligned,
	// StableMemoryNotPageAligned in rs/replicated_state/src/canister_snapshots.rs;
	// engine/snapcheck applies the same rule to stored snapshots); refused
	// here, before anything is stored, not only when the snapshot runs.
	if md.HeapSize%snapshots.PageSize != 0 {
		return fail(fmt.Errorf("metadata.json: wasm_memory_size %d is not a multiple of the 64 KiB wasm page size; the IC refuses such a snapshot (WasmMemoryNotPageAligned)", md.HeapSize))
	}
	if md.StableSize%snapshots.PageSize != 0 {
		return fail(fmt.Errorf("metadata.json: stable_memory_size %d is not a multiple of the 64 KiB wasm page size; the IC refuses such a snapshot (StableMemoryNotPageAligned)", md.StableSize))
	}
	for _, c := range []struct {
		file     string
		size     uint64
		optional bool
	}{{ModuleFile, md.ModuleSize, false}, {HeapFile, md.HeapSize, md.HeapSize == 0}, {StableFile, md.StableSize, md.StableSize == 0}} {
		if err := checkSize(filepath.Join(dir, c.file), c.size, c.optional); err != nil {
			return fail(err)
		}
	}
	// Open (then close) the memory files now: one that cannot be read is
	// found before the first blob is written, not after the module and a
	// heap's worth of pages.
	for _, c := range []struct {
		file string
		size uint64
	}{{HeapFile, md.HeapSize}, {StableFile, md.StableSize}} {
		if c.size == 0 {
			continue
		}
		f, err := os.Open(filepath.Join(dir, c.file))
		if err != nil {
			return fail(err)
		}
		f.Close()
	}
	chunks, err := readChunks(dir, md.Chunks)
	if err != nil {
		return fail(err)
	}
	module, err := readLimited(filepath.Join(dir, ModuleFile), snapshots.MaxModuleBytes)
	if err != nil {
		return fail(err)
	}

	m := &snapshots.Manifest{
		Snapshot: snapshots.Snapshot{
			Name: name, MadeBy: snapshots.MadeByImport, CanisterID: opt.CanisterID, Parent: parent,
			TakenAt: md.TakenAt, CanisterVersion: md.CanisterVersion,
			Note: "imported from " + absPath(dir),
		},
		Globals: md.Globals, CertifiedData: md.CertifiedData, GlobalTimer: md.Timer,
		LowWasmMemoryHook: md.LowWasmHook, Chunks: md.Chunks, DfxMetadata: raw,
	}
	if m.Module, err = st.PutBlob(module); err != nil {
		return fail(err)
	}
	m.ModuleHash = m.Module
	for _, c := range chunks {
		if _, err := st.PutBlob(c); err != nil {
			return fail(err)
		}
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = 2 * runtime.GOMAXPROCS(0)
	}
	progress := opt.Progress
	if progress != nil {
		var total uint64
		for _, c := range []struct {
			file string
			size uint64
		}{{HeapFile, md.HeapSize}, {StableFile, md.StableSize}} {
			n, err := dataBytes(filepath.Join(dir, c.file), c.size)
			if err != nil {
				return fail(err)
			}
			total += n
		}
		progress.SetTotal(total)
	}
	var heapCopy PageCopier
	if opt.HeapCopy != nil && md.HeapSize > 0 {
		var base *snapshots.PageTable
		if parent != nil {
			if pm, err := st.Manifest(*parent); err == nil {
				base = &pm.Heap
			}
		}
		heapCopy = opt.HeapCopy(md.HeapSize, base)
	}
	if m.Heap, err = importMemory(ctx, st, filepath.Join(dir, HeapFile), md.HeapSize, workers, progress, heapCopy); err != nil {
		return fail(fmt.Errorf("heap: %w", err))
	}
	if m.Stable, err = importMemory(ctx, st, filepath.Join(dir, StableFile), md.StableSize, workers, progress, nil); err != nil {
		return fail(fmt.Errorf("stable memory: %w", err))
	}
	// A file that changed while it was read would import a torn state.
	for _, c := range []struct {
		file string
		size uint64
	}{{HeapFile, md.HeapSize}, {StableFile, md.StableSize}} {
		if err := checkSize(filepath.Join(dir, c.file), c.size, c.size == 0); err != nil {
			return fail(fmt.Errorf("%w (it changed during the import)", err))
		}
	}
	snap, err := st.Commit(ctx, m)
	if err != nil {
		return fail(err)
	}
	return snap, nil
}

// Files icp-cli keeps in a download directory
// (crates/icp-cli/src/operations/snapshot_transfer.rs, SnapshotPaths).
// icp-cli pre-sizes every blob file (set_len) and fills it in, so a
// download it has not finished has files of the right sizes: only its
// progress file tells. It deletes the progress file when the download
// completes; the .lock file stays, locked (flock) only while icp-cli runs.
const (
	icpDownloadProgress = ".download_progress.json"
	icpLock             = ".lock"
)

// checkFinished refuses a directory icp-cli is still downloading into, or
// left unfinished, naming the file and how to finish it.
func checkFinished(dir string) error {
	resume := "icp canister snapshot download <canister> <snapshot-id> -o " + ShellQuote(dir) + " --resume"
	for _, name := range []string{icpDownloadProgress, icpDownloadProgress + ".tmp"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return fmt.Errorf("%s: the icp-cli download into this directory did not finish; complete it with `%s`", name, resume)
		}
	}
	if held, err := lockHeld(filepath.Join(dir, icpLock)); err != nil {
		return err
	} else if held {
		return fmt.Errorf("%s is locked: icp-cli is still downloading into this directory; wait for it to finish (or, if it was killed, run `%s`)", icpLock, resume)
	}
	return nil
}

// absPath returns dir made absolute when possible, for the snapshot's note.
func absPath(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

func checkSize(path string, want uint64, optional bool) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if optional {
			return nil
		}
		return fmt.Errorf("%s is missing (metadata.json says %d bytes)", filepath.Base(path), want)
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", filepath.Base(path))
	}
	if uint64(fi.Size()) != want {
		return fmt.Errorf("%s is %d bytes but metadata.json says %d: truncated or from another snapshot", filepath.Base(path), fi.Size(), want)
	}
	return nil
}

// readChunks reads the chunk store entries metadata lists and checks each
// file's SHA-256 against its name. Files the metadata does not list are
// refused: the directory would not round-trip.
func readChunks(dir string, hashes []snapshots.Hash) ([][]byte, error) {
	listed := map[string]bool{}
	out := make([][]byte, 0, len(hashes))
	for _, h := range hashes {
		name := h.String() + ".bin"
		if listed[name] {
			// The replica's chunk store holds each hash once; a list naming
			// one twice would export the file twice.
			return nil, fmt.Errorf("chunk store: %s is listed twice in metadata.json", name)
		}
		listed[name] = true
		b, err := readLimited(filepath.Join(dir, ChunkDir, name), maxChunkBytes)
		if err != nil {
			return nil, fmt.Errorf("chunk store: %w", err)
		}
		if got := sha256.Sum256(b); got != h {
			return nil, fmt.Errorf("chunk store: %s hashes to %x, not its name: the file is damaged", name, got)
		}
		out = append(out, b)
	}
	entries, err := os.ReadDir(filepath.Join(dir, ChunkDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("chunk store: %w", err)
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			return nil, fmt.Errorf("chunk store: %s is not listed in metadata.json", e.Name())
		}
	}
	return out, nil
}

// readLimited reads a whole file that must not exceed limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	// A FIFO or device would block the open or the read forever: refuse
	// what is not a regular file before opening it.
	if fi, err := os.Stat(path); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", filepath.Base(path), fi.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", filepath.Base(path), limit)
	}
	return b, nil
}

// MetadataFor returns the metadata.json to export for m, whose module is
// moduleSize bytes. For an import whose state is unchanged it is the
// original file, byte for byte. For a snapshot derived from an import it
// is the original document (key order, spelling, unknown keys, source)
// with the changed fields rewritten; for one canscope made from scratch,
// dfx's format in dfx's key order with source metadata_upload.
func MetadataFor(m *snapshots.Manifest, moduleSize uint64) ([]byte, error) {
	md := &Metadata{unknown: map[string]json.RawMessage{}}
	if len(m.DfxMetadata) > 0 {
		orig, err := ParseMetadata(m.DfxMetadata)
		if err != nil {
			return nil, fmt.Errorf("stored metadata.json of %s: %w", m.Ref(), err)
		}
		md = orig
	}
	want := *md
	want.TakenAt = m.TakenAt
	want.ModuleSize = moduleSize
	want.Globals = m.Globals
	want.HeapSize = m.Heap.Size
	want.StableSize = m.Stable.Size
	want.Chunks = m.Chunks
	want.CanisterVersion = m.CanisterVersion
	want.CertifiedData = m.CertifiedData
	want.Timer = m.GlobalTimer
	want.LowWasmHook = m.LowWasmMemoryHook
	if len(m.DfxMetadata) > 0 && sameState(md, &want) {
		return m.DfxMetadata, nil
	}
	return want.Encode()
}

// sameState compares the fields export writes, treating nil and empty
// lists alike.
func sameState(a, b *Metadata) bool {
	norm := func(m *Metadata) Metadata {
		c := *m
		if len(c.Globals) == 0 {
			c.Globals = nil
		}
		if len(c.Chunks) == 0 {
			c.Chunks = nil
		}
		if len(c.CertifiedData) == 0 {
			c.CertifiedData = nil
		}
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// Export writes snapshot m as a dfx snapshot directory at dir, which must
// not exist or be empty. The files are what `dfx canister snapshot
// upload --dir DIR` reads; memories are written sparse.
//
// Nothing appears at dir until the export is complete: the files are
// written into a temp sibling (.DIR.partial-*) renamed to dir at the end
// (rename replaces an empty directory atomically). A failed or cancelled
// export removes the sibling; a killed one leaves it, named partial,
// never a directory that looks finished.
func Export(ctx context.Context, st snapshots.Store, m *snapshots.Manifest, dir string) error {
	return ExportProgress(ctx, st, m, dir, nil)
}

// ExportProgress is Export counting the stored page bytes written in p
// (nil counts nothing) against their total.
func ExportProgress(ctx context.Context, st snapshots.Store, m *snapshots.Manifest, dir string, p *snapshots.Progress) (err error) {
	fail := func(err error) error { return fmt.Errorf("export %s to %s: %w", m.Ref(), dir, err) }
	if dir == "" {
		return fmt.Errorf("export %s: no directory given; name a new or empty directory", m.Ref())
	}
	entries, rerr := os.ReadDir(dir)
	switch {
	case errors.Is(rerr, fs.ErrNotExist):
	case rerr != nil:
		return fail(rerr)
	case len(entries) > 0:
		return fail(errors.New("the directory is not empty; export into a new or empty directory"))
	}
	if m.Module.IsZero() {
		// upload_canister_snapshot_metadata refuses wasm_module_size 0
		// (rs/replicated_state/src/canister_snapshots.rs, WasmModuleEmpty).
		return fail(errors.New("the snapshot has no module, and the IC refuses a snapshot with an empty module"))
	}
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fail(err)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".partial-")
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it 0700
		return fail(err)
	}
	if err := writeExport(ctx, st, m, tmp, p); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fail(fmt.Errorf("move the finished export into place: %w", err))
	}
	return nil
}

// writeExport writes the files of m into the empty directory dir.
func writeExport(ctx context.Context, st snapshots.Store, m *snapshots.Manifest, dir string, p *snapshots.Progress) error {
	// dfx and icp-cli create wasm_chunk_store/ for a snapshot with chunks;
	// an empty one is left out.
	if len(m.Chunks) > 0 {
		if err := os.Mkdir(filepath.Join(dir, ChunkDir), 0o755); err != nil {
			return err
		}
	}
	p.SetTotal(uint64(len(m.Heap.Pages)+len(m.Stable.Pages)) * snapshots.PageSize)
	module, err := st.ReadBlob(m.Module)
	if err != nil {
		return fmt.Errorf("module: %w", err)
	}
	meta, err := MetadataFor(m, uint64(len(module)))
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, MetadataFile), meta); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, ModuleFile), module); err != nil {
		return err
	}
	for i, h := range m.Chunks {
		c, err := st.ReadBlob(h)
		if err != nil {
			return fmt.Errorf("chunk %d: %w", i, err)
		}
		if err := writeFile(filepath.Join(dir, ChunkDir, h.String()+".bin"), c); err != nil {
			return err
		}
	}
	workers := 2 * runtime.GOMAXPROCS(0)
	if err := exportMemory(ctx, st, m.Heap, filepath.Join(dir, HeapFile), workers, p); err != nil {
		return fmt.Errorf("heap: %w", err)
	}
	if m.Stable.Size > 0 { // dfx omits an empty stable memory
		if err := exportMemory(ctx, st, m.Stable, filepath.Join(dir, StableFile), workers, p); err != nil {
			return fmt.Errorf("stable memory: %w", err)
		}
	}
	return nil
}

func writeFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// isMemory64 reports whether module (raw or gzipped) declares a 64-bit
// memory: the replica runs it in wasm64 mode. A module that does not parse
// counts as wasm32, the stricter heap limit.
func isMemory64(module []byte) bool {
	raw, err := wasm.Decompress(module)
	if err != nil {
		return false
	}
	m, err := wasm.Parse(raw)
	return err == nil && m.IsMemory64()
}
