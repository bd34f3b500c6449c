package workbench

import (
	"context"
	"errors"
	"fmt"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/ic0"
)

// The names of a rehearsal's steps, as the CLI's JSON and the UI show them.
const (
	// StepUpgrade is the upgrade itself: the old module's pre_upgrade on
	// the captured state, then the new module's start and post_upgrade.
	StepUpgrade = "upgrade"
	// StepUpgradeAgain upgrades the new module onto itself, so the
	// pre_upgrade the next real upgrade will run runs too.
	StepUpgradeAgain = "upgrade again"
)

// RehearsalOptions say what a rehearsal upgrades to and who watches it.
type RehearsalOptions struct {
	// Module is the new module; nil upgrades the canister's module onto
	// itself.
	Module *engine.Module
	// Arg is canister_post_upgrade's argument; nil sends
	// candid.DefaultArg, as dfx and icp-cli do without an argument.
	Arg []byte
	// SkipPreUpgrade does not run the old module's pre_upgrade in the
	// first step (the second always runs the new one's).
	SkipPreUpgrade bool
	// Persistence is the upgrade option wasm_memory_persistence
	// (engine.PersistenceUnset, PersistenceKeep or PersistenceReplace);
	// with engine.MainMemoryHandling it decides whether each step keeps the
	// heap, as the replica does, and an option the replica refuses is the
	// replica's error (*engine.UpgradeOptionError) before anything runs.
	Persistence string
	// Again upgrades a second time to the same module after a first
	// upgrade that succeeded (StepUpgradeAgain).
	Again bool
	// AfterUpgrade, when set, runs after a first upgrade that succeeded
	// and before the second: the canister then holds the state the real
	// upgrade would produce (the CLI commits it here). An error stops the
	// rehearsal.
	AfterUpgrade func(ctx context.Context) error
	// Progress, when set, hears each step as it finishes.
	Progress func(UpgradeStep)
	// Verify are queries called before the upgrade and after each step
	// that succeeded (Rehearsal.Verify): did the data survive?
	Verify []Query
	// Recorder, when set, also sees every System API call of the steps
	// (the rehearsal counts stable writes through the same hook, so it
	// replaces any recorder the canister was opened with for its steps).
	Recorder ic0.Recorder
	// Discard reports the upgrade as the others do but leaves the
	// canister as it was (engine.UpgradeOptions.Discard), so the Run can
	// run it again: a traced upgrade re-executes it for every jump. It
	// excludes Again, AfterUpgrade and Verify, which need the upgraded
	// canister.
	Discard bool
}

// UpgradeStep is one upgrade of a rehearsal.
type UpgradeStep struct {
	// Name is StepUpgrade or StepUpgradeAgain.
	Name string
	// Result is the engine's result: status, trap, instructions per
	// phase, limits, changed pages.
	Result engine.Result
	// StableBytesWritten counts the bytes the step's stable_write and
	// stable64_write calls wrote, kept or rolled back.
	StableBytesWritten uint64
	// StableBytesRead counts the bytes the step's stable_read and
	// stable64_read calls read.
	StableBytesRead uint64
	// PostUpgradeOK reports that canister_post_upgrade ran and the step
	// succeeded; false when the module has none or the step trapped.
	PostUpgradeOK bool
	// MainMemory is what the step did with the heap, "kept" or
	// "replaced", and MainMemoryReason why (the replica's rule).
	MainMemory       string
	MainMemoryReason string
}

// Heap handling of a step (UpgradeStep.MainMemory).
const (
	HeapKept     = "kept"
	HeapReplaced = "replaced"
)

// ToolPersistence is the wasm_memory_persistence option icp-cli sends
// when its flag is left out: keep for a canister whose installed module
// declares enhanced orthogonal persistence, none otherwise
// (crates/icp-cli/src/operations/install.rs: is_eop_canister, "default to
// Keep"). Rehearsals that take no option from the operator (the UI's,
// headroom's) use it, so they upgrade an EOP canister as the tool would.
func ToolPersistence(installed *engine.Module) string {
	if installed != nil && installed.ExpectsEOP() {
		return engine.PersistenceKeep
	}
	return engine.PersistenceUnset
}

