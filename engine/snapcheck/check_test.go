package snapcheck

import (
	"crypto/sha256"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
)

// blobs is an in-memory Blobs: a test can hold a blob larger than a store
// accepts.
type blobs map[snapshots.Hash][]byte

func (b blobs) ReadBlob(h snapshots.Hash) ([]byte, error) {
	if c, ok := b[h]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("blob %s not found", h.Short())
}

func (b blobs) put(c []byte) snapshots.Hash {
	h := snapshots.Hash(sha256.Sum256(c))
	b[h] = c
	return h
}

// healthy is a snapshot of engine/testdata/globals.wasm the IC loads.
func healthy(t *testing.T) (blobs, *snapshots.Manifest) {
	st := blobs{}
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "g", Seq: 1}}
	m.Module = st.put(globalsModule(t))
	m.Heap.Size = 2 * pageSize
	m.Stable.Size = pageSize
	m.Globals = []snapshots.Global{{Kind: snapshots.KindF64, Bits: math.Float64bits(1.5)}, {Kind: snapshots.KindI32, Bits: 3}, {Kind: snapshots.KindI32}, {Kind: snapshots.KindI64, Bits: 5}}
	m.CertifiedData = []byte{1, 2, 3}
	m.Chunks = []snapshots.Hash{st.put([]byte("chunk"))}
	m.LowWasmMemoryHook = "condition_not_satisfied"
	return st, m
}

