package main

import (
	"encoding/json"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/snapcheck"
	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
)

// transplantJSON is transplant's --json output.
type transplantJSON struct {
	OK       bool                `json:"ok"`
	Report   workbench.Report    `json:"report"`
	Snapshot *snapshots.Snapshot `json:"snapshot"`
}

// restoreJSON is restore's --json output: export's, plus the commands.
type restoreJSON struct {
	exportJSON
	CanisterID string   `json:"canister_id"`
	Commands   []string `json:"commands"`
	// Tool is the tool the commands are for (icp or dfx); Upgrade the
	// rehearsed upgrade to run after them; Notes what to watch for.
	Tool    string   `json:"tool"`
	Upgrade string   `json:"upgrade"`
	Notes   []string `json:"notes"`
}

// runJSON is the --json result of call and upgrade (README.md,
// "Commands", the CLI contract): the listed fields are stable; others may
// be added.
type runJSON struct {
	Status             string      `json:"status"`
	Trap               *trapJSON   `json:"trap"`
	Reject             *rejectJSON `json:"reject,omitempty"`
	Error              string      `json:"error,omitempty"`
	Instructions       uint64      `json:"instructions"`
	Phases             []phaseJSON `json:"phases"`
	Limit              uint64      `json:"limit"`
	HeapPagesChanged   int         `json:"heap_pages_changed"`
	StablePagesChanged int         `json:"stable_pages_changed"`
	ReplyHex           string      `json:"reply_hex"`
	ReplyCandid        string      `json:"reply_candid,omitempty"`
	DebugPrints        []string    `json:"debug_prints"`
	Calls              []callJSON  `json:"calls,omitempty"`
	// OfflineCalls lists the calls that were not really performed
	// (call_perform answered SYS_TRANSIENT at once): the outcome depended
	// on a failure the IC would not have produced. Always present.
	OfflineCalls []callJSON `json:"offline_calls"`
	// Awaiting counts the calls held unanswered (status "awaiting").
	Awaiting int `json:"awaiting,omitempty"`
	// UnusedAnswers names the scripted answers no call took.
	UnusedAnswers []string `json:"unused_answers,omitempty"`
	// Certificate is set when the query read a data certificate: canscope
	// signed it with a local key, whose DER public key is RootKeyHex (also
	// ic0.root_key); it does not verify against mainnet's root key.
	Certificate *certificateJSON `json:"data_certificate,omitempty"`
	// Inspect is canister_inspect_message's verdict (call --inspect).
	Inspect *inspectJSON `json:"inspect,omitempty"`
	// Cycles is what the update did with the cycles attached (--cycles).
	Cycles         *cyclesJSON `json:"cycles,omitempty"`
	Steps          []stepJSON  `json:"steps,omitempty"`
	SkipPreUpgrade *skipJSON   `json:"skip_pre_upgrade,omitempty"`
	// WasmMemoryPersistence is upgrade's wasm_memory_persistence option
	// ("keep", "replace", "" when left out).
	WasmMemoryPersistence string `json:"wasm_memory_persistence,omitempty"`
	// StableTypes is moc's verdict on two Motoko modules' stable types
	// (upgrade), compared before the rehearsal.
	StableTypes *workbench.StableTypes `json:"stable_types,omitempty"`
	Verify      []verifyJSON           `json:"verify,omitempty"`
	Snapshot    *snapshots.Snapshot    `json:"snapshot"`
	// Limits is the headroom report: each replica limit with what the
	// run used ({"name", "used", "limit"}; limit 0 means none).
	Limits []engine.LimitUse `json:"limits"`
}

// verifyJSON is one query of upgrade --verify: its replies before the
// upgrade and after each step that succeeded.
type verifyJSON struct {
	Method  string      `json:"method"`
	Arg     string      `json:"arg"`
	Before  replyJSON   `json:"before"`
	After   []replyJSON `json:"after"`
	Same    bool        `json:"same"`
	Ignored bool        `json:"ignored,omitempty"`
}

