package ic0

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/canscope/canscope/engine/stable"
)

// Cycles is a 128-bit cycles amount, as the 128-bit System API calls pass it.
type Cycles struct {
	High, Low uint64
}

// CyclesFrom returns n cycles.
func CyclesFrom(n uint64) Cycles { return Cycles{Low: n} }

// Add returns c+d, saturating at the maximum.
func (c Cycles) Add(d Cycles) Cycles {
	lo, carry := bits.Add64(c.Low, d.Low, 0)
	hi, over := bits.Add64(c.High, d.High, carry)
	if over != 0 {
		return Cycles{High: ^uint64(0), Low: ^uint64(0)}
	}
	return Cycles{High: hi, Low: lo}
}

// Sub returns c-d, saturating at zero.
func (c Cycles) Sub(d Cycles) Cycles {
	lo, borrow := bits.Sub64(c.Low, d.Low, 0)
	hi, under := bits.Sub64(c.High, d.High, borrow)
	if under != 0 {
		return Cycles{}
	}
	return Cycles{High: hi, Low: lo}
}

// Less reports whether c < d.
func (c Cycles) Less(d Cycles) bool {
	return c.High < d.High || c.High == d.High && c.Low < d.Low
}

// Min returns the smaller of c and d.
func (c Cycles) Min(d Cycles) Cycles {
	if d.Less(c) {
		return d
	}
	return c
}

// Uint64 returns c capped at the largest uint64, as the old 64-bit cycle
// calls report amounts.
func (c Cycles) Uint64() uint64 {
	if c.High != 0 {
		return ^uint64(0)
	}
	return c.Low
}

// String returns the amount in decimal.
func (c Cycles) String() string {
	n := new(big.Int).SetUint64(c.High)
	n.Lsh(n, 64)
	n.Or(n, new(big.Int).SetUint64(c.Low))
	return n.String()
}

// ParseCycles reads a decimal amount of cycles ("1_000_000" allowed), up
// to 2^128-1.
func ParseCycles(s string) (Cycles, error) {
	n, ok := new(big.Int).SetString(strings.ReplaceAll(s, "_", ""), 10)
	if !ok || n.Sign() < 0 {
		return Cycles{}, errors.New("want a whole non-negative number of cycles, e.g. 1_000_000")
	}
	if n.BitLen() > 128 {
		return Cycles{}, errors.New("more than 2^128-1 cycles")
	}
	lo := new(big.Int).And(n, new(big.Int).SetUint64(^uint64(0)))
	return Cycles{High: new(big.Int).Rsh(n, 64).Uint64(), Low: lo.Uint64()}, nil
}

// IsZero reports whether c is 0.
func (c Cycles) IsZero() bool { return c == Cycles{} }

// bytes returns the little-endian 16-byte encoding the 128-bit calls write.
func (c Cycles) bytes() []byte {
	var b [16]byte
	for i := range 8 {
		b[i] = byte(c.Low >> (8 * i))
		b[8+i] = byte(c.High >> (8 * i))
	}
	return b[:]
}

// Canister statuses returned by ic0.canister_status.
const (
	StatusRunning  = 1
	StatusStopping = 2
	StatusStopped  = 3
)

// Defaults for the deterministic environment (see DefaultEnv).
const (
	// DefaultTime is 2025-01-01T00:00:00Z in nanoseconds since the epoch.
	DefaultTime uint64 = 1_735_689_600_000_000_000
	// DefaultCycles is the balance of a fresh dfx canister: 3T cycles.
	DefaultCycles uint64 = 3_000_000_000_000
)

// EnvVar is one canister environment variable.
type EnvVar struct {
	Name, Value string
}

// Env holds the deterministic inputs of execution that the canister reads
// but cannot change. The same Env, State and Message give the same outputs.
// The engine may change fields between messages, never during one.
type Env struct {
	// Time is ic0.time in nanoseconds since the epoch, constant within a
	// message. Default DefaultTime.
	Time uint64
	// Caller is the principal ic0.msg_caller_* returns when the Message sets
	// none. Default the anonymous principal (0x04).
	Caller []byte
	// CanisterID is ic0.canister_self_*. Default rrkah-fqaaa-aaaaa-aaaaq-cai
	// (00 00 00 00 00 00 00 01 01 01).
	CanisterID []byte
	// Controllers are the principals ic0.is_controller accepts. Default none.
	Controllers [][]byte
	// Status is ic0.canister_status. Default StatusRunning.
	Status uint32
	// SubnetID is ic0.subnet_self_*. Default a fixed 29-byte principal.
	SubnetID []byte
	// RootKey is ic0.root_key_* (DER). Default empty.
	RootKey []byte
	// EnvVars are the canister environment variables, served in name order.
	EnvVars []EnvVar
	// DataCertificate is returned in non-replicated queries when non-nil.
	DataCertificate []byte
	// Certify, when DataCertificate is nil, makes the certificate of the
	// canister's certified data at Time that non-replicated queries read
	// (engine/certify); nil: they see none.
	Certify func(canisterID, certifiedData []byte, time uint64) []byte
	// CyclesMinting marks the cycles minting canister, the only one allowed
	// to call ic0.mint_cycles*.
	CyclesMinting bool
}