func TestHealthySnapshotPassesAll(t *testing.T) {
	st, m := healthy(t)
	rep, err := Run(st, m, Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || len(rep.Failed()) != 0 || len(rep.Checks) != 13 {
		t.Fatalf("healthy snapshot: ok=%v, %d checks, failed %+v", rep.OK, len(rep.Checks), rep.Failed())
	}
	if len(rep.NotChecked) == 0 {
		t.Fatal("the report does not say what it could not check offline")
	}
}

// TestEachRuleFails: one violating snapshot per rule; exactly that check
// fails, with the replica's (or the tool's) text.
func TestEachRuleFails(t *testing.T) {
	invalidModule := func(t *testing.T) []byte {
		m, err := wasm.Parse(globalsModule(t))
		if err != nil {
			t.Fatal(err)
		}
		m.SetExports(append(m.Exports, wasm.Export{Name: "canister_start", Kind: wasm.KindFunc, Index: 4}))
		return m.Encode()
	}
	for _, tt := range []struct {
		check string
		edit  func(t *testing.T, st blobs, m *snapshots.Manifest)
		want  string
	}{
		{"globals encodable", func(t *testing.T, st blobs, m *snapshots.Manifest) { m.Globals[0].Bits = math.Float64bits(math.Inf(1)) },
			`global 0 is f64 +Inf: metadata.json can only hold it as {"f64": null}, which dfx and icp cannot read back`},
		{"module present", func(t *testing.T, st blobs, m *snapshots.Manifest) { m.Module = snapshots.Hash{} },
			"Snapshot Metadata contains invalid data: WasmModuleEmpty"},
		{"module size", func(t *testing.T, st blobs, m *snapshots.Manifest) {
			m.Module = st.put(append(globalsModule(t), make([]byte, 100<<20)...))
		}, "Snapshot Metadata contains invalid data: WasmModuleTooLarge"},
		{"heap page-aligned", func(t *testing.T, st blobs, m *snapshots.Manifest) { m.Heap.Size = pageSize + 1 },
			"Snapshot Metadata contains invalid data: WasmMemoryNotPageAligned"},
		{"heap size", func(t *testing.T, st blobs, m *snapshots.Manifest) { m.Heap.Size = 4<<30 + pageSize },
			"Snapshot Metadata contains invalid data: WasmMemoryTooLarge"},
		{"stable memory page-aligned", func(t *testing.T, st blobs, m *snapshots.Manifest) { m.Stable.Size = 100 },
			"Snapshot Metadata contains invalid data: StableMemoryNotPageAligned"},
		{"stable memory size", func(t *testing.T, st blobs, m *snapshots.Manifest) { m.Stable.Size = 501 << 30 },
			"Snapshot Metadata contains invalid data: StableMemoryTooLarge"},
		{"certified data", func(t *testing.T, st blobs, m *snapshots.Manifest) { m.CertifiedData = make([]byte, 33) },
			"Snapshot Metadata contains invalid data: CertifiedDataTooLarge"},
		{"chunk store", func(t *testing.T, st blobs, m *snapshots.Manifest) {
			m.Chunks = append(m.Chunks, st.put(make([]byte, chunkSize+1)))
		}, "Wasm chunk size 1048577 exceeds the maximum chunk size of 1048576"},
		{"module valid", func(t *testing.T, st blobs, m *snapshots.Manifest) { m.Module = st.put(invalidModule(t)) },
			"Canister's Wasm module is not valid: Wasm module has an invalid export section. Exporting reserved symbol canister_start not allowed."},
		{"globals match the module", func(t *testing.T, st blobs, m *snapshots.Manifest) { m.Globals[1].Kind = snapshots.KindI64 },
			"Wasm exported globals of canister module and snapshot metadata do not match."},
		{"low-memory hook status", func(t *testing.T, st blobs, m *snapshots.Manifest) { m.LowWasmMemoryHook = "ready" },
			"Hook status (Some(Ready)) of uploaded snapshot is inconsistent with the canister's state (hook condition satisfied: false)."},
	} {
		t.Run(tt.check, func(t *testing.T) {
			st, m := healthy(t)
			tt.edit(t, st, m)
			rep, err := Run(st, m, Settings{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK {
				t.Fatal("report ok")
			}
			var found bool
			for _, c := range rep.Failed() {
				if c.Name == tt.check {
					found = true
					if c.Detail != tt.want {
						t.Errorf("detail %q\nwant   %q", c.Detail, tt.want)
					}
				}
			}
			if !found {
				t.Fatalf("check %q did not fail; failed: %+v", tt.check, rep.Failed())
			}
		})
	}
}

// The rules that need many items, apart: 1001 globals, 101 chunks, a null
// global, a count mismatch.
func TestRulesOnCounts(t *testing.T) {
	st, m := healthy(t)
	m.Globals = make([]snapshots.Global, 1001)
	for i := range m.Globals {
		m.Globals[i] = snapshots.Global{Kind: snapshots.KindI32}
	}
	rep, _ := Run(st, m, Settings{})
	if !failedWith(rep, "globals count", "Snapshot Metadata contains invalid data: ExportedGlobalsTooLarge") ||
		!failedWith(rep, "globals match the module", "Wasm exported globals of canister module and snapshot metadata do not match.") {
		t.Errorf("1001 globals: %+v", rep.Failed())
	}

	st, m = healthy(t)
	for i := range 100 {
		m.Chunks = append(m.Chunks, st.put([]byte(fmt.Sprint("chunk ", i))))
	}
	rep, _ = Run(st, m, Settings{})
	if !failedWith(rep, "chunk store", "Wasm chunk store has already reached maximum capacity of 104857600 bytes or the maximum number of entries, 100") {
		t.Errorf("101 chunks: %+v", rep.Failed())
	}

	st, m = healthy(t)
	m.Globals[3] = snapshots.Global{Kind: snapshots.KindNull}
	rep, _ = Run(st, m, Settings{})
	if !failedWith(rep, "globals encodable", `global 3 is null (a value the replica could not export); icp refuses it ("snapshot metadata contains unparseable globals") and dfx cannot encode it`) {
		t.Errorf("null global: %+v", rep.Failed())
	}
	if s := rep.Summary(); !strings.Contains(s, "globals encodable at dfx/icp upload: global 3 is null") || strings.Contains(s, "\n") {
		t.Errorf("summary %q", s)
	}
}

func failedWith(rep Report, name, detail string) bool {
	for _, c := range rep.Failed() {
		if c.Name == name && c.Detail == detail {
			return true
		}
	}
	return false
}

// TestHookStatusWithSettings: the replica's condition,
// wasm_memory_limit < usage + wasm_memory_threshold (limit 4 GiB unset).
func TestHookStatusWithSettings(t *testing.T) {
	u := func(v uint64) *uint64 { return &v }
	for _, tt := range []struct {
		status string
		set    Settings
		ok     bool
	}{
		{"", Settings{WasmMemoryLimit: u(pageSize), WasmMemoryThreshold: u(pageSize)}, true},
		{"condition_not_satisfied", Settings{}, true},
		{"ready", Settings{}, false},
		{"ready", Settings{WasmMemoryLimit: u(3 * pageSize), WasmMemoryThreshold: u(2 * pageSize)}, true},
		{"executed", Settings{WasmMemoryLimit: u(3 * pageSize), WasmMemoryThreshold: u(2 * pageSize)}, true},
		{"condition_not_satisfied", Settings{WasmMemoryLimit: u(3 * pageSize), WasmMemoryThreshold: u(2 * pageSize)}, false},
		{"condition_not_satisfied", Settings{WasmMemoryLimit: u(4 * pageSize), WasmMemoryThreshold: u(2 * pageSize)}, true},
	} {
		st, m := healthy(t) // a heap of 2 pages
		m.LowWasmMemoryHook = tt.status
		rep, err := Run(st, m, tt.set)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK != tt.ok {
			t.Errorf("status %q with %+v: ok=%v, want %v (%+v)", tt.status, tt.set, rep.OK, tt.ok, rep.Failed())
		}
	}
}

// TestHeapCapFollowsModuleMode: validate caps the heap at 4 GiB in wasm32
// mode and at MAX_WASM64_MEMORY_IN_BYTES (18 GiB) in wasm64 mode; the mode
// is the module's (engine/testdata/eop_counter.wasm is moc 4.x's memory64).
func TestHeapCapFollowsModuleMode(t *testing.T) {
	eop, err := os.ReadFile("../testdata/eop_counter.wasm")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		memory64 bool
		heap     uint64
		ok       bool
		detail   string
	}{
		{"wasm32 at 4 GiB", false, 4 << 30, true, "4294967296 bytes, at most 4294967296 for wasm32"},
		{"wasm32 above 4 GiB", false, 4<<30 + pageSize, false, "Snapshot Metadata contains invalid data: WasmMemoryTooLarge"},
		{"wasm64 at 5 GiB", true, 5 << 30, true, "5368709120 bytes, at most 19327352832 for wasm64"},
		{"wasm64 at 18 GiB", true, 18 << 30, true, "19327352832 bytes, at most 19327352832 for wasm64"},
		{"wasm64 above 18 GiB", true, 18<<30 + pageSize, false, "Snapshot Metadata contains invalid data: WasmMemoryTooLarge"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, m := healthy(t)
			if tt.memory64 {
				m.Module = st.put(eop)
			}
			m.Heap.Size = tt.heap
			rep, err := Run(st, m, Settings{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range rep.Checks {
				if c.Name == "heap size" {
					if c.OK != tt.ok || c.Detail != tt.detail {
						t.Fatalf("heap size: ok=%v %q, want ok=%v %q", c.OK, c.Detail, tt.ok, tt.detail)
					}
					return
				}
			}
			t.Fatal("no heap size check")
		})
	}
}
