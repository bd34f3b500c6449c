package workbench

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/snapshots"
)

// Check is one compatibility check of a transplant, reported by name.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Differs: the two modules differ in what the check compares. A
	// difference that does not fail (the memory's initial size) is
	// reported with OK set.
	Differs bool `json:"differs,omitempty"`
}

// Report is the compatibility report of a module against a snapshot's
// state: whether the fixed module can take over the captured heap, stable
// memory and globals.
type Report struct {
	Checks []Check `json:"checks"`
	// RemovedExports are methods the snapshot's module exports and the new
	// one does not: callers of those methods will get errors.
	RemovedExports []string `json:"removed_exports"`
	// CandidDiff lists the candid:service lines only the old module has
	// ("- ...") and only the new one has ("+ ..."); empty when equal.
	CandidDiff []string `json:"candid_diff"`
	// Functions are the functions the fixed module changes, adds or
	// removes, by name and body hash: what the rehearsal should exercise.
	Functions []FunctionChange `json:"functions_changed"`
}

// OK reports whether every check passed.
func (r Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Failed lists the names of the checks that did not pass.
func (r Report) Failed() []string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return out
}

// Compat checks newMod against the state of snapshot m. old is m's own
// module (for the export, Candid and heap-layout comparison); it may be
// nil when that module cannot be loaded (e.g. a wasm64 module).
func Compat(m *snapshots.Manifest, old, newMod *engine.Module) Report {
	var r Report
	r.Checks = append(r.Checks, Check{Name: "wasm32 canister", OK: true, Detail: fmt.Sprintf("module %s loads and validates", snapshots.Hash(newMod.Hash()).Short())})

	heapPages := m.Heap.Size / snapshots.PageSize
	min, max, hasMem := newMod.Memory()
	mem := Check{Name: "memory limits"}
	switch {
	case !hasMem && heapPages > 0:
		mem.Detail = fmt.Sprintf("module declares no memory, the snapshot has a %d-page heap", heapPages)
	case heapPages < min:
		mem.Detail = fmt.Sprintf("module needs at least %d heap pages, the snapshot has %d", min, heapPages)
	case heapPages > max:
		mem.Detail = fmt.Sprintf("module allows at most %d heap pages, the snapshot has %d", max, heapPages)
	default:
		mem.OK = true
		mem.Detail = fmt.Sprintf("heap of %d pages within [%d, %d]", heapPages, min, max)
	}
	r.Checks = append(r.Checks, mem)
	own := -1 // how many globals the snapshot's own module has, when known
	if old != nil {
		own = len(old.Globals())
	}
	r.Checks = append(r.Checks, globalsCheck(m.Globals, own, newMod))

	if old != nil {
		for _, e := range old.Methods() {
			if _, ok := newMod.Method(e.Name); !ok {
				r.RemovedExports = append(r.RemovedExports, e.Name)
			}
		}
		oldDid, _, _ := old.Metadata("candid:service")
		newDid, _, _ := newMod.Metadata("candid:service")
		r.CandidDiff = lineDiff(string(oldDid), string(newDid))
		layout, funcs := layoutChecks(m, old.Bytes(), newMod.Bytes())
		r.Checks = append(r.Checks, layout...)
		r.Functions = funcs
	}
	return r
}

// globalsCheck compares the snapshot's globals (the replica's order) with
// the ones the module would export. own is the number of globals of the
// snapshot's own module, -1 when unknown.
func globalsCheck(have []snapshots.Global, own int, mod *engine.Module) Check {
	c := Check{Name: "globals"}
	want := mod.Globals()
	if own < 0 {
		own = len(want)
	}
	have = snapshots.ReplicaGlobals(have, own)
	if len(have) != len(want) {
		c.Detail = fmt.Sprintf("snapshot has %d globals, module has %d", len(have), len(want))
		return c
	}
	for i, w := range want {
		g, err := engineGlobal(have[i])
		if err != nil {
			c.Detail = fmt.Sprintf("global %d (%s): %v", i, w.Export, err)
			return c
		}
		if g.Type != w.Type.Type {
			c.Detail = fmt.Sprintf("global %d (%s): snapshot holds %s, module declares %s", i, w.Export, have[i].Kind, w.Type.Type)
			return c
		}
	}
	c.OK = true
	c.Detail = fmt.Sprintf("%d globals match in number and type", len(want))
	return c
}

