package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"github.com/canscope/canscope/engine/heap"
	"github.com/canscope/canscope/engine/ic0"
)

// Values of the install_code upgrade option wasm_memory_persistence;
// PersistenceUnset is the option left out.
const (
	PersistenceUnset   = ""
	PersistenceKeep    = "keep"
	PersistenceReplace = "replace"
)

// UpgradeOptionError is the replica's refusal of an upgrade's options,
// before any code runs (CanisterManagerError::MissingUpgradeOptionError and
// InvalidUpgradeOptionError, both IC0504).
type UpgradeOptionError struct {
	// Code is the replica's error code.
	Code ic0.ErrorCode
	// Text is the replica's message.
	Text string
}

// Error returns the code and the replica's message.
func (e *UpgradeOptionError) Error() string { return fmt.Sprintf("%s %s", e.Code, e.Text) }

// MainMemoryHandling decides, as the replica's determine_main_memory_handling
// does (rs/execution_environment/src/execution/upgrade.rs), whether an
// upgrade keeps the main memory (heap) or replaces it, given whether the
// old and the new module expect enhanced orthogonal persistence
// (wasm.Module.ExpectsEOP) and the
// wasm_memory_persistence option (PersistenceUnset, PersistenceKeep or
// PersistenceReplace). Its two safety checks refuse an upgrade of an EOP
// canister that leaves the option out, and keep onto a module without EOP;
// the messages and code are the replica's (canister_manager.rs, From
// CanisterManagerError for UserError).
func MainMemoryHandling(oldEOP, newEOP bool, persistence string) (keep bool, err error) {
	switch persistence {
	case PersistenceUnset:
		if oldEOP {
			return false, &UpgradeOptionError{Code: ic0.CodeCanisterContractViolation,
				Text: "Missing upgrade option: Enhanced orthogonal persistence requires the `wasm_memory_persistence` upgrade option."}
		}
		return false, nil
	case PersistenceKeep:
		if !newEOP {
			return false, &UpgradeOptionError{Code: ic0.CodeCanisterContractViolation,
				Text: "Invalid upgrade option: The `wasm_memory_persistence: opt Keep` upgrade option requires that the new canister module supports enhanced orthogonal persistence."}
		}
		return true, nil
	case PersistenceReplace:
		return false, nil
	}
	return false, fmt.Errorf("wasm_memory_persistence %q: want keep or replace", persistence)
}

// ExpectsEOP reports whether m carries the enhanced-orthogonal-persistence
// metadata (wasm.Module.ExpectsEOP): the replica then keeps its heap on
// an upgrade with wasm_memory_persistence keep and requires the option.
func (m *Module) ExpectsEOP() bool { return m.info.ExpectsEOP() }

// maxKeepRun bounds the pages of one write when a heap is kept (64 MiB),
// so the byte count fits the 32-bit read of the old memory.
const maxKeepRun = 1024

