package source

import (
	"context"

	"github.com/canscope/canscope/snapshots"
)

// CompatCheck is one named compatibility check of a module against a
// snapshot's state, e.g. "memory limits".
type CompatCheck struct {
	Name   string
	OK     bool
	Detail string
}

// CompatReport says whether a module can take over a snapshot's heap,
// stable memory and globals: the checks by name, the methods callers would
// lose, and the candid:service lines only the old ("- ...") or the new
// ("+ ...") module has.
type CompatReport struct {
	Checks         []CompatCheck
	RemovedExports []string
	CandidDiff     []string
	// ChangedFunctions are the functions the fixed module changes, adds
	// or removes, e.g. "changed canister_query checksum" (the heap-layout
	// check's function-level diff).
	ChangedFunctions []string
}

// OK reports whether every check passed.
func (r CompatReport) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// TransplantRequest names the snapshot a transplant makes and whether it
// goes ahead although a check failed.
type TransplantRequest struct {
	Name  string // "" means the base snapshot's name
	Force bool
}

// RehearsalStep is one upgrade of a rehearsal.
type RehearsalStep struct {
	Name               string   // "upgrade" or "upgrade again"
	Status             string   // "ok", "trapped" or "rejected", as the CLI's JSON says
	TrapMessage        string   // the trap message, or a rejected step's reject text
	TrapFunction       string   // the canister function that trapped
	Backtrace          []string // the canister functions on the stack at the trap, innermost first
	Instructions       uint64
	Limit              uint64 // the message's instruction limit; 0 when unmetered
	StablePagesChanged int    // stable pages the step wrote and kept
	StableBytesWritten uint64 // bytes the step's stable_write calls wrote
	PostUpgradeOK      bool   // canister_post_upgrade ran and the step succeeded
}

// OK reports whether the step succeeded.
func (s RehearsalStep) OK() bool { return s.Status == "ok" }

// Rehearsal is the outcome of upgrading a snapshot's canister twice to its
// own module, in memory: the first upgrade runs the current pre_upgrade,
// the second the one the next real upgrade will run. Steps stops at the
// first step that did not succeed.
type Rehearsal struct {
	Steps []RehearsalStep
	// Verify are the module's argument-less queries, called before the
	// upgrade and after each step that succeeded (as `canscope upgrade
	// --verify` calls them); empty for a module without candid:service.
	Verify []VerifiedQuery
}

// VerifiedQuery is one query of a rehearsal's data-survival check.
type VerifiedQuery struct {
	Method string
	Before string   // the reply as Candid text, or "trapped: <error>"
	After  []string // the same after each step that succeeded
	Same   bool     // replied the same value before and after every step
}

// DataSurvived reports whether every verified query replied the same.
func (r Rehearsal) DataSurvived() bool {
	for _, v := range r.Verify {
		if !v.Same {
			return false
		}
	}
	return true
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

// Transplanter repairs a stuck canister offline: it puts a fixed module
// onto a snapshot's captured state (as an uploaded dfx snapshot replaces a
// module without running its pre_upgrade) and rehearses the upgrades that
// follow. Check and Rehearse write nothing; Transplant writes one snapshot
// (made_by "transplant") and refuses a failing report unless forced.
type Transplanter interface {
	Check(ctx context.Context, base snapshots.ID, module []byte) (CompatReport, error)
	Transplant(ctx context.Context, base snapshots.ID, module []byte, req TransplantRequest) (snapshots.Snapshot, CompatReport, error)
	// Rehearse reports each finished step to progress (from the running
	// goroutine) as it completes; cancelling ctx stops it.
	Rehearse(ctx context.Context, id snapshots.ID, progress func(RehearsalStep)) (Rehearsal, error)
}