// DefaultEnv returns an Env with every documented default set.
func DefaultEnv() *Env {
	return &Env{
		Time:       DefaultTime,
		Caller:     []byte{0x04},
		CanisterID: []byte{0, 0, 0, 0, 0, 0, 0, 1, 1, 1},
		Status:     StatusRunning,
		SubnetID:   bytes.Repeat([]byte{0x5e}, 29),
	}
}

// OutgoingCall is an inter-canister call the canister assembled with
// call_new … call_perform. canscope does not execute it: call_perform
// records the call and returns the reject code SYS_TRANSIENT (2), as the
// replica does when it cannot enqueue a call. The canister therefore sees
// the call fail synchronously; neither callback runs, and cycles attached
// with call_cycles_add* return to its balance.
type OutgoingCall struct {
	Callee              []byte
	Method              string
	Arg                 []byte
	Cycles              Cycles
	ReplyFn, ReplyEnv   uint64
	RejectFn, RejectEnv uint64
	// CleanupFn and CleanupEnv are set by call_on_cleanup (HasCleanup).
	CleanupFn, CleanupEnv uint64
	HasCleanup            bool
	// TimeoutSeconds is set by call_with_best_effort_response (BestEffort).
	TimeoutSeconds uint32
	BestEffort     bool
	// Performed is true once call_perform ran for this call; RejectCode is
	// what call_perform returned.
	Performed  bool
	RejectCode uint32
	// Fees are what call_perform withdrew for the call (zero when it was
	// not made).
	Fees CallFees
	// OutOfCycles is set when call_perform failed as on the IC: the
	// balance did not cover Fees' total (the text says by how much).
	OutOfCycles string
}

// Offline reports whether the call was not really performed: call_perform
// answered it at once with a reject code (SYS_TRANSIENT), so whatever the
// canister did next followed a failure the IC would not have produced. A
// call refused for want of cycles is the IC's own failure, not offline.
func (c *OutgoingCall) Offline() bool { return c.Performed && c.RejectCode != 0 && c.OutOfCycles == "" }

// Message is one execution: its inputs, set by the engine before
// Host.Begin, and its outputs, filled by the System API during it.
type Message struct {
	// Context decides which ic0 calls are allowed.
	Context Context
	// Method is the method name (ic0.msg_method_name_* in inspect_message).
	Method string
	// Arg is the argument (ic0.msg_arg_data_*), or the reply payload in a
	// reply callback.
	Arg []byte
	// Caller overrides Env.Caller when non-nil.
	Caller []byte
	// CanisterVersion is ic0.canister_version.
	CanisterVersion uint64
	// CyclesAvailable are cycles attached to the call (msg_cycles_available*).
	CyclesAvailable Cycles
	// CyclesRefunded are refunded cycles seen by callbacks.
	CyclesRefunded Cycles
	// RejectCode and RejectMessage describe the response a reject callback
	// handles (ic0.msg_reject_code, ic0.msg_reject_msg_*).
	RejectCode    uint32
	RejectMessage string
	// Deadline is ic0.msg_deadline (0: guaranteed response).
	Deadline uint64
	// CallContextInstructions were executed earlier in the same call
	// context; performance_counter(1) adds them.
	CallContextInstructions uint64
	// Perform decides whether call_perform really makes a call (returns 0;
	// its cycles leave the balance with it, and a response will run its
	// callback) or fails it at once with SYS_TRANSIENT; nil fails every
	// call (OutgoingCall.Offline).
	Perform func(*OutgoingCall) bool

	// Reply is the reply payload assembled with msg_reply_data_append.
	Reply []byte
	// Replied is set by msg_reply.
	Replied bool
	// Rejected is set by msg_reject, with its text in Rejection.
	Rejected  bool
	Rejection string
	// Accepted is set by accept_message in inspect_message.
	Accepted bool
	// CertificateRead is set when the execution read the data
	// certificate (data_certificate_size or _copy).
	CertificateRead bool
	// CyclesAccepted are the cycles taken with msg_cycles_accept*.
	CyclesAccepted Cycles
	// DebugPrints holds every ic0.debug_print message, in order.
	DebugPrints []string
	// Calls holds the inter-canister calls the message made.
	Calls []OutgoingCall
}

