// Package snapshots is canscope's snapshot store: manifests that describe a
// canister's state (module, heap, stable memory, globals, metadata) as lists
// of content-addressed 64 KiB pages, the lineage between them, and the
// operations on them (diff, fork, fsck). The on-disk layout is specified in
// FORMAT.md.
package snapshots

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"
)

// PageSize is the granularity of stored memory: the wasm page size, so heap
// growth and stable growth both land on page boundaries.
const PageSize = 64 << 10

// Hash is the SHA-256 of a blob's uncompressed content. It names pages,
// modules and chunks in the blob store, and it is what the IC reports as a
// module hash, so one hash function serves both.
type Hash [32]byte

// HashOf returns the SHA-256 of b.
func HashOf(b []byte) Hash { return sha256.Sum256(b) }

// String returns the hash as 64 lower-case hex digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Short returns the first 12 hex digits, enough to be unique in a store of
// any realistic size and short enough for a table column.
func (h Hash) Short() string { return h.String()[:12] }

// IsZero reports whether h is the zero value (no hash).
func (h Hash) IsZero() bool { return h == Hash{} }

// ParseHash parses 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 64 {
		return h, fmt.Errorf("hash %q: want 64 hex digits, got %d characters", s, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("hash %q: %w", s, err)
	}
	return h, nil
}

// MarshalText encodes the hash as hex so JSON shows it readably.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes a hex hash.
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ID names a snapshot: the hash of its encoded manifest.
type ID = Hash

// MadeBy says which operation produced a snapshot.
type MadeBy string

// The operations that make snapshots.
const (
	MadeByImport     MadeBy = "import"
	MadeByInstall    MadeBy = "install"
	MadeByCall       MadeBy = "call"
	MadeByUpgrade    MadeBy = "upgrade"
	MadeByFork       MadeBy = "fork"
	MadeByCheckpoint MadeBy = "checkpoint"
	MadeByTransplant MadeBy = "transplant"
)

// Snapshot is the public summary of a snapshot: the object `ls`, `show` and
// every command that makes a snapshot print. Its JSON field names are part
// of the CLI contract (README.md, "Commands"): add fields, never rename.
type Snapshot struct {
	ID                ID        `json:"id"`
	Name              string    `json:"name"`
	Seq               int       `json:"seq"`
	Parent            *ID       `json:"parent"`
	MadeBy            MadeBy    `json:"made_by"`
	CreatedAt         time.Time `json:"created_at"`
	CanisterID        string    `json:"canister_id"`
	TakenAt           uint64    `json:"taken_at"`
	CanisterVersion   uint64    `json:"canister_version"`
	ModuleHash        Hash      `json:"module_hash"`
	HeapBytes         uint64    `json:"heap_bytes"`
	StableBytes       uint64    `json:"stable_bytes"`
	HeapPagesStored   int       `json:"heap_pages_stored"`
	StablePagesStored int       `json:"stable_pages_stored"`
	// ForkedFrom is set on forks and transplants: the snapshot whose state
	// the branch started from (Parent is the same snapshot; ForkedFrom
	// marks that a new branch began there).
	ForkedFrom *ID `json:"forked_from,omitempty"`
	// Note is a free-text line written by the operation (e.g. the method
	// called, the upgrade arguments).
	Note string `json:"note,omitempty"`
}

// Ref returns the NAME@N reference of the snapshot.
func (s Snapshot) Ref() string { return fmt.Sprintf("%s@%d", s.Name, s.Seq) }

// Page is one stored 64 KiB page of a memory: its index (offset/PageSize)
// and the hash of its content. All-zero pages are never listed.
type Page struct {
	Index uint64
	Hash  Hash
}

// PageTable describes a memory (heap or stable) of Size bytes as the sorted
// list of its non-zero pages. Sparse by construction: a 500 GiB stable
// memory that is mostly zero has a short table.
type PageTable struct {
	Size  uint64
	Pages []Page // sorted by Index, no duplicates, no zero pages
}

// NumPages returns the number of 64 KiB pages Size spans (a partial last
// page counts).
func (t PageTable) NumPages() uint64 { return (t.Size + PageSize - 1) / PageSize }

