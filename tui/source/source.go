// Package source declares what the terminal UI reads from and writes to:
// small consumer-side interfaces that the snapshot store, the engine bridge
// and the CLI wiring satisfy. Screens depend on these, never on concrete
// packages, so tests can drive screens with in-memory data. Every source
// of a Set is required: tui/bridge.New builds them all.
package source

import (
	"context"

	"github.com/canscope/canscope/snapshots"
)

// Catalog lists snapshots and reads their manifests and blobs.
// *fsstore.Store satisfies it through snapshots.Store.
type Catalog interface {
	snapshots.PageReader
	// List returns every snapshot, oldest first.
	List() ([]snapshots.Snapshot, error)
	// Manifest reads the full manifest of a snapshot.
	Manifest(id snapshots.ID) (*snapshots.Manifest, error)
	// ReadBlob returns a module or chunk blob.
	ReadBlob(h snapshots.Hash) ([]byte, error)
}

// Forker makes a new branch in the lineage from an existing snapshot.
type Forker interface {
	Fork(ctx context.Context, id snapshots.ID, name string) (snapshots.Snapshot, error)
}

// Exporter writes a snapshot as a dfx snapshot directory that
// `dfx canister snapshot upload --dir` accepts, and returns the shell
// commands that load it into the canister, in order: the same list
// `canscope restore` prints, so the UI and the CLI never disagree. Its
// errors name the snapshot and the directory; the UI shows them as they
// are.
type Exporter interface {
	Export(ctx context.Context, id snapshots.ID, dir string) (commands []string, err error)
}

// DemoLoader fills an empty store with the demo canisters and incident
// (what `canscope demo` does).
type DemoLoader func(ctx context.Context) error

// ModuleInfo is what the UI shows about a module.
type ModuleInfo struct {
	Exports []string // exported function names, e.g. "canister_update transfer"
	Candid  string   // the candid:service metadata, "" when the module has none
	// StableTypes is the motoko:stable-types metadata, "" when absent; it
	// helps recognise a Motoko canister's stable memory.
	StableTypes string
	// Metadata lists the names of the module's icp:public/private sections.
	Metadata []string
	// Signatures are the methods' Candid signatures from Candid, by
	// method name ("(nat, text) -> (nat)"); nil when it does not parse.
	Signatures map[string]string
}

// ModuleInspector parses module bytes (raw or gzipped wasm).
type ModuleInspector func(module []byte) (ModuleInfo, error)

// StableLayout is what a StableLabeller recognised in stable memory.
type StableLayout struct {
	// Summary is one line, e.g. "MemoryManager v1: 3 memories in 4
	// buckets of 128 pages".
	Summary string
	// Label names what owns the bytes [start, end), e.g. "memory 3
	// (BTreeMap)"; "" when the layout says nothing about them.
	Label func(start, end uint64) string
}

// StableLabeller recognises how a canister lays out its stable memory, so
// stable ranges can be named after the stable-structures memory (or Motoko
// area) that owns them. It is given the manifest and the catalog because
// the layout lives in stable memory's first pages (and, for Motoko, in the
// module); it reads only a few of them. It returns an error, saying why,
// when it recognises no layout.
type StableLabeller func(m *snapshots.Manifest, cat Catalog) (StableLayout, error)

// Set is every source the UI can use. Any field may be nil: the screens
// that need it show what is missing instead of failing.
type Set struct {
	Catalog  Catalog
	Forker   Forker
	Exporter Exporter
	Runner   Runner
	// Transplanter is the restore screen's "transplant a module" repair.
	Transplanter Transplanter
	Demo         DemoLoader
	Inspect      ModuleInspector
	Labeller     StableLabeller
}