// instantiateOnKept instantiates inc over a copy of old's committed heap,
// as the replica upgrades with main memory handling Keep: it builds the
// new execution state (a fresh memory with the data segments) and then
// replaces its memory with the old one
// (rs/execution_environment/src/execution/install_code.rs,
// replace_execution_state_and_allocations: `MemoryHandling::Keep =>
// execution_state.wasm_memory = old.wasm_memory`). So the data segments
// are not applied, the globals are the new module's initial values, and
// the start function and canister_post_upgrade then run on the kept heap
// (upgrade.rs, stages 3b and 3c). The heap kept is old's as pre_upgrade
// left it (upgrade.rs stage 1 applies pre_upgrade's changes to the old
// execution state first).
func (c *Canister) instantiateOnKept(ctx context.Context, inc, old *incarnation) error {
	pages, size, err := old.livePages()
	if err != nil {
		return fmt.Errorf("keep the heap: %w", err)
	}
	minPages, _, _ := inc.mod.Memory()
	if size < minPages*PageSize {
		return fmt.Errorf("keep the heap: the kept heap of %d pages is smaller than the new module's minimum memory of %d pages", size/PageSize, minPages)
	}
	if size > inc.heap.Max() {
		return fmt.Errorf("keep the heap: the kept heap of %d pages exceeds the new module's maximum memory of %d pages", size/PageSize, inc.heap.Max()/PageSize)
	}
	if err := inc.heap.SetSize(size); err != nil {
		return fmt.Errorf("keep the heap: %w", err)
	}
	mem := old.inst.Memory()
	// One write per run of consecutive pages (a write per page cost 4×).
	for i := 0; i < len(pages); {
		j := i + 1
		for j < len(pages) && pages[j] == pages[j-1]+1 && j-i < maxKeepRun {
			j++
		}
		buf, ok := mem.Read(uint32(pages[i]*PageSize), uint32(j-i)*PageSize)
		if !ok {
			return fmt.Errorf("keep the heap: pages %d-%d lie beyond the old memory", pages[i], pages[j-1])
		}
		if err := inc.heap.WriteAt(buf, pages[i]*PageSize); err != nil {
			return fmt.Errorf("keep the heap: %w", err)
		}
		i = j
	}
	// The copy's Changed starts empty: it carries what the old heap had
	// changed since the last Mark and what pre_upgrade wrote or grew, so
	// a child snapshot stores those pages, not the whole kept heap.
	carried, err := old.changedLive()
	if err != nil {
		return fmt.Errorf("keep the heap: %w", err)
	}
	inc.heap.ResetChanged()
	inc.kept, inc.carried = true, carried
	// Copied: release the pages pre_upgrade wrote, as Upgrade does for a
	// replaced heap.
	if _, err := old.heap.Rollback(); err != nil {
		return fmt.Errorf("keep the heap: discard pre_upgrade's heap: %w", err)
	}
	if err := c.instantiate(ctx, inc, true); err != nil {
		return err
	}
	// The instance's globals are the new module's initial values; its
	// data segments went into the memory the replica discards.
	inc.readGlobals()
	if _, err := inc.heap.Rollback(); err != nil {
		return fmt.Errorf("keep the heap: %w", err)
	}
	if mem := inc.inst.Memory(); mem != nil {
		want := uint32(size / PageSize)
		if have := uint32(ic0.MemoryBytes(mem) / PageSize); have < want {
			if _, ok := mem.Grow(want - have); !ok {
				return fmt.Errorf("keep the heap: cannot grow memory from %d to %d pages", have, want)
			}
		}
	}
	return nil
}

// livePages lists the 64 KiB pages of inc's memory as the last execution
// left it that hold a non-zero byte (pre_upgrade's writes are part of the
// heap the replica keeps, though canscope has not committed them yet),
// and the memory's size in bytes. It reads the live memory in place.
func (inc *incarnation) livePages() ([]uint64, uint64, error) {
	mem := inc.inst.Memory()
	size := ic0.MemoryBytes(mem)
	var pages []uint64
	for p := uint64(0); p < size/PageSize; p++ {
		b, ok := mem.Read(uint32(p*PageSize), PageSize)
		if !ok {
			return nil, 0, fmt.Errorf("page %d lies beyond the memory of %d bytes", p, size)
		}
		if !zeroPage(b) {
			pages = append(pages, p)
		}
	}
	return pages, size, nil
}

// zeroPage reports whether b holds only zero bytes.
func zeroPage(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// changedLive lists the wasm pages of inc's heap that differ from the
// state at the canister's last Mark, running execution included: the
// pages its heap changed and carried since, the ones the running
// execution wrote and the ones it grew.
func (inc *incarnation) changedLive() ([]uint64, error) {
	set := map[uint64]struct{}{}
	for _, p := range inc.carried {
		set[p] = struct{}{}
	}
	for _, p := range inc.heap.Changed() {
		set[uint64(p)] = struct{}{}
	}
	dirty, err := inc.heap.Dirty()
	if err != nil {
		return nil, err
	}
	for _, p := range dirty {
		set[uint64(p)*heap.OSPageSize/PageSize] = struct{}{}
	}
	for p := inc.heap.Size() / PageSize; p < ic0.MemoryBytes(inc.inst.Memory())/PageSize; p++ {
		set[p] = struct{}{}
	}
	return slices.Sorted(maps.Keys(set)), nil
}