// replyJSON is one call of a verify query.
type replyJSON struct {
	Status string `json:"status"`
	Candid string `json:"candid,omitempty"`
	Hex    string `json:"hex"`
	Error  string `json:"error,omitempty"`
}

// skipJSON is what an upgrade with --skip-pre-upgrade did with the state
// (workbench.SkippedPreUpgrade).
type skipJSON struct {
	HeapDiscarded   bool                `json:"heap_discarded"`
	StableBytesRead uint64              `json:"stable_bytes_read"`
	StableReadZeros bool                `json:"stable_read_all_zero"`
	LastWrittenAt   *snapshots.Snapshot `json:"last_written_at"`
	Verdict         string              `json:"verdict"`
}

type trapJSON struct {
	Message   string   `json:"message"`
	Reason    string   `json:"reason"`
	Code      string   `json:"code"`
	Function  string   `json:"function"`
	Raw       string   `json:"raw,omitempty"` // Function's mangled name-section name, when it differs
	Offset    uint64   `json:"offset"`
	Backtrace []string `json:"backtrace,omitempty"`
}

// certificateJSON says which key signed the data certificate a query read.
type certificateJSON struct {
	RootKeyHex string `json:"root_key_hex"`
	Note       string `json:"note"`
}

// inspectJSON is canister_inspect_message's verdict on an ingress
// message: "accepted" or "rejected" (error: the replica's text).
type inspectJSON struct {
	Verdict      string `json:"verdict"`
	Error        string `json:"error,omitempty"`
	Instructions uint64 `json:"instructions"`
}

// cyclesJSON is what a message did with the cycles attached to it
// (decimal numbers: amounts go up to 2^128-1).
type cyclesJSON struct {
	Attached json.Number `json:"attached"`
	Accepted json.Number `json:"accepted"`
	Refunded json.Number `json:"refunded"`
	// CallFees is what the message's outgoing calls paid.
	CallFees *callFeesJSON `json:"call_fees,omitempty"`
}

// callFeesJSON is what outgoing calls paid: withdrawn at call_perform
// (transmission fee and the reservations for the largest response and the
// longest callback), refunded with the responses, and the difference.
type callFeesJSON struct {
	Withdrawn json.Number `json:"withdrawn"`
	Refunded  json.Number `json:"refunded"`
	Charged   json.Number `json:"charged"`
}

type rejectJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// callJSON is one outgoing call of a run and what answered it.
type callJSON struct {
	Callee string `json:"callee"`
	Method string `json:"method"`
	ArgHex string `json:"arg_hex"`
	// Answer says what completed the call, in words: "not performed
	// offline: ..." (in offline_calls too), "held: ...", "reply ..." or
	// "reject ...".
	Answer string `json:"answer,omitempty"`
	// Response is the scripted answer; Callback and Cleanup how the
	// callbacks it ran ended.
	Response *responseJSON  `json:"response,omitempty"`
	Callback *executionJSON `json:"callback,omitempty"`
	Cleanup  *executionJSON `json:"cleanup,omitempty"`
	// SelfCall is the status of the call's method when the call went to
	// the canister itself and canscope executed it.
	SelfCall string `json:"self_call,omitempty"`
	// Fees is what the call paid (absent when call_perform made none).
	Fees *callFeesJSON `json:"fees,omitempty"`
}

// responseJSON is a scripted answer to a call: a reply (hex, and Candid
// when it decodes) or a reject (code and message).
type responseJSON struct {
	Kind          string `json:"kind"`
	ReplyHex      string `json:"reply_hex,omitempty"`
	ReplyCandid   string `json:"reply_candid,omitempty"`
	RejectCode    uint32 `json:"reject_code,omitempty"`
	RejectMessage string `json:"reject_message,omitempty"`
}

// executionJSON is one callback or cleanup execution.
type executionJSON struct {
	Name         string    `json:"name"`
	Status       string    `json:"status"`
	Trap         *trapJSON `json:"trap"`
	Instructions uint64    `json:"instructions"`
}