// lineDiff is a set difference of lines: enough to show an operator which
// Candid methods and types a fix adds or removes.
func lineDiff(a, b string) []string {
	split := func(s string) []string {
		var out []string
		for l := range strings.SplitSeq(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	al, bl := split(a), split(b)
	var out []string
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out = append(out, "+ "+l)
		}
	}
	return out
}

// TransplantOptions configure Transplant.
type TransplantOptions struct {
	// Name of the new snapshot; empty means the base snapshot's name.
	Name string
	// Force commits even when a compatibility check fails.
	Force bool
}

// TransplantError is returned when the report refuses the module. The
// caller says how to force it (the CLI's --force, the UI's key).
type TransplantError struct{ Report Report }

func (e *TransplantError) Error() string {
	return "module is not compatible with the snapshot (" + strings.Join(e.Report.Failed(), "; ") + "); fix the module or force the transplant"
}

// CheckTransplant reports whether fixed can take over snapshot base's
// state, without writing anything: the report a UI shows before asking
// for confirmation.
func (b *Bench) CheckTransplant(ctx context.Context, base snapshots.ID, fixed []byte) (Report, error) {
	m, newMod, err := b.transplantInputs(ctx, base, fixed)
	if err != nil {
		return Report{}, err
	}
	defer newMod.Close(ctx)
	return b.compat(ctx, m, newMod), nil
}

// Transplant makes a snapshot with base's heap, stable memory, globals,
// certified data and timer and fixed as its module, the way an uploaded
// dfx snapshot replaces a stuck module without running its pre_upgrade.
// The module's data segments are not applied: the heap stays as captured.
// Nothing is written unless the report passes or opts.Force is set.
func (b *Bench) Transplant(ctx context.Context, base snapshots.ID, fixed []byte, opts TransplantOptions) (snapshots.Snapshot, Report, error) {
	m, newMod, err := b.transplantInputs(ctx, base, fixed)
	if err != nil {
		return snapshots.Snapshot{}, Report{}, err
	}
	defer newMod.Close(ctx)
	rep := b.compat(ctx, m, newMod)
	if !rep.OK() && !opts.Force {
		return snapshots.Snapshot{}, rep, &TransplantError{Report: rep}
	}
	h, err := b.store.PutBlob(newMod.Bytes())
	if err != nil {
		return snapshots.Snapshot{}, rep, fmt.Errorf("store fixed module: %w", err)
	}
	child := m.Child(snapshots.MadeByTransplant)
	child.ForkedFrom = child.Parent
	child.Name = opts.Name
	if child.Name == "" {
		child.Name = m.Name
	}
	child.Module, child.ModuleHash = h, snapshots.Hash(newMod.Hash())
	child.Note = fmt.Sprintf("transplant of module %s onto %s", child.ModuleHash.Short(), m.Ref())
	snap, err := b.store.Commit(ctx, child)
	return snap, rep, err
}

// transplantInputs reads the base manifest and loads the fixed module.
// The caller closes the module.
func (b *Bench) transplantInputs(ctx context.Context, base snapshots.ID, fixed []byte) (*snapshots.Manifest, *engine.Module, error) {
	m, err := b.store.Manifest(base)
	if err != nil {
		return nil, nil, err
	}
	newMod, err := b.eng.Load(ctx, fixed)
	if err != nil {
		return nil, nil, fmt.Errorf("fixed module: %w", err)
	}
	return m, newMod, nil
}

// compat checks newMod against m, comparing with m's own module when it
// loads (a wasm64 module does not: exports and Candid are then not
// compared).
func (b *Bench) compat(ctx context.Context, m *snapshots.Manifest, newMod *engine.Module) Report {
	old, err := b.Load(ctx, m)
	if err != nil {
		r := Compat(m, nil, newMod)
		// The layout is still compared from the stored module's wasm.
		if code, err := b.store.ReadBlob(m.Module); err == nil {
			layout, funcs := layoutChecks(m, code, newMod.Bytes())
			r.Checks = append(r.Checks, layout...)
			r.Functions = funcs
		}
		return r
	}
	return Compat(m, old, newMod)
}
