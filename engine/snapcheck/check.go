package snapcheck

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/canscope/canscope/engine/validation"
	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
)

// Stages of a restore, in order: what the operator's tool (dfx or icp)
// does before uploading, then the three management canister methods.
const (
	StageTool     = "dfx/icp upload"
	StageMetadata = "upload_canister_snapshot_metadata"
	StageData     = "upload_canister_snapshot_data"
	StageLoad     = "load_canister_snapshot"
)

// The replica's limits on uploaded snapshots
// (rs/replicated_state/src/canister_snapshots.rs
// ValidatedSnapshotMetadata::validate; ic_types' memory caps;
// rs/replicated_state/src/canister_state/system_state/wasm_chunk_store.rs).
const (
	maxStable       = 500 << 30 // MAX_STABLE_MEMORY_IN_BYTES
	maxCertified    = 32
	chunkSize       = 1 << 20   // wasm_chunk_store CHUNK_SIZE
	chunkStoreBytes = 100 << 20 // wasm_chunk_store_max_size (= WASM_MAX_SIZE)
	pageSize        = snapshots.PageSize
)

// Check is one rule the IC applies to an uploaded snapshot.
type Check struct {
	// Name says what is checked, e.g. "globals match the module".
	Name  string `json:"name"`
	Stage string `json:"stage"`
	OK    bool   `json:"ok"`
	// Detail is what was verified when OK, else the replica's (or the
	// tool's) error text, verbatim.
	Detail string `json:"detail"`
	// Explain adds canscope's words to a FAIL or to an assumption the
	// check had to make.
	Explain string `json:"explain,omitempty"`
}

// Report is the result of Run: `canscope check --json`.
type Report struct {
	Snapshot snapshots.Snapshot `json:"snapshot"`
	OK       bool               `json:"ok"`
	Checks   []Check            `json:"checks"`
	// NotChecked names what the replica also checks but depends on the
	// live canister, which canscope cannot see offline.
	NotChecked []string `json:"not_checked"`
}

