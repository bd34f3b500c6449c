package engine

import (
	"cmp"
	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
)

// slicing models the replica's deterministic time slicing for one
// execution (rs/canister_sandbox/src/dts.rs, State and try_pause): the
// execution runs in slices of the slice limit; when one operation's charge
// drives the counter so far below zero that the next slice would have no
// instructions left (the carry-over reaches the slice limit), the
// execution fails with SliceOverrun. canscope runs the execution in one
// go, so slice boundaries are placed where the replica places them when
// the counter crosses zero between System API calls (with no carry-over);
// a charge is checked against the slice it falls in.
type slicing struct {
	on         bool
	total      uint64 // the execution's instruction limit (what is left of the message's)
	start      uint64 // instructions of the message before the current slice
	sliceLimit uint64 // the current slice's limit
	maxSlice   uint64
	slicesLeft uint64
	base       uint64 // instructions of the message before this execution
}

// maxSlices is MAX_NUM_SLICES in dts.rs.
const maxSlices = 400

// newSlicing starts the slicing of an execution that begins after used
// instructions of a message with the given limit; slice 0 turns it off.
func newSlicing(used, limit, slice uint64) slicing {
	if slice == 0 || used >= limit {
		return slicing{}
	}
	total := limit - used
	maxSlice := min(slice, total)
	n := min(total/max(maxSlice, 1), maxSlices)
	return slicing{on: true, total: total, start: 0, sliceLimit: maxSlice, maxSlice: maxSlice,
		slicesLeft: min(max(2*n, 4), maxSlices), base: used}
}

// charge checks a charge of n instructions when the execution has used
// used instructions so far (message-wide) and returns the trap the
// replica raises for it, or nil.
func (s *slicing) charge(used, n uint64) *ic0.Trap {
	if !s.on || used < s.base {
		return nil
	}
	done := used - s.base // executed in this execution
	for done-s.start > s.sliceLimit && s.slicesLeft > 1 {
		// The counter crossed zero in plain wasm code: the replica paused
		// there and started the next slice.
		s.start += s.sliceLimit
		s.sliceLimit = min(s.maxSlice, s.total-min(s.start, s.total))
		s.slicesLeft--
	}
	left := s.start + s.sliceLimit - min(done, s.start+s.sliceLimit)
	if n <= left {
		return nil
	}
	// The counter goes negative: out_of_instructions (try_pause).
	if s.sliceLimit >= s.total-min(s.start, s.total) || s.slicesLeft <= 1 {
		return nil // the last slice: the ordinary instruction limit applies
	}
	newly := done + n - s.start
	carry := newly - s.sliceLimit
	next := uint64(0)
	if carry < s.maxSlice {
		next = min(s.maxSlice-carry, s.total-min(s.start+newly, s.total))
	}
	if next == 0 {
		return ic0.SliceOverrun(newly, s.maxSlice)
	}
	s.start += newly
	s.sliceLimit = next
	s.slicesLeft--
	return nil
}

// CheckCharge implements ic0.SliceMeter.
func (b *budget) CheckCharge(n uint64) *ic0.Trap {
	b.use.largestCharge = max(b.use.largestCharge, n)
	return b.dts.charge(b.Used(), n)
}

// wasmCharge applies the slicing model to a charge made in wasm code
// (memory.fill/copy/init and table.fill/copy/init size charges, block
// costs) when the counter global of mod ran below zero: the charge was at
// least as large as the overshoot, and at most a metering slice
// (meter.DefaultSlice) larger, so a bulk operation charged more than the
// replica's slice can hold fails here as it does there.
func (b *budget) wasmCharge(mod api.Module) *ic0.Trap {
	if b.cur == nil || mod == nil {
		return nil
	}
	g := mod.ExportedGlobal(meter.CounterExport)
	if g == nil {
		return nil
	}
	raw := int64(g.Get())
	if raw >= 0 {
		return nil
	}
	// Not recorded in largestCharge: the overshoot depends on where the
	// metering slice ended, and the report must not.
	over := uint64(-raw)
	used := b.Used()
	return b.dts.charge(used-min(over, used), over)
}

