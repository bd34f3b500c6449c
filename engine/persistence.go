package engine

import (
	"fmt"

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
