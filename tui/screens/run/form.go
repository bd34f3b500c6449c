package run

import (
	"strings"

	"charm.land/bubbles/v2/textinput"

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
	fieldSkip
	fieldRehearse
)

// form is the run form: a call or an upgrade and its options.
type form struct {
	upgrade        bool
	skipPreUpgrade bool
	rehearse       bool
	method         textinput.Model
	wasm           textinput.Model
	arg            textinput.Model
	focus          field
}

func newForm(ctx *frame.Context) form {
	input := ctx.NewInput
	return form{
		method: input("method  ", "an exported update or query method, e.g. transfer"),
		wasm:   input("new wasm ", "path to the new module; empty reinstalls the same module"),
		arg:    input("arg hex ", "candid argument bytes as hex; empty sends ()"),
	}
}

// fields lists the rows the form shows for its mode, in focus order.
func (f *form) fields() []field {
	if f.upgrade {
		return []field{fieldMode, fieldWasm, fieldArg, fieldSkip, fieldRehearse}
	}
	return []field{fieldMode, fieldMethod, fieldArg}
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
		f.upgrade = !f.upgrade
	case fieldSkip:
		f.skipPreUpgrade = !f.skipPreUpgrade
	case fieldRehearse:
		f.rehearse = !f.rehearse
	}
}

// request builds the run request for a snapshot.
func (f *form) request(id snapshots.ID) source.RunRequest {
	r := source.RunRequest{
		Snapshot: id,
		Upgrade:  f.upgrade,
		ArgHex:   strings.TrimSpace(f.arg.Value()),
	}
	if f.upgrade {
		r.WasmPath = strings.TrimSpace(f.wasm.Value())
		r.SkipPreUpgrade = f.skipPreUpgrade
		r.Rehearse = f.rehearse
	} else {
		r.Method = strings.TrimSpace(f.method.Value())
	}
	return r
}

// describe is a one-line summary of a request for the timeline header.
func describe(r source.RunRequest) string {
	if !r.Upgrade {
		return "call " + r.Method
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
