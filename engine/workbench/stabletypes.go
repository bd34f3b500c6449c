package workbench

import (
	"errors"
	"fmt"
	"strings"

	"github.com/canscope/canscope/engine/motoko"
	"github.com/canscope/canscope/engine/wasm"
)

// CheckStableTypes is the name of the transplant report's check of two
// Motoko modules' stable signatures.
const CheckStableTypes = "Motoko stable types"

// StableTypes is how moc judges an upgrade from one Motoko module's
// stable signature (motoko:stable-types) to another's.
type StableTypes struct {
	// Compared is set when both modules use enhanced orthogonal
	// persistence, whose runtime check (motoko.MemoryCompatible) decides
	// the upgrade; otherwise Note says why the runtime's verdict is not
	// given.
	Compared bool `json:"compared"`
	// Runtime is that check's verdict: "compatible" or "incompatible".
	Runtime string `json:"runtime,omitempty"`
	// Trap is what the new module traps with when incompatible
	// (motoko.RTSTrap); the IC then rolls the upgrade back.
	Trap string `json:"trap,omitempty"`
	// Incompatibility names the variable and its two types.
	Incompatibility *motoko.Incompatibility `json:"incompatibility,omitempty"`
	// Moc is what `moc --stable-compatible OLD NEW` reports (the check dfx
	// and icp-cli run before an upgrade), empty when it passes.
	Moc []motoko.Incompatibility `json:"moc_stable_compatible"`
	// Added names the stable variables only the new module declares.
	Added []string `json:"added,omitempty"`
	Note  string   `json:"note,omitempty"`
	// Rehearsal is what the rehearsed upgrade showed of the runtime's
	// check (Confirm): "confirmed", "contradicted", "" when it showed
	// nothing (not compared, or the step failed before the check).
	Rehearsal string `json:"rehearsal,omitempty"`
}

// Confirm compares the runtime's verdict with what the rehearsal's first
// step did: a trap with motoko.RTSTrap is the runtime refusing, success
// its accepting. A contradiction is a canscope defect to report.
func (s *StableTypes) Confirm(step UpgradeStep) {
	if !s.Compared {
		return
	}
	refused := step.Result.Trap != nil && strings.Contains(step.Result.Trap.Message, motoko.RTSTrap)
	if !refused && !step.OK() {
		return
	}
	if refused == (s.Runtime == "incompatible") {
		s.Rehearsal = "confirmed"
	} else {
		s.Rehearsal = "contradicted"
	}
}

// OK reports whether the runtime check passes or was not made.
func (s StableTypes) OK() bool { return s.Runtime != "incompatible" }

// String is the verdict in one line.
func (s StableTypes) String() string {
	var b strings.Builder
	switch s.Runtime {
	case "compatible":
		b.WriteString("compatible as moc's runtime checks an upgrade with enhanced orthogonal persistence")
		if len(s.Added) > 0 {
			fmt.Fprintf(&b, " (new stable variables: %s)", strings.Join(s.Added, ", "))
		}
	case "incompatible":
		fmt.Fprintf(&b, "moc's runtime refuses this upgrade, trapping with %q (the IC rolls it back): %s", s.Trap, s.Incompatibility)
	default:
		b.WriteString(s.Note)
	}
	switch s.Rehearsal {
	case "confirmed":
		b.WriteString(" (the rehearsal confirms it)")
	case "contradicted":
		b.WriteString(" — WARNING: the rehearsal contradicts this verdict (a canscope defect: please report it)")
	}
	if len(s.Moc) > 0 {
		parts := make([]string, len(s.Moc))
		for i, m := range s.Moc {
			parts[i] = m.Code + " " + m.Error()
		}
		b.WriteString("; moc --stable-compatible (run by dfx and icp-cli before deploying) refuses it: " + strings.Join(parts, "; "))
	}
	return b.String()
}

// CompareStableTypes applies moc's rules to an upgrade from old to next.
// It reports false when either module has no motoko:stable-types (not a
// Motoko module: nothing to compare).
func CompareStableTypes(old, next *wasm.Module) (StableTypes, bool) {
	oldText, _, ok1 := old.Metadata("motoko:stable-types")
	newText, _, ok2 := next.Metadata("motoko:stable-types")
	if !ok1 || !ok2 {
		return StableTypes{}, false
	}
	st := StableTypes{Moc: []motoko.Incompatibility{}}
	oldSig, err := motoko.Parse(string(oldText))
	if err != nil {
		st.Note = "not compared: the old module's " + err.Error()
		return st, true
	}
	newSig, err := motoko.Parse(string(newText))
	if err != nil {
		st.Note = "not compared: the new module's " + err.Error()
		return st, true
	}
	st.Moc = append(st.Moc, motoko.StableCompatible(oldSig, newSig)...)
	declared := map[string]bool{}
	for _, v := range oldSig.Post {
		declared[v.Name] = true
	}
	for _, v := range newSig.PreVariables() {
		if !declared[v.Name] {
			st.Added = append(st.Added, v.Name)
		}
	}
	switch oldEOP, newEOP := old.ExpectsEOP(), next.ExpectsEOP(); {
	case oldEOP && newEOP:
	case oldEOP:
		st.Note = "the new module uses classical persistence: its runtime does not read the old heap's stable variables (keep is refused, replace leaves them behind)"
		return st, true
	case newEOP:
		st.Note = "an upgrade from classical to enhanced orthogonal persistence: the new runtime reads the stable variables from stable memory through its Candid check, which this check does not model (the rehearsal runs it)"
		return st, true
	default:
		st.Note = "classical persistence: post_upgrade deserialises the stable variables with moc's Candid check, which this check does not model (the rehearsal runs it)"
		return st, true
	}
	st.Compared = true
	err = motoko.MemoryCompatible(oldSig, newSig)
	var inc *motoko.Incompatibility
	switch {
	case err == nil:
		st.Runtime = "compatible"
	case errors.As(err, &inc):
		st.Runtime, st.Trap, st.Incompatibility = "incompatible", motoko.RTSTrap, inc
	default:
		st.Compared = false
		st.Note = "not compared: " + err.Error()
	}
	return st, true
}

// stableTypesCheck is the transplant report's line for two Motoko
// modules. A transplant keeps the old heap under the new module without
// running its initialisation, so the runtime never gets to refuse an
// incompatible layout: the new code would read the old objects as its
// own types, and its next upgrade (its own pre_upgrade stores its own
// type without a check) would not notice either.
func stableTypesCheck(old, fixed *wasm.Module) (Check, bool) {
	st, ok := CompareStableTypes(old, fixed)
	if !ok {
		return Check{}, false
	}
	c := Check{Name: CheckStableTypes, OK: st.OK(), Detail: st.String(), Differs: !st.Compared || len(st.Moc) > 0}
	if !c.OK {
		c.Detail += "; a transplant would leave the old heap under code that reads it with the new types, and no later upgrade checks it again"
	}
	return c, true
}