// Failed returns the checks that failed.
func (r Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// Summary is one line naming what will fail on the IC, "" when nothing.
func (r Report) Summary() string {
	var parts []string
	for _, c := range r.Failed() {
		parts = append(parts, fmt.Sprintf("%s at %s: %s", c.Name, c.Stage, c.Detail))
	}
	return strings.Join(parts, "; ")
}

// notChecked are the upload and load conditions that depend on the live
// canister and its subnet (canister_manager.rs create_snapshot_from_metadata,
// write_snapshot_data, load_canister_snapshot).
var notChecked = []string{
	"the caller is a controller of the canister",
	"the canister has fewer than 10 snapshots (else upload with --replace SNAPSHOT_ID)",
	"the canister has cycles and memory for the snapshot and the load",
	"the canister is stopped and has no long-running execution",
	"the canister's heap delta rate limit",
	"the low-memory hook status against the canister's real wasm_memory_threshold (the default, 0, is assumed unless --settings gives it)",
}

// Settings are the live canister's settings some checks depend on, when
// the operator gives them (`icp canister status --json`).
type Settings struct {
	// WasmMemoryLimit is wasm_memory_limit in bytes; nil means not set
	// (the replica then uses 4 GiB).
	WasmMemoryLimit *uint64
	// WasmMemoryThreshold is wasm_memory_threshold in bytes; nil means
	// unknown (the default is 0).
	WasmMemoryThreshold *uint64
}

// Run replays the replica's upload and load checks on m, as exported
// (pass it through ForExport first, as export does), for a canister with
// settings set (zero: its defaults). An error means the store could not
// be read, not that a check failed.
func Run(st Blobs, m *snapshots.Manifest, set Settings) (Report, error) {
	r := Report{Snapshot: m.Snapshot, NotChecked: notChecked}
	if set.WasmMemoryThreshold != nil {
		r.NotChecked = notChecked[:len(notChecked)-1]
	}
	add := func(stage, name string, ok bool, detail, explain string) {
		r.Checks = append(r.Checks, Check{Name: name, Stage: stage, OK: ok, Detail: detail, Explain: explain})
	}
	var module []byte
	if !m.Module.IsZero() {
		var err error
		if module, err = st.ReadBlob(m.Module); err != nil {
			return r, fmt.Errorf("check %s: module: %w", m.Ref(), err)
		}
	}
	info, infoErr := parse(module)

	// dfx and icp read metadata.json back before uploading.
	tool := "every global has a value dfx and icp can read back"
	bad := ""
	for i, g := range m.Globals {
		switch {
		case g.Kind == snapshots.KindNull:
			bad = fmt.Sprintf("global %d is null (a value the replica could not export); icp refuses it (\"snapshot metadata contains unparseable globals\") and dfx cannot encode it", i)
		case g.Kind == snapshots.KindF32 && !finite(float64(math.Float32frombits(uint32(g.Bits)))),
			g.Kind == snapshots.KindF64 && !finite(math.Float64frombits(g.Bits)):
			bad = fmt.Sprintf(`global %d is %s %s: metadata.json can only hold it as {"%s": null}, which dfx and icp cannot read back`, i, g.Kind, floatName(g), g.Kind)
		}
		if bad != "" {
			break
		}
	}
	if bad != "" {
		add(StageTool, "globals encodable", false, bad, "")
	} else {
		add(StageTool, "globals encodable", true, tool, "")
	}

	// upload_canister_snapshot_metadata: ValidatedSnapshotMetadata::validate.
	invalid := func(variant string) string { return "Snapshot Metadata contains invalid data: " + variant }
	size := uint64(len(module))
	add(StageMetadata, "module present", size > 0, pick(size > 0, fmt.Sprintf("module of %d bytes", size), invalid("WasmModuleEmpty")), pick(size > 0, "", "the snapshot has no module"))
	add(StageMetadata, "module size", size <= validation.ModuleMaxSize, pick(size <= validation.ModuleMaxSize, fmt.Sprintf("%d bytes, at most %d", size, validation.ModuleMaxSize), invalid("WasmModuleTooLarge")), "")
	heap := m.Heap.Size
	add(StageMetadata, "heap page-aligned", heap%pageSize == 0, pick(heap%pageSize == 0, fmt.Sprintf("%d bytes, a multiple of 64 KiB", heap), invalid("WasmMemoryNotPageAligned")), "")
	// validate checks the heap against the cap of the canister's execution
	// mode, which the snapshot's module sets (a module that does not parse
	// gets the stricter wasm32 cap; "module valid" reports it).
	mode, heapCap := "wasm32", uint64(snapshots.MaxHeapBytes)
	if infoErr == nil && info.IsMemory64() {
		mode, heapCap = "wasm64", snapshots.MaxWasm64HeapBytes
	}
	heapOK := heap <= heapCap
	add(StageMetadata, "heap size", heapOK, pick(heapOK, fmt.Sprintf("%d bytes, at most %d for %s", heap, heapCap, mode), invalid("WasmMemoryTooLarge")), "")
	stable := m.Stable.Size
	add(StageMetadata, "stable memory page-aligned", stable%pageSize == 0, pick(stable%pageSize == 0, fmt.Sprintf("%d bytes, a multiple of 64 KiB", stable), invalid("StableMemoryNotPageAligned")), "")
	add(StageMetadata, "stable memory size", stable <= maxStable, pick(stable <= maxStable, fmt.Sprintf("%d bytes, at most %d", stable, uint64(maxStable)), invalid("StableMemoryTooLarge")), "")
	ng := len(m.Globals)
	add(StageMetadata, "globals count", ng <= validation.MaxGlobals, pick(ng <= validation.MaxGlobals, fmt.Sprintf("%d globals, at most %d", ng, validation.MaxGlobals), invalid("ExportedGlobalsTooLarge")), "")
	nc := len(m.CertifiedData)
	add(StageMetadata, "certified data", nc <= maxCertified, pick(nc <= maxCertified, fmt.Sprintf("%d bytes, at most %d", nc, maxCertified), invalid("CertifiedDataTooLarge")), "")

	// upload_canister_snapshot_data: chunk store inserts (can_insert_chunk).
	chunks := Check{Name: "chunk store", Stage: StageData, OK: true, Detail: fmt.Sprintf("%d chunks, each at most %d bytes and hashing to its name", len(m.Chunks), chunkSize)}
	for i, h := range m.Chunks {
		if uint64(i)*chunkSize >= chunkStoreBytes {
			chunks.OK = false
			chunks.Detail = fmt.Sprintf("Wasm chunk store has already reached maximum capacity of %d bytes or the maximum number of entries, %d", chunkStoreBytes, chunkStoreBytes/chunkSize)
			break
		}
		c, err := st.ReadBlob(h) // the store re-hashes what it reads
		if err != nil {
			return r, fmt.Errorf("check %s: chunk %d: %w", m.Ref(), i, err)
		}
		if len(c) > chunkSize {
			chunks.OK = false
			chunks.Detail = fmt.Sprintf("Wasm chunk size %d exceeds the maximum chunk size of %d", len(c), chunkSize)
			break
		}
	}
	r.Checks = append(r.Checks, chunks)

	// load_canister_snapshot: the module is validated and instantiated
	// (hypervisor create_execution_state), then the uploaded globals must
	// match the module's, then the hook status the memory state.
	notValid := "Canister's Wasm module is not valid: "
	switch {
	case size == 0:
		add(StageLoad, "module valid", false, notValid+"Failed to decode wasm module: empty module", "the snapshot has no module")
	case infoErr != nil:
		add(StageLoad, "module valid", false, notValid+"Failed to decode wasm module: "+infoErr.Error(), "")
	default:
		if err := validation.Validate(info); err != nil {
			add(StageLoad, "module valid", false, notValid+err.Error(), "")
		} else {
			add(StageLoad, "module valid", true, "the module passes the replica's wasm validation", "")
		}
	}
	const mismatch = "Wasm exported globals of canister module and snapshot metadata do not match."
	if infoErr != nil || size == 0 {
		add(StageLoad, "globals match the module", false, mismatch, "the module cannot be read, so its globals are unknown")
	} else if ok, why := globalsMatch(m.Globals, wasm.SnapshotGlobals(info)); ok {
		add(StageLoad, "globals match the module", true, why, "")
	} else {
		add(StageLoad, "globals match the module", false, mismatch, why)
	}
	cond, assumed := hookCondition(heap, set)
	add(StageLoad, "low-memory hook status", hookOK(m.LowWasmMemoryHook, cond), hookDetail(m.LowWasmMemoryHook, cond),
		pick(m.LowWasmMemoryHook == "" || !assumed, "", "canscope assumes the canister's default wasm_memory_threshold of 0 (give its settings with --settings)"))

	r.OK = len(r.Failed()) == 0
	return r, nil
}

func parse(module []byte) (*wasm.Module, error) {
	if len(module) == 0 {
		return nil, errors.New("no module")
	}
	raw, err := wasm.Decompress(module)
	if err != nil {
		return nil, err
	}
	return wasm.Parse(raw)
}

// globalsMatch compares the uploaded globals with the module's list in
// number and kind, as the replica's globals_match does (the instruction
// counter the replica appends to both sides matches by construction).
func globalsMatch(have []snapshots.Global, want []wasm.SnapshotGlobal) (bool, string) {
	if len(have) != len(want) {
		return false, fmt.Sprintf("the snapshot lists %d globals, the module's list has %d (its exported globals, then its other mutable globals)", len(have), len(want))
	}
	for i, w := range want {
		if string(have[i].Kind) != w.Type.Type.String() {
			return false, fmt.Sprintf("global %d (%s) is %s in the snapshot but %s in the module", i, w.Export, have[i].Kind, w.Type.Type)
		}
	}
	return true, fmt.Sprintf("%d globals match the module's in number and kind", len(want))
}

// hookStatus spells dfx's on_low_wasm_memory_hook_status values as the
// replica's Debug prints OnLowWasmMemoryHookStatus.
var hookStatus = map[string]string{"condition_not_satisfied": "ConditionNotSatisfied", "ready": "Ready", "executed": "Executed"}

// hookCondition is the replica's is_low_wasm_memory_hook_condition_satisfied
// (rs/replicated_state/src/canister_state/system_state.rs):
// wasm_memory_limit < wasm_memory_usage + wasm_memory_threshold, the limit
// 4 GiB when not set. The heap stands for wasm_memory_usage. assumed says
// the threshold was not given (the default, 0, is used).
func hookCondition(heap uint64, set Settings) (satisfied, assumed bool) {
	limit := uint64(4 << 30)
	if set.WasmMemoryLimit != nil && *set.WasmMemoryLimit != 0 {
		limit = *set.WasmMemoryLimit
	}
	var threshold uint64
	if set.WasmMemoryThreshold != nil {
		threshold = *set.WasmMemoryThreshold
	}
	return limit < heap+threshold, set.WasmMemoryThreshold == nil
}

// hookOK is OnLowWasmMemoryHookStatus::is_consistent_with: null always
// passes, condition_not_satisfied when the condition does not hold, ready
// and executed when it does.
func hookOK(s string, cond bool) bool {
	switch s {
	case "":
		return true
	case "condition_not_satisfied":
		return !cond
	}
	return cond
}

func hookDetail(s string, cond bool) string {
	if s == "" {
		return "null, which load accepts whatever the memory state"
	}
	if hookOK(s, cond) {
		return fmt.Sprintf("%s, consistent with the hook's condition (satisfied: %v)", s, cond)
	}
	return fmt.Sprintf("Hook status (Some(%s)) of uploaded snapshot is inconsistent with the canister's state (hook condition satisfied: %v).", hookStatus[s], cond)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func floatName(g snapshots.Global) string {
	f := math.Float64frombits(g.Bits)
	if g.Kind == snapshots.KindF32 {
		f = float64(math.Float32frombits(uint32(g.Bits)))
	}
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "+Inf"
	}
	return "-Inf"
}

func pick(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}
