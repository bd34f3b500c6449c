package meter

import "fmt"

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

// Limits holds the instruction limit of each kind of message. The zero
// value is not useful; start from DefaultLimits and override fields per run.
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
}

// DefaultLimits returns the limits the IC applies on application subnets.
func DefaultLimits() Limits {
	return Limits{Update: UpdateLimit, Query: QueryLimit, Install: InstallLimit, InspectMessage: InspectMessageLimit}
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
