package wasm

import "strconv"

// PersistentGlobalPrefix starts the export name under which the replica
// exposes each non-exported mutable global, so the global survives in
// canister snapshots.
const PersistentGlobalPrefix = "__persistent_mutable_global_"

// ExportMutableGlobals adds an export `__persistent_mutable_global_<index>`
// for every module-defined mutable global that has no export yet, in index
// order, after the module's own exports. This mirrors the replica's
// export_mutable_globals (dfinity/ic rs/embedders/src/wasm_utils/
// instrumentation.rs). The replica numbers globals within the module's own
// global section; canisters cannot import globals, so that equals the index
// used here (the global index space).
func ExportMutableGlobals(m *Module) {
	exported := make(map[uint32]bool)
	for _, e := range m.Exports {
		if e.Kind == KindGlobal {
			exported[e.Index] = true
		}
	}
	base := uint32(m.NumImportedGlobals())
	exports := append([]Export(nil), m.Exports...)
	added := false
	for i, g := range m.Globals {
		idx := base + uint32(i)
		if g.Type.Mutable && !exported[idx] {
			exports = append(exports, Export{
				Name:  PersistentGlobalPrefix + strconv.FormatUint(uint64(idx), 10),
				Kind:  KindGlobal,
				Index: idx,
			})
			added = true
		}
	}
	if added {
		m.SetExports(exports)
	}
}

// SnapshotGlobal is one entry of a canister snapshot's globals list.
type SnapshotGlobal struct {
	// Export is the name the instance exports the global under.
	Export string
	// Index is the global's index in the module's global index space.
	Index uint32
	Type  GlobalType
}

// SnapshotGlobals returns the globals a replica snapshot lists, in its
// order: the module's exported globals in export order, then every
// non-exported mutable global in index order (the ones ExportMutableGlobals
// exports). On a module already rewritten by ExportMutableGlobals (and then
// by meter.Instrument, which exports its instruction counter last) this is
// simply every exported global in export order, counter included, exactly
// as the replica lists them; on the original module it is the same list
// without the counter.
func SnapshotGlobals(m *Module) []SnapshotGlobal {
	var out []SnapshotGlobal
	exported := make(map[uint32]bool)
	rewritten := false
	for _, e := range m.Exports {
		if e.Kind != KindGlobal {
			continue
		}
		t, _ := m.GlobalType(e.Index)
		out = append(out, SnapshotGlobal{Export: e.Name, Index: e.Index, Type: t})
		exported[e.Index] = true
		rewritten = rewritten || isPersistentName(e)
	}
	if rewritten {
		return out
	}
	base := uint32(m.NumImportedGlobals())
	for i, g := range m.Globals {
		idx := base + uint32(i)
		if g.Type.Mutable && !exported[idx] {
			out = append(out, SnapshotGlobal{
				Export: PersistentGlobalPrefix + strconv.FormatUint(uint64(idx), 10),
				Index:  idx,
				Type:   g.Type,
			})
		}
	}
	return out
}

func isPersistentName(e Export) bool {
	return len(e.Name) > len(PersistentGlobalPrefix) &&
		e.Name[:len(PersistentGlobalPrefix)] == PersistentGlobalPrefix &&
		e.Name[len(PersistentGlobalPrefix):] == strconv.FormatUint(uint64(e.Index), 10)
}
