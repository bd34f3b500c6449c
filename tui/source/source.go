// Package source declares what the terminal UI reads from and writes to:
// small consumer-side interfaces that the snapshot store, the engine bridge
// and the CLI wiring satisfy. Screens depend on these, never on concrete
// packages, so tests can drive screens with in-memory data. Every source
// of a Set is required: tui/bridge.New builds them all.
package source

import (
	"context"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
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

// Exporter checks a snapshot against the IC's upload and load rules and
// writes it as a snapshot directory `icp canister snapshot upload` (and
// dfx's) accept: the same check (`canscope check`), the same refusal and
// the same command sequence `canscope restore` prints, so the UI and the
// CLI never disagree. Its errors name the snapshot and the directory; the
// UI shows them as they are.
type Exporter interface {
	// Check replays the IC's checks on the snapshot as it would be
	// exported; it writes nothing.
	Check(ctx context.Context, id snapshots.ID) (ExportReport, error)
	// Export writes dir and returns the commands that load it. A
	// snapshot whose check fails is refused (the error names the
	// failures) and nothing is written, unless req.Force.
	Export(ctx context.Context, id snapshots.ID, dir string, req ExportRequest) (dfx.Sequence, error)
}

// ExportCheck is one rule the IC applies to an uploaded snapshot, as
// `canscope check` reports it.
type ExportCheck struct {
	Name   string // e.g. "globals match the module"
	Stage  string // e.g. "load_canister_snapshot"
	OK     bool
	Detail string // what was verified, or the replica's error text
	// Explain is canscope's words on a failure or an assumption.
	Explain string
}

// ExportReport is the IC's upload and load checks on a snapshot as it
// would be exported.
type ExportReport struct {
	OK     bool
	Checks []ExportCheck
	// NotChecked names the conditions that depend on the live canister.
	NotChecked []string
	// Summary is one line naming what will fail on the IC, "" when
	// nothing.
	Summary string
}

// Failed returns the checks that failed.
func (r ExportReport) Failed() []ExportCheck {
	var out []ExportCheck
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// ExportRequest is how an export goes ahead.
type ExportRequest struct {
	// Force writes a snapshot the IC will refuse (the operator saw the
	// failing checks and confirmed).
	Force bool
	// Upgrade is the rehearsed upgrade the sequence ends with.
	Upgrade dfx.Upgrade
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
	// Lines describe the layout further, one item a line, e.g. a Motoko
	// canister's stable variables in Motoko syntax ("stable var count :
	// Nat") and type definitions; nil when there is nothing more.
	Lines []string
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
	// Headroom is the headroom screen's rehearsals of a lineage.
	Headroom Headroom
	Demo     DemoLoader
	Inspect  ModuleInspector
	Labeller StableLabeller
}