// usage collects what an operation's executions used, for Result.Limits.
type usage struct {
	largestCharge uint64
	// The execution with the highest share of its stable page limits.
	dirtyPages, dirtyLimit       uint64
	accessedPages, accessedLimit uint64
	bytesWritten, bytesRead      uint64
	peakHeap                     uint64
	// heapMax is the IC's heap limit for the module (Module.heapMax).
	heapMax uint64
}

// stable records one execution's stable memory use.
func (u *usage) stable(s ic0.StableUse) {
	if s.DirtyLimit > 0 && (u.dirtyLimit == 0 || s.DirtyPages*u.dirtyLimit > u.dirtyPages*s.DirtyLimit) {
		u.dirtyPages, u.dirtyLimit = s.DirtyPages, s.DirtyLimit
	}
	if s.AccessLimit > 0 && (u.accessedLimit == 0 || s.AccessedPages*u.accessedLimit > u.accessedPages*s.AccessLimit) {
		u.accessedPages, u.accessedLimit = s.AccessedPages, s.AccessLimit
	}
	u.bytesWritten += s.BytesWritten
	u.bytesRead += s.BytesRead
}

// heap records a heap size seen during the operation.
func (u *usage) heap(size uint64) { u.peakHeap = max(u.peakHeap, size) }

// Limit names in Result.Limits (the CLI's JSON "limits" names).
const (
	LimitInstructions        = "instructions"
	LimitStableDirtyBytes    = "stable_dirty_bytes"
	LimitStableAccessedBytes = "stable_accessed_bytes"
	LimitHeapBytes           = "heap_bytes"
	LimitHeapMaxBytes        = "heap_max_bytes"
	LimitLargestSliceCharge  = "largest_slice_charge"
)

// LimitUse is one limit and what an operation used of it.
type LimitUse struct {
	Name  string `json:"name"`
	Used  uint64 `json:"used"`
	Limit uint64 `json:"limit"`
}

// Fraction returns Used/Limit, 0 for an unlimited (zero) limit.
func (l LimitUse) Fraction() float64 {
	if l.Limit == 0 {
		return 0
	}
	return float64(l.Used) / float64(l.Limit)
}

// limitsOf builds the headroom report of an operation: heapAfter is the
// heap it left, wasmLimit the canister's wasm_memory_limit (0: none).
func limitsOf(b *budget, heapAfter, wasmLimit uint64) []LimitUse {
	u := &b.use
	out := []LimitUse{
		{LimitInstructions, b.used, b.limit},
		{LimitStableDirtyBytes, u.dirtyPages * meter.OSPageSize, u.dirtyLimit * meter.OSPageSize},
		{LimitStableAccessedBytes, u.accessedPages * meter.OSPageSize, u.accessedLimit * meter.OSPageSize},
		{LimitHeapBytes, heapAfter, wasmLimit},
		{LimitHeapMaxBytes, max(u.peakHeap, heapAfter), cmp.Or(u.heapMax, meter.MaxHeap)},
	}
	if b.slice > 0 {
		// The largest System API charge (stable memory copies above all);
		// bulk memory operations in wasm are checked against the slice
		// but not measured here.
		out = append(out, LimitUse{LimitLargestSliceCharge, u.largestCharge, b.slice})
	}
	return out
}

// checkWasmMemoryLimit is the replica's wasm_memory_limit check of a heap
// that grew from before to after bytes in an execution of context ctx:
// try_grow_wasm_memory (rs/system_api/src/lib.rs) traps when the grown
// heap passes the limit in ApiType::Init (init, post_upgrade), Start and
// Update (effective_wasm_memory_limit), not in pre_upgrade, queries,
// system tasks or callbacks. A limit of 0 means none.
func (c *Canister) checkWasmMemoryLimit(ctx ic0.Context, before, after uint64) *Trap {
	switch ctx {
	case ic0.Init, ic0.PostUpgrade, ic0.Start, ic0.Update:
	default:
		return nil
	}
	if c.wasmLimit == 0 || after <= before || after <= c.wasmLimit {
		return nil
	}
	return trapOf(ic0.WasmMemoryLimit(after, c.wasmLimit))
}

// trapOf turns a System API trap raised outside wasm into a Trap.
func trapOf(t *ic0.Trap) *Trap {
	return &Trap{Code: t.Code, Reason: t.Reason, Message: t.Error(), Suggestion: t.Suggestion, DocSection: t.DocSection}
}
