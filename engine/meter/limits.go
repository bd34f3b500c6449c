package meter

import (
	"fmt"
	"math"
)

// Per-message instruction limits of the IC on application subnets, from
// dfinity/ic rs/config/src/subnet_config.rs (MAX_INSTRUCTIONS_PER_MESSAGE,
// MAX_INSTRUCTIONS_PER_QUERY_MESSAGE, MAX_INSTRUCTIONS_PER_INSTALL_CODE) and
// rs/config/src/execution_environment.rs
// (MAX_INSTRUCTIONS_FOR_MESSAGE_ACCEPTANCE_CALLS, for inspect_message).
const (
	UpdateLimit         uint64 = 40_000_000_000
	QueryLimit          uint64 = 5_000_000_000
	InstallLimit        uint64 = 300_000_000_000
	InspectMessageLimit uint64 = 200_000_000
)

// SliceLimit is the deterministic time slicing slice of updates and of
// install_code on application subnets (rs/config/src/subnet_config.rs,
// MAX_INSTRUCTIONS_PER_SLICE and MAX_INSTRUCTIONS_PER_INSTALL_CODE_SLICE,
// both 2B). Queries run in one slice (their slice is their limit).
const SliceLimit uint64 = 2_000_000_000

// OSPageSize is the page the replica counts dirty and accessed memory in
// (ic_sys::PAGE_SIZE, 4 KiB).
const OSPageSize = 4096

// Stable memory page limits per execution, in 4 KiB pages, from
// rs/config/src/embedders.rs (STABLE_MEMORY_DIRTY_PAGE_LIMIT_* and
// STABLE_MEMORY_ACCESSED_PAGE_LIMIT_*): 2 GiB for regular messages, 8 GiB
// for install and upgrade, 1 GiB for queries, both for modified (dirty)
// and for accessed pages.
const (
	StablePagesMessage uint64 = 2 << 30 / OSPageSize
	StablePagesUpgrade uint64 = 8 << 30 / OSPageSize
	StablePagesQuery   uint64 = 1 << 30 / OSPageSize
)

// DirtyPageOverhead is the instructions charged per 4 KiB page an
// execution dirties, on application subnets (rs/config/src/subnet_config.rs,
// DEFAULT_DIRTY_PAGE_OVERHEAD; system subnets charge 0).
const DirtyPageOverhead uint64 = 1_000

// CompileCostPerInstruction is what compiling one wasm instruction costs
// in executed instructions (rs/config/src/embedders.rs,
// DEFAULT_COST_TO_COMPILE_WASM_INSTRUCTION).
const CompileCostPerInstruction uint64 = 6_000

// MaxHeap is the largest wasm32 heap, 4 GiB (MAX_WASM_MEMORY_IN_BYTES).
const MaxHeap uint64 = 1 << 32

// DefaultWasmMemoryLimit is the wasm_memory_limit a new canister gets
// (rs/config/src/execution_environment.rs, DEFAULT_WASM_MEMORY_LIMIT).
const DefaultWasmMemoryLimit uint64 = 3 << 30

// WasmMemoryLimitFor returns the wasm_memory_limit the replica gives a
// canister created before the setting existed: the larger of
// DefaultWasmMemoryLimit and halfway from its heap to 4 GiB
// (rs/execution_environment/src/scheduler.rs,
// compute_default_wasm_memory_limit).
func WasmMemoryLimitFor(heapBytes uint64) uint64 {
	return max(DefaultWasmMemoryLimit, (MaxHeap+heapBytes)/2)
}

// PageLimit is a stable memory page limit in 4 KiB pages for each kind of
// execution, the replica's StableMemoryPageLimit.
type PageLimit struct {
	// Message applies to updates, start, heartbeats, timers and callbacks.
	Message uint64
	// Upgrade applies to canister_init, canister_pre_upgrade and
	// canister_post_upgrade (the replica's ApiType::Init and PreUpgrade).
	Upgrade uint64
	// Query applies to queries, composite queries and inspect_message.
	Query uint64
}

// Limits holds the replica's per-execution limits and charges. The zero
// value is not useful; start from DefaultLimits and override fields per
// run. Zero fields are filled from DefaultLimits by WithDefaults.
type Limits struct {
	// Update applies to update calls, timers, heartbeats, the low-memory
	// hook and response callbacks.
	Update uint64
	// Query applies to queries and composite queries.
	Query uint64
	// Install applies to install, reinstall and upgrade as a whole:
	// pre_upgrade, start and post_upgrade (or start and init) together.
	Install uint64
	// InspectMessage applies to canister_inspect_message.
	InspectMessage uint64
	// Slice is the deterministic time slicing slice of updates and
	// install_code (SliceLimit).
	Slice uint64
	// StableDirtyPages and StableAccessedPages bound the 4 KiB stable
	// memory pages one execution may modify and touch.
	StableDirtyPages, StableAccessedPages PageLimit
	// DirtyPageOverhead is charged per dirtied 4 KiB page (heap pages at
	// the end of each execution, stable pages on each write).
	DirtyPageOverhead uint64
	// CompileCost is charged per instruction of a module installed or
	// upgraded to, from the install budget.
	CompileCost uint64
}

// DefaultLimits returns the limits the IC applies on application subnets.
func DefaultLimits() Limits {
	pages := PageLimit{Message: StablePagesMessage, Upgrade: StablePagesUpgrade, Query: StablePagesQuery}
	return Limits{Update: UpdateLimit, Query: QueryLimit, Install: InstallLimit, InspectMessage: InspectMessageLimit,
		Slice: SliceLimit, StableDirtyPages: pages, StableAccessedPages: pages,
		DirtyPageOverhead: DirtyPageOverhead, CompileCost: CompileCostPerInstruction}
}

// WithDefaults returns l with every zero field taken from DefaultLimits.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	for _, f := range []struct{ v, def *uint64 }{
		{&l.Update, &d.Update}, {&l.Query, &d.Query}, {&l.Install, &d.Install}, {&l.InspectMessage, &d.InspectMessage},
		{&l.Slice, &d.Slice},
		{&l.StableDirtyPages.Message, &d.StableDirtyPages.Message}, {&l.StableDirtyPages.Upgrade, &d.StableDirtyPages.Upgrade},
		{&l.StableDirtyPages.Query, &d.StableDirtyPages.Query},
		{&l.StableAccessedPages.Message, &d.StableAccessedPages.Message}, {&l.StableAccessedPages.Upgrade, &d.StableAccessedPages.Upgrade},
		{&l.StableAccessedPages.Query, &d.StableAccessedPages.Query},
		{&l.DirtyPageOverhead, &d.DirtyPageOverhead}, {&l.CompileCost, &d.CompileCost},
	} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	return l
}

// NoCharge is the value of a charge field (DirtyPageOverhead, CompileCost)
// that turns the charge off, as on system subnets; zero means the default.
const NoCharge uint64 = math.MaxUint64

// Charge returns the charge of a field that may hold NoCharge.
func Charge(v uint64) uint64 {
	if v == NoCharge {
		return 0
	}
	return v
}

// LimitError is the trap of a message that ran out of instructions. Its
// text is the replica's (IC0522).
type LimitError struct {
	Limit uint64
}

// Error returns the replica's message for the exceeded limit.
func (e *LimitError) Error() string { return LimitExceededText(e.Limit) }

// LimitExceededText returns the replica's trap text for exceeding limit,
// e.g. "Canister exceeded the limit of 40000000000 instructions for single
// message execution."
func LimitExceededText(limit uint64) string {
	return fmt.Sprintf("Canister exceeded the limit of %d instructions for single message execution.", limit)
}