// mainMemory applies the replica's determine_main_memory_handling to an
// upgrade from old to next with option persistence: whether the heap is
// kept, and why in words.
func mainMemory(old, next *engine.Module, persistence string) (bool, string, error) {
	oldEOP, newEOP := old.ExpectsEOP(), next.ExpectsEOP()
	keep, err := engine.MainMemoryHandling(oldEOP, newEOP, persistence)
	if err != nil {
		return false, "", err
	}
	switch {
	case keep:
		return true, "wasm_memory_persistence keep onto a module with enhanced orthogonal persistence: the IC keeps the heap and runs the new module on it (its data segments are not applied)", nil
	case persistence == engine.PersistenceReplace:
		return false, "wasm_memory_persistence replace: the IC discards the heap", nil
	}
	return false, "no wasm_memory_persistence option and the canister does not declare enhanced orthogonal persistence: the IC discards the heap", nil
}

// OK reports whether the step succeeded.
func (s UpgradeStep) OK() bool { return s.Result.Status == engine.StatusOK }

// Rehearsal is the outcome of an upgrade rehearsal on a Run: its steps in
// order, ending at the first that did not succeed.
type Rehearsal struct {
	Steps []UpgradeStep
	// Skipped is set when the first step ran with SkipPreUpgrade: what
	// post_upgrade read in place of the discarded heap.
	Skipped *SkippedPreUpgrade
	// Verify holds the replies of RehearsalOptions.Verify, in its order.
	Verify []Verification
}

// OK reports whether every step ran and succeeded.
func (r Rehearsal) OK() bool {
	for _, s := range r.Steps {
		if !s.OK() {
			return false
		}
	}
	return len(r.Steps) > 0
}

// Last returns the last step that ran; the zero step when none did.
func (r Rehearsal) Last() UpgradeStep {
	if len(r.Steps) == 0 {
		return UpgradeStep{}
	}
	return r.Steps[len(r.Steps)-1]
}

