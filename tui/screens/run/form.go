package run

import (
	"math"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/textinput"

	"github.com/dustin/go-humanize"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/frame"
	"github.com/canscope/canscope/tui/source"
)

// field is one focusable row of the run form.
type field int

const (
	fieldMode field = iota
	fieldMethod
	fieldWasm
	fieldArg
	fieldArgHex
	fieldCaller
	fieldTime
	fieldLimit
	fieldWasmLimit
	fieldSkip
	fieldRehearse
	fieldInspect
	fieldCycles
	fieldReplies
	fieldRejectUnanswered
)

// mode is what the form runs.
type mode int

const (
	modeCall mode = iota
	modeUpgrade
	modeTimer
	modeHeartbeat
	modes // how many there are
)

// modeLabels name the modes on the form's first row.
var modeLabels = [modes]string{"call a method", "upgrade", "global timer", "heartbeat"}

// form is the run form: a call or an upgrade and its options.
type form struct {
	mode    mode
	inspect bool // canister_inspect_message first (a call)
	cycles  textinput.Model
	replies textinput.Model
	// rejectUnanswered fails calls no answer matches at once, as call
	// --reject-unanswered (else they are held).
	rejectUnanswered bool
	skipPreUpgrade   bool
	rehearse         bool
	method           textinput.Model
	wasm             textinput.Model
	arg              textinput.Model
	argHex           bool
	caller           textinput.Model
	time             textinput.Model
	limit            textinput.Model
	wasmLimit        textinput.Model
	focus            field
	// errs are the errors shown under fields (a Candid argument that
	// does not type, a principal that does not parse).
	errs map[field]string
}

func newForm(ctx *frame.Context) form {
	input := ctx.NewInput
	return form{
		method:    input("method  ", "an exported update or query method, e.g. transfer"),
		wasm:      input("new wasm ", "path to the new module; empty upgrades to the same module"),
		arg:       input("arg     ", "Candid text, e.g. (42, \"x\"); empty sends ()"),
		caller:    input("caller  ", "principal; empty: anonymous (2vxsx-fae)"),
		time:      input("time    ", "RFC 3339 or ns; empty: the snapshot's time"),
		limit:     input("limit   ", "instructions, e.g. 40e9; empty: the IC's"),
		wasmLimit: input("wasm mem ", "wasm_memory_limit bytes, e.g. 3GiB; 0: none"),
		cycles:    input("cycles  ", "attached to an update, e.g. 1_000_000; empty: none"),
		replies:   input("replies ", "FILE as call --replies reads it, or CANISTER.METHOD=CANDID"),
	}
}

// fields lists the rows the form shows for its mode, in focus order.
func (f *form) fields() []field {
	switch f.mode {
	case modeUpgrade:
		return []field{fieldMode, fieldWasm, fieldArg, fieldArgHex, fieldSkip, fieldRehearse, fieldCaller, fieldTime, fieldLimit, fieldWasmLimit}
	case modeTimer, modeHeartbeat:
		return []field{fieldMode, fieldReplies, fieldRejectUnanswered, fieldCaller, fieldTime, fieldLimit, fieldWasmLimit}
	}
	return []field{fieldMode, fieldMethod, fieldArg, fieldArgHex, fieldInspect, fieldCycles, fieldReplies, fieldRejectUnanswered, fieldCaller, fieldTime, fieldLimit, fieldWasmLimit}
}

// input returns the text input of the focused field, nil for toggles.
func (f *form) input() *textinput.Model {
	switch f.focus {
	case fieldMethod:
		return &f.method
	case fieldWasm:
		return &f.wasm
	case fieldArg:
		return &f.arg
	case fieldCaller:
		return &f.caller
	case fieldTime:
		return &f.time
	case fieldLimit:
		return &f.limit
	case fieldWasmLimit:
		return &f.wasmLimit
	case fieldCycles:
		return &f.cycles
	case fieldReplies:
		return &f.replies
	}
	return nil
}

// move focuses the field delta steps away, wrapping.
func (f *form) move(delta int) {
	fs := f.fields()
	at := 0
	for i, x := range fs {
		if x == f.focus {
			at = i
		}
	}
	if in := f.input(); in != nil {
		in.Blur()
	}
	f.focus = fs[(at+delta+len(fs))%len(fs)]
	if in := f.input(); in != nil {
		in.Focus()
	}
}

