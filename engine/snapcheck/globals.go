// Package snapcheck replays offline the checks the replica makes when an
// operator uploads a snapshot directory and loads it onto a canister
// (upload_canister_snapshot_metadata, upload_canister_snapshot_data,
// load_canister_snapshot), so canscope can say before hours of uploading
// whether the IC will accept what it exports. It also turns a stored
// manifest into the snapshot the replica would read back (ForExport). It
// sits under engine/ because it reads modules with engine/wasm; snapshots/
// stays free of engine imports.
package snapcheck

import (
	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
)

// Blobs is what the checks read from a store; snapshots.Store has it.
type Blobs interface {
	ReadBlob(h snapshots.Hash) ([]byte, error)
}

// ForExport returns m as the replica's read_canister_snapshot_metadata
// would describe it: its globals are the module's list (exported globals
// in export order, then the other mutable globals in index order) without
// the instruction counter that manifests written by older canscope
// versions carry last (snapshots.ReplicaGlobals). m itself is not changed;
// a snapshot without a readable module is returned as it is (check reports
// what is wrong with it).
func ForExport(st Blobs, m *snapshots.Manifest) *snapshots.Manifest {
	if m.Module.IsZero() {
		return m
	}
	code, err := st.ReadBlob(m.Module)
	if err != nil {
		// show and diff of a damaged snapshot still work; Run and the
		// export read the module again and report the damage.
		return m
	}
	n, ok := moduleGlobals(code)
	if !ok {
		return m
	}
	g := snapshots.ReplicaGlobals(m.Globals, n)
	if len(g) == len(m.Globals) {
		return m
	}
	c := *m
	c.Globals = g
	return &c
}

// moduleGlobals returns the length of the module's snapshot globals list,
// ok false when the bytes are not a module canscope can parse.
func moduleGlobals(code []byte) (int, bool) {
	raw, err := wasm.Decompress(code)
	if err != nil {
		return 0, false
	}
	info, err := wasm.Parse(raw)
	if err != nil {
		return 0, false
	}
	return len(wasm.SnapshotGlobals(info)), true
}