// caller returns the principal of the caller.
func (m *Message) caller(env *Env) []byte {
	if m.Caller != nil {
		return m.Caller
	}
	return env.Caller
}

// State is the canister state the System API changes besides the heap and
// globals. A trap must undo it together with the heap: Begin, Commit and
// Rollback bracket a message (or a whole upgrade) for all of it at once.
type State struct {
	Stable *stable.Memory
	// CertifiedData is set by ic0.certified_data_set (at most 32 bytes).
	CertifiedData []byte
	// GlobalTimer is the timer deadline in ns; 0 means inactive.
	GlobalTimer uint64
	// Cycles is the canister's balance (ic0.canister_cycle_balance*);
	// accepting, burning and attaching cycles change it.
	Cycles Cycles

	saved savedState
}

// savedState is the committed part of State during a message.
type savedState struct {
	open          bool
	certifiedData []byte
	globalTimer   uint64
	cycles        Cycles
}

// NewState returns the state of a fresh canister: empty stable memory with
// the default 500 GiB maximum, DefaultCycles, no timer, no certified data.
func NewState() *State {
	mem, _ := stable.New(0, stable.Options{}) // zero pages never exceed the maximum
	return &State{Stable: mem, Cycles: CyclesFrom(DefaultCycles)}
}

// Begin starts an atomic unit (a message, or all steps of an upgrade).
// Calling it while a unit is open commits that unit first.
func (s *State) Begin() {
	s.saved = savedState{
		open:          true,
		certifiedData: s.CertifiedData,
		globalTimer:   s.GlobalTimer,
		cycles:        s.Cycles,
	}
	s.Stable.Begin()
}

// Commit keeps the changes of the open unit.
func (s *State) Commit() {
	s.saved = savedState{}
	s.Stable.Commit()
}

// Rollback restores the state as it was at Begin.
func (s *State) Rollback() {
	if s.saved.open {
		s.CertifiedData = s.saved.certifiedData
		s.GlobalTimer = s.saved.globalTimer
		s.Cycles = s.saved.cycles
	}
	s.saved = savedState{}
	s.Stable.Rollback()
}

// Meter is the instruction counter of the running message, implemented by
// the engine. System API calls charge their cost through it.
type Meter interface {
	// Charge adds n instructions and reports whether the message is still
	// within its limit; false makes the call trap with IC0522.
	Charge(n uint64) bool
	// Used returns the instructions executed so far in the message.
	Used() uint64
	// Limit returns the message's instruction limit.
	Limit() uint64
}

// Recorder observes every System API call (for traces and time travel).
// params and results are the raw wasm values; results is empty when the
// call trapped. The slices are reused after SystemCall returns.
type Recorder interface {
	// SystemCall is called after each System API call name returns (or
	// traps).
	SystemCall(name string, params, results []uint64)
}

// ParseTime reads an ic0.time value as RFC 3339 or as a plain count of
// nanoseconds since the epoch.
func ParseTime(s string) (uint64, error) {
	ns, err := strconv.ParseUint(s, 10, 64)
	if err == nil {
		return ns, nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, errors.New("beyond the range of ic0.time (nanoseconds since the epoch in a u64, up to 2554-07-21T23:34:33.709551615Z)")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, errors.New("want RFC 3339 (2026-11-26T09:00:00Z) or nanoseconds since the epoch")
	}
	if t.Before(time.Unix(0, 0)) {
		return 0, errors.New("before the epoch")
	}
	// t.UnixNano would wrap past 2262; ic0.time is a u64 of nanoseconds.
	const maxNs uint64 = math.MaxUint64
	sec, frac := uint64(t.Unix()), uint64(t.Nanosecond())
	if sec > maxNs/1e9 || sec == maxNs/1e9 && frac > maxNs%1e9 {
		return 0, errors.New("beyond the range of ic0.time (nanoseconds since the epoch in a u64, up to 2554-07-21T23:34:33.709551615Z)")
	}
	return sec*1e9 + frac, nil
}