// Rehearse upgrades the run's canister as the real upgrade would (the
// old pre_upgrade on the captured state, then the new module) and, with
// o.Again, once more to the same module so the new pre_upgrade runs too.
// The canister keeps the state of the last successful step; nothing
// reaches the store unless o.AfterUpgrade commits. The CLI's `upgrade`,
// the UI's rehearsal and traced upgrades all run through here, so they
// send the same argument and report the same steps. A cancelled ctx
// returns its error: a step it interrupted says nothing.
func (r *Run) Rehearse(ctx context.Context, o RehearsalOptions) (Rehearsal, error) {
	arg := o.Arg
	if arg == nil {
		arg = candid.DefaultArg()
	}
	var out Rehearsal
	if err := ctx.Err(); err != nil {
		return out, err
	}
	if o.Discard && (o.Again || o.AfterUpgrade != nil || len(o.Verify) > 0) {
		return out, errors.New("rehearse: a discarded upgrade leaves nothing to upgrade again, commit or verify")
	}
	if len(o.Verify) > 0 {
		before, err := r.verifyAll(ctx, o.Verify)
		if err != nil {
			return out, err
		}
		for i, q := range o.Verify {
			out.Verify = append(out.Verify, Verification{Query: q, Before: before[i]})
		}
	}
	from := r.Canister.Module()
	to := o.Module
	if to == nil {
		to = from
	}
	keepFirst, whyFirst, err := mainMemory(from, to, o.Persistence)
	if err != nil {
		return out, err
	}
	step := func(name string, mod *engine.Module, opts engine.UpgradeOptions, why string) (UpgradeStep, error) {
		w := &stableWrites{next: o.Recorder, read: map[uint64]struct{}{}}
		r.Canister.SetRecorder(w)
		defer r.Canister.SetRecorder(nil)
		res, err := r.Canister.Upgrade(ctx, mod, arg, opts)
		if cerr := ctx.Err(); cerr != nil {
			return UpgradeStep{}, cerr
		}
		if err != nil {
			if name == StepUpgrade {
				return UpgradeStep{}, err // the engine's error says "upgrade"
			}
			return UpgradeStep{}, fmt.Errorf("%s: %w", name, err)
		}
		s := UpgradeStep{Name: name, Result: res, StableBytesWritten: w.bytes, StableBytesRead: w.readBytes,
			MainMemory: HeapReplaced, MainMemoryReason: why}
		if opts.KeepMainMemory {
			s.MainMemory = HeapKept
		}
		if name == StepUpgrade && o.SkipPreUpgrade {
			sk, err := r.skippedPreUpgrade(w.readBytes, w.read)
			if err != nil {
				return UpgradeStep{}, err
			}
			out.Skipped = &sk
		}
		for _, p := range res.Phases {
			if p.Name == "post_upgrade" {
				s.PostUpgradeOK = res.Status == engine.StatusOK
			}
		}
		out.Steps = append(out.Steps, s)
		if s.OK() && len(o.Verify) > 0 {
			r.Canister.SetRecorder(nil) // the queries are not part of the step
			after, err := r.verifyAll(ctx, o.Verify)
			if err != nil {
				return s, err
			}
			for i := range out.Verify {
				out.Verify[i].After = append(out.Verify[i].After, after[i])
			}
		}
		if o.Progress != nil {
			o.Progress(s)
		}
		return s, nil
	}
	first, err := step(StepUpgrade, o.Module, engine.UpgradeOptions{SkipPreUpgrade: o.SkipPreUpgrade, KeepMainMemory: keepFirst, Discard: o.Discard}, whyFirst)
	if err != nil || !first.OK() {
		return out, err
	}
	if o.AfterUpgrade != nil {
		if err := o.AfterUpgrade(ctx); err != nil {
			return out, err
		}
	}
	if o.Again {
		// nil: the module the first step installed, with the same option.
		keep, why, err := mainMemory(to, to, o.Persistence)
		if err != nil {
			return out, fmt.Errorf("%s: %w", StepUpgradeAgain, err)
		}
		if _, err := step(StepUpgradeAgain, nil, engine.UpgradeOptions{KeepMainMemory: keep}, why); err != nil {
			return out, err
		}
	}
	return out, nil
}

// stableWrites is an ic0.Recorder counting the bytes a canister writes to
// stable memory, passing every call on to next.
type stableWrites struct {
	bytes uint64
	// readBytes and read are the bytes and the pages stable reads took.
	readBytes uint64
	read      map[uint64]struct{}
	next      ic0.Recorder
}

// SystemCall implements ic0.Recorder.
func (w *stableWrites) SystemCall(name string, params, results []uint64) {
	if len(params) == 3 {
		switch name {
		case "stable64_write":
			w.bytes += params[2]
		case "stable_write":
			// An i32 parameter arrives as a raw 64-bit stack value whose
			// upper half wazero does not clear.
			w.bytes += uint64(uint32(params[2]))
		case "stable64_read":
			w.noteRead(params[1], params[2], results)
		case "stable_read":
			w.noteRead(uint64(uint32(params[1])), uint64(uint32(params[2])), results)
		}
	}
	if w.next != nil {
		w.next.SystemCall(name, params, results)
	}
}

// noteRead counts a stable read of size bytes at off that returned (a
// trapped call has nil results and read nothing).
func (w *stableWrites) noteRead(off, size uint64, results []uint64) {
	if results == nil || size == 0 || w.read == nil {
		return
	}
	w.readBytes += size
	for p := off / engine.PageSize; p <= (off+size-1)/engine.PageSize; p++ {
		w.read[p] = struct{}{}
	}
}