// phaseJSON is one execution inside an operation (pre_upgrade, start,
// post_upgrade) with the instructions it used.
type phaseJSON struct {
	Name         string `json:"name"`
	Instructions uint64 `json:"instructions"`
	// DirtyHeapPages is the 4 KiB heap pages the execution wrote, each
	// charged dirty_page_overhead within Instructions.
	DirtyHeapPages uint64 `json:"dirty_heap_pages,omitempty"`
}

// stepJSON is one upgrade of a rehearsal. StableBytesWritten and
// PostUpgradeOK say whether the data passed through: the upgrade wrote
// stable memory (pre_upgrade saving state; bytes written, whether or not
// they differ from what was there) and post_upgrade ran without trapping.
type stepJSON struct {
	Step               string      `json:"step"`
	Status             string      `json:"status"`
	Trap               *trapJSON   `json:"trap"`
	Instructions       uint64      `json:"instructions"`
	Phases             []phaseJSON `json:"phases"`
	StablePagesChanged int         `json:"stable_pages_changed"`
	StableBytesWritten uint64      `json:"stable_bytes_written"`
	StableBytesRead    uint64      `json:"stable_bytes_read"`
	PostUpgradeOK      bool        `json:"post_upgrade_ok"`
	// Limits is the step's headroom report (as runJSON's).
	Limits []engine.LimitUse `json:"limits"`
	// MainMemory is what the step did with the heap, "kept" or
	// "replaced" (the replica's rule for the wasm_memory_persistence
	// option), and MainMemoryReason why.
	MainMemory       string `json:"main_memory,omitempty"`
	MainMemoryReason string `json:"main_memory_reason,omitempty"`
}

// snapshotResult is the JSON of every store command that makes a
// snapshot: {"snapshot": {...}}.
type snapshotResult struct {
	Snapshot snapshots.Snapshot `json:"snapshot"`
}

// exportJSON is export's --json output.
type exportJSON struct {
	Dir      string             `json:"dir"`
	Snapshot snapshots.Snapshot `json:"snapshot"`
	// Check is the IC's upload and load checks run before the export.
	Check *snapcheck.Report `json:"check,omitempty"`
}

// showJSON is `show --json`: the snapshot object plus the details only
// show prints.
type showJSON struct {
	snapshots.Snapshot
	Ref               string               `json:"ref"`
	Lineage           []lineageJSON        `json:"lineage"`
	Globals           []snapshots.Global   `json:"globals"`
	CertifiedData     string               `json:"certified_data"`
	GlobalTimer       snapshots.TimerState `json:"global_timer"`
	LowWasmMemoryHook *string              `json:"on_low_wasm_memory_hook_status"`
	Chunks            []snapshots.Hash     `json:"wasm_chunk_store"`
	ModuleBytes       int                  `json:"module_bytes"`
	Exports           []string             `json:"exports"`
	Candid            *string              `json:"candid"`
	ModuleMetadata    []string             `json:"module_metadata"`
	// ModuleError says why exports and candid are missing, "" when the
	// module parsed.
	ModuleError string `json:"module_error,omitempty"`
}

// lineageJSON is one ancestor, root first.
type lineageJSON struct {
	ID     snapshots.ID     `json:"id"`
	Ref    string           `json:"ref"`
	MadeBy snapshots.MadeBy `json:"made_by"`
}

// elidedJSON is a range of events trace did not record.
type elidedJSON struct {
	trace.Span
	See string `json:"see"`
}

// traceJSON is the --json output of trace apart from "events", which
// writeTraceJSON streams ahead of these fields: the event stream, the result
// as `call --json` prints it, and the checkpoint when one was asked for.
type traceJSON struct {
	// TotalEvents counts every event of the run, recorded or not.
	TotalEvents int `json:"total_events"`
	// Truncated is set when Elided is not empty.
	Truncated bool `json:"truncated,omitempty"`
	// Elided lists the events not recorded and the command that prints
	// them.
	Elided     []elidedJSON        `json:"elided,omitempty"`
	Result     runJSON             `json:"result"`
	Checkpoint *snapshots.Snapshot `json:"checkpoint,omitempty"`
}
