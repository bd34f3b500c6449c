package snapshots

import (
	"context"
	"errors"
)

// IC limits that bound every memory canscope accepts. Sizes past them are
// refused before anything is allocated or written: a corrupt or hostile
// metadata.json must not make canscope reserve terabytes.
const (
	// MaxHeapBytes is the wasm32 heap limit (65536 wasm pages),
	// ic_types::MAX_WASM_MEMORY_IN_BYTES.
	MaxHeapBytes = 4 << 30
	// MaxWasm64HeapBytes is the wasm64 heap limit,
	// ic_types::MAX_WASM64_MEMORY_IN_BYTES: 18 GiB in dfinity/ic today
	// (rs/execution_environment's wasm64 large-heap tests fill "the 18 GiB
	// Wasm64 heap" as three 6 GiB per-message access limits). The replica
	// applies it to the uploaded heap of a canister running in wasm64 mode
	// (ValidatedSnapshotMetadata::validate,
	// rs/replicated_state/src/canister_snapshots.rs). The store accepts
	// heaps up to it; importers and checks apply the cap of the module's
	// mode (MaxHeapFor).
	MaxWasm64HeapBytes = 18 << 30
	// MaxStableBytes is the IC's stable memory limit.
	MaxStableBytes = 500 << 30
	// MaxModuleBytes bounds a module or chunk blob read whole into memory;
	// the IC's chunked install limit for a module is 100 MiB.
	MaxModuleBytes = 100 << 20
)

// MaxHeapFor returns the heap limit for a module in wasm64 mode (memory64)
// or wasm32 mode.
func MaxHeapFor(memory64 bool) uint64 {
	if memory64 {
		return MaxWasm64HeapBytes
	}
	return MaxHeapBytes
}

// ErrNotFound is wrapped by store errors for an unknown snapshot or blob,
// so callers can tell "absent" from "damaged".
var ErrNotFound = errors.New("not found")

// PageReader reads stored pages. Implementations verify the content hash,
// so a page that reads without error is the page that was written.
type PageReader interface {
	// ReadPage fills buf (len PageSize) with the page whose hash is h.
	ReadPage(h Hash, buf []byte) error
}

// Store is what the CLI, the TUI and the engine bridge need from a
// snapshot store. fsstore.Store is the on-disk implementation; the
// interface lets the dfx importer and tests run against any backend.
//
// All methods are safe for concurrent use; PutPage and PutBlob are meant
// to be called from several goroutines while a snapshot is streamed in.
type Store interface {
	PageReader
	// List returns every snapshot, oldest first.
	List() ([]Snapshot, error)
	// Resolve finds the snapshot a reference names (see ResolveRef).
	Resolve(ref string) (Snapshot, error)
	// Manifest reads and verifies the full manifest of a snapshot.
	Manifest(id ID) (*Manifest, error)
	// ReadBlob returns the verified content of a blob (module, chunk).
	ReadBlob(h Hash) ([]byte, error)
	// PutBlob stores data (deduplicated by hash) and returns its hash.
	PutBlob(data []byte) (Hash, error)
	// PutPage stores one page of at most PageSize bytes, zero-padded. An
	// all-zero page is not stored: PutPage returns the zero Hash, which
	// page tables read as "zero page".
	PutPage(data []byte) (Hash, error)
	// Commit validates m (page tables well-formed, sizes within limits,
	// every referenced blob present, parent present), assigns m.Seq under
	// the store's write lock (the next N of NAME@N), fills the derived
	// summary fields and m.ID, and makes the snapshot visible atomically.
	Commit(ctx context.Context, m *Manifest) (Snapshot, error)
}