// toggle flips the focused switch.
func (f *form) toggle() {
	switch f.focus {
	case fieldMode:
		f.mode = (f.mode + 1) % modes
	case fieldSkip:
		f.skipPreUpgrade = !f.skipPreUpgrade
	case fieldRehearse:
		f.rehearse = !f.rehearse
	case fieldArgHex:
		f.argHex = !f.argHex
	case fieldInspect:
		f.inspect = !f.inspect
	case fieldRejectUnanswered:
		f.rejectUnanswered = !f.rejectUnanswered
	}
}

// inputs are every text input of the form, for restyling.
func (f *form) inputs() []*textinput.Model {
	return []*textinput.Model{&f.method, &f.wasm, &f.arg, &f.caller, &f.time, &f.limit, &f.wasmLimit, &f.cycles, &f.replies}
}

// fieldOf is the form field a runner's FieldError names.
func fieldOf(name string) field {
	switch name {
	case source.FieldWasm:
		return fieldWasm
	case source.FieldCaller:
		return fieldCaller
	case source.FieldTime:
		return fieldTime
	case source.FieldCycles:
		return fieldCycles
	case source.FieldReplies:
		return fieldReplies
	}
	return fieldArg
}

// request builds the run request for a snapshot; a limit that is not a
// number is reported under its field.
func (f *form) request(id snapshots.ID) (source.RunRequest, bool) {
	f.errs = nil
	r := source.RunRequest{
		Snapshot: id,
		Upgrade:  f.mode == modeUpgrade,
		Arg:      strings.TrimSpace(f.arg.Value()),
		ArgHex:   f.argHex,
		Caller:   strings.TrimSpace(f.caller.Value()),
		Time:     strings.TrimSpace(f.time.Value()),
	}
	if l := strings.ReplaceAll(strings.TrimSpace(f.limit.Value()), "_", ""); l != "" {
		n, err := strconv.ParseFloat(l, 64) // 40e9 as the help spells it
		if err != nil || n < 1 || n > math.MaxUint64 || n != math.Trunc(n) {
			f.errs = map[field]string{fieldLimit: "a whole number of instructions, e.g. 40000000000 or 40e9"}
			return r, false
		}
		r.Limit = uint64(n)
	}
	if w := strings.TrimSpace(f.wasmLimit.Value()); w != "" {
		n, err := humanize.ParseBytes(w)
		if err != nil {
			f.errs = map[field]string{fieldWasmLimit: "bytes, e.g. 3221225472 or 3GiB, or 0 for no limit"}
			return r, false
		}
		r.WasmMemoryLimit = &n
	}
	switch f.mode {
	case modeUpgrade:
		r.WasmPath = strings.TrimSpace(f.wasm.Value())
		r.SkipPreUpgrade = f.skipPreUpgrade
		r.Rehearse = f.rehearse
	case modeTimer:
		r.Timer, r.Arg, r.ArgHex = true, "", false
		r.Replies, r.RejectUnanswered = strings.TrimSpace(f.replies.Value()), f.rejectUnanswered
	case modeHeartbeat:
		r.Heartbeat, r.Arg, r.ArgHex = true, "", false
		r.Replies, r.RejectUnanswered = strings.TrimSpace(f.replies.Value()), f.rejectUnanswered
	default:
		r.Replies, r.RejectUnanswered = strings.TrimSpace(f.replies.Value()), f.rejectUnanswered
		r.Method = strings.TrimSpace(f.method.Value())
		r.Inspect = f.inspect
		r.Cycles = strings.TrimSpace(f.cycles.Value())
	}
	return r, true
}

// describe is a one-line summary of a request for the timeline header.
func describe(r source.RunRequest) string {
	switch {
	case r.Timer:
		return "global timer"
	case r.Heartbeat:
		return "heartbeat"
	case !r.Upgrade:
		d := "call " + r.Method
		if r.Inspect {
			d += " (inspect_message first)"
		}
		if r.Cycles != "" {
			d += " with " + r.Cycles + " cycles"
		}
		return d
	}
	parts := []string{"upgrade"}
	if r.WasmPath != "" {
		parts = append(parts, "to "+r.WasmPath)
	}
	if r.SkipPreUpgrade {
		parts = append(parts, "skipping pre_upgrade")
	}
	if r.Rehearse {
		parts = append(parts, "(rehearsal)")
	}
	return strings.Join(parts, " ")
}
