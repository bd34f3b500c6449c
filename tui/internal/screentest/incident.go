package screentest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
)

// Canister ids of the incident fixture.
const (
	LedgerCanister  = "bkyz2-fmaaa-aaaaa-qaaaq-cai"
	CounterCanister = "rrkah-fqaaa-aaaaa-aaaaq-cai"
)

// Incident returns a store holding a small incident: a ledger imported
// from production, upgraded, called, with a hotfix fork and a checkpoint,
// and an unrelated counter canister. Every snapshot is in memory, with
// real page contents so diffs show bytes.
func Incident() *Memory {
	s := NewMemory()
	taken := func(d time.Duration) uint64 { return uint64(Now().Add(-d).UnixNano()) }

	var heap []snapshots.Page
	for i := uint64(0); i < 10; i++ {
		heap = append(heap, s.Page(i, i+1))
	}
	for i := uint64(40); i < 46; i++ {
		heap = append(heap, s.Page(i, i+1))
	}
	var stable []snapshots.Page
	for _, i := range []uint64{0, 1, 2, 3, 1000, 1001, 1002, 1003, 1004, 1005} {
		stable = append(stable, s.Page(i, 1000+i))
	}
	v1 := s.Blob(engineFixture("motoko_v1.wasm.gz"))
	v2 := s.Blob(engineFixture("motoko_v2.wasm.gz"))

	l1 := &snapshots.Manifest{
		Snapshot: snapshots.Snapshot{
			Name: "ledger", MadeBy: snapshots.MadeByImport, CanisterID: LedgerCanister,
			TakenAt: taken(72 * time.Hour), CanisterVersion: 12, ModuleHash: v1,
			Note: "dfx canister snapshot download, production",
		},
		Module:        v1,
		Heap:          snapshots.PageTable{Size: 64 * snapshots.PageSize, Pages: heap},
		Stable:        snapshots.PageTable{Size: 1 << 30, Pages: stable},
		Globals:       moduleGlobals(engineFixture("motoko_v1.wasm.gz"), 42, 1_234_567, 98_765_432),
		CertifiedData: []byte{0xde, 0xad, 0xbe, 0xef},
		GlobalTimer:   snapshots.TimerState{Active: true, Deadline: taken(71 * time.Hour)},
	}
	s.Add(l1)

	l2 := l1.Child(snapshots.MadeByUpgrade)
	l2.Name, l2.Module, l2.ModuleHash, l2.CanisterVersion = "ledger", v2, v2, 13
	l2.TakenAt = taken(2 * time.Hour)
	l2.Note = "upgrade to ledger v2"
	l2.Heap = l2.Heap.Patch(64*snapshots.PageSize, []snapshots.Page{
		s.PatchPage(heap[3], 0x120, 6), s.PatchPage(heap[4], 0x40, 2), s.Page(50, 77),
	})
	l2.Stable = l2.Stable.Patch(1<<30, []snapshots.Page{s.PatchPage(stable[5], 0x10, 4)})
	l2.Globals = moduleGlobals(engineFixture("motoko_v2.wasm.gz"), 43, 1_234_567, 99_000_000)
	s2 := s.Add(l2)

	l3 := l2.Child(snapshots.MadeByCall)
	l3.Note = "call transfer"
	l3.TakenAt = taken(time.Hour)
	l3.Heap = l3.Heap.Patch(64*snapshots.PageSize, []snapshots.Page{s.PatchPage(heap[5], 0x200, 8)})
	s3 := s.Add(l3)

	fork := l2.Child(snapshots.MadeByFork)
	fork.Name = "hotfix"
	fork.ForkedFrom = &s2.ID
	fork.Note = "fork for the pre_upgrade fix"
	s.Add(fork)

	cp := l3.Child(snapshots.MadeByCheckpoint)
	cp.Name = "trap-point"
	cp.Note = "checkpoint at event 41 (trap)"
	cp.Parent = &s3.ID
	s.Add(cp)

	c1 := &snapshots.Manifest{
		Snapshot: snapshots.Snapshot{
			Name: "counter", MadeBy: snapshots.MadeByInstall, CanisterID: CounterCanister,
			TakenAt: taken(30 * time.Minute), CanisterVersion: 1, ModuleHash: s.Blob([]byte("\x00asm\x01\x00\x00\x00counter")),
		},
		Heap:    snapshots.PageTable{Size: 2 * snapshots.PageSize, Pages: []snapshots.Page{s.Page(0, 5)}},
		Globals: []snapshots.Global{{Kind: snapshots.KindI64, Bits: 1000}},
	}
	c1.Module = c1.ModuleHash
	s.Add(c1)
	return s
}

// engineFixture reads a module from engine/testdata, the committed
// Motoko canisters, so the detail screen shows real exports and candid.
// A missing file yields an empty module, which the screen reports.
func engineFixture(name string) []byte {
	b, err := os.ReadFile(filepath.Join(Dir(), "..", "..", "engine", "testdata", name))
	if err != nil {
		return nil
	}
	return b
}

// ID returns the ID of the snapshot NAME@N in s, failing the test when
// it is absent.
func (s *Memory) ID(t testing.TB, ref string) snapshots.ID {
	t.Helper()
	for _, m := range s.manifests {
		if m.Ref() == ref {
			return m.ID
		}
	}
	t.Fatalf("the fixture store has no snapshot %s", ref)
	return snapshots.ID{}
}

// moduleGlobals is the globals list a snapshot of module has (the
// replica's: wasm.SnapshotGlobals), so the IC's checks pass on the
// fixture as they do on a real download; values fill the first globals, the rest are zero.
func moduleGlobals(module []byte, values ...uint64) []snapshots.Global {
	raw, err := wasm.Decompress(module)
	if err != nil {
		return nil // a missing fixture: the screens (and the checks) report it
	}
	mod, err := wasm.Parse(raw)
	if err != nil {
		return nil
	}
	var out []snapshots.Global
	for i, g := range wasm.SnapshotGlobals(mod) {
		v := uint64(0)
		if i < len(values) {
			v = values[i]
		}
		out = append(out, snapshots.Global{Kind: snapshots.GlobalKind(g.Type.Type.String()), Bits: v})
	}
	return out
}