// GlobalKind is the wasm type of a global as dfx's metadata.json spells it.
type GlobalKind string

// Global kinds. KindNull is dfx's `null` entry (a global the replica could
// not represent); it is kept so export writes it back.
const (
	KindI32  GlobalKind = "i32"
	KindI64  GlobalKind = "i64"
	KindF32  GlobalKind = "f32"
	KindF64  GlobalKind = "f64"
	KindV128 GlobalKind = "v128"
	KindNull GlobalKind = "null"
)

// Global is one exported global in the replica's snapshot order. Bits holds
// the raw bits (i32 sign-extended to 64, floats as IEEE bits); Hi holds the
// upper 64 bits of a v128.
type Global struct {
	Kind GlobalKind `json:"kind"`
	Bits uint64     `json:"bits"`
	Hi   uint64     `json:"hi,omitempty"`
}

// Value formats the global's value for its kind: integers signed, with
// their bits in hex (a pointer such as __stack_pointer reads better so),
// floats as the shortest decimal that reads back, v128 as 32 hex digits
// (high half first), a dfx null global as "null". The CLI and the UI
// both show globals through it.
func (g Global) Value() string {
	switch g.Kind {
	case KindI32:
		return fmt.Sprintf("%d (0x%x)", int32(g.Bits), uint32(g.Bits))
	case KindI64:
		return fmt.Sprintf("%d (0x%x)", int64(g.Bits), g.Bits)
	case KindF32:
		return strconv.FormatFloat(float64(math.Float32frombits(uint32(g.Bits))), 'g', -1, 32)
	case KindF64:
		return strconv.FormatFloat(math.Float64frombits(g.Bits), 'g', -1, 64)
	case KindV128:
		return fmt.Sprintf("0x%016x%016x", g.Hi, g.Bits)
	}
	return "null"
}

// String is the global's kind and value, e.g. "i32 -1 (0xffffffff)";
// "null" for a dfx null global.
func (g Global) String() string {
	switch g.Kind {
	case KindI32, KindI64, KindF32, KindF64, KindV128:
		return string(g.Kind) + " " + g.Value()
	case "":
		return "null"
	}
	return string(g.Kind)
}

// ReplicaGlobals returns the globals of a snapshot whose module has
// moduleGlobals of them (engine/wasm.SnapshotGlobals), as the replica's
// read_canister_snapshot_metadata lists them: without its instruction
// counter. Manifests written before canscope followed that rule carry the
// counter as one trailing i64 too many; it is dropped. Any other list is
// returned as it is (a mismatch is for the caller to report).
func ReplicaGlobals(stored []Global, moduleGlobals int) []Global {
	if n := len(stored); n == moduleGlobals+1 && stored[n-1].Kind == KindI64 {
		return stored[:n-1]
	}
	return stored
}

// TimerState is the canister's global timer: 0 when inactive, else the
// deadline in ns since the epoch. Unknown is dfx's `null`.
type TimerState struct {
	Active   bool   `json:"active"`
	Deadline uint64 `json:"deadline,omitempty"`
	Unknown  bool   `json:"unknown,omitempty"`
}

// Manifest is the whole description of one snapshot. Everything large is
// a hash into the blob store; the manifest itself stays small enough to
// diff two 4 GiB heaps without reading a page.
type Manifest struct {
	Snapshot
	Module        Hash      // blob holding the module bytes (as given: may be gzipped)
	Heap          PageTable // wasm memory 0
	Stable        PageTable // stable memory
	Globals       []Global  // replica order, no instruction counter (older manifests: see ReplicaGlobals)
	CertifiedData []byte
	GlobalTimer   TimerState
	// LowWasmMemoryHook is dfx's on_low_wasm_memory_hook_status, "" when null.
	LowWasmMemoryHook string
	// Chunks are the wasm chunk store entries, each a blob.
	Chunks []Hash
	// DfxMetadata is the metadata.json an import read, byte for byte, so an
	// export of an unchanged snapshot reproduces it exactly (unknown keys
	// included). Empty for snapshots canscope made itself.
	DfxMetadata []byte
}
