package trace

import (
	"fmt"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/heap"
)

// View is the canister's state at one event of a session, read live from
// the execution paused there. It is valid until the session moves.
type View struct {
	s   *Session
	rec *recorder
	at  int
}

func (s *Session) view() *View { return &View{s: s, rec: s.cur.rec, at: s.cur.at} }

// Index returns the event the view is at.
func (v *View) Index() int { return v.at }

// Event returns the event the view is at (only its index when the session
// does not hold it, which happens only when the log cannot be read).
func (v *View) Event() Event {
	if e, ok, _ := v.s.Event(v.at); ok {
		return e
	}
	return Event{Index: v.at, Phase: v.rec.phase}
}

// Phase returns the entry point running at the event (see Event.Phase).
func (v *View) Phase() string { return v.rec.phase }

// Stack returns the canister functions on the call stack, outermost
// first.
func (v *View) Stack() []string {
	out := make([]string, len(v.rec.stack))
	for i, f := range v.rec.stack {
		out[i], _ = v.s.label(f.ref)
	}
	return out
}

// Instructions returns the instructions used so far and the limit.
func (v *View) Instructions() (used, limit uint64) {
	used, limit, _ = v.rec.c.Instructions()
	return used, limit
}

// Module returns the module running at the event (an upgrade's new module
// from its start function on).
func (v *View) Module() *engine.Module { return v.rec.mod }

// HeapSize returns the heap size in bytes at the event.
func (v *View) HeapSize() uint64 {
	if mem := v.rec.inst.Memory(); mem != nil {
		return uint64(mem.Size())
	}
	return 0
}

// ReadHeap copies heap bytes at off into p.
func (v *View) ReadHeap(p []byte, off uint64) error {
	mem := v.rec.inst.Memory()
	if mem == nil || off > uint64(mem.Size()) || uint64(len(p)) > uint64(mem.Size())-off {
		return fmt.Errorf("read heap at %#x (%d bytes): out of bounds of the %d-byte heap", off, len(p), v.HeapSize())
	}
	b, _ := mem.Read(uint32(off), uint32(len(p)))
	copy(p, b)
	return nil
}

// heapBytes returns the live heap without copying; it must not be kept.
func (v *View) heapBytes() []byte {
	mem := v.rec.inst.Memory()
	if mem == nil {
		return nil
	}
	b, _ := mem.Read(0, mem.Size())
	return b
}

// StableSize returns the stable memory size in bytes at the event.
func (v *View) StableSize() uint64 { return v.rec.c.StableSize() }

// ReadStable copies stable memory bytes at off into p.
func (v *View) ReadStable(p []byte, off uint64) error { return v.rec.c.ReadStable(p, off) }

// Globals returns the module's globals at the event in the replica's
// snapshot order (engine.State.Globals), as a snapshot stores them.
func (v *View) Globals() ([]engine.Global, error) {
	var out []engine.Global
	for _, g := range v.rec.mod.Globals() {
		ag := v.rec.inst.ExportedGlobal(g.Export)
		if ag == nil {
			return nil, fmt.Errorf("global %s is not exported by the running instance", g.Export)
		}
		out = append(out, engine.Global{Type: g.Type.Type, Bits: ag.Get()})
	}
	return out, nil
}

// HeapReplaced reports whether the heap at the event is a new one (an
// upgrade's new module runs), so that every page counts as changed.
func (v *View) HeapReplaced() bool { return v.rec.replaced }

// HeapPagesChanged returns the heap pages (64 KiB) written since the run
// began; after an upgrade replaced the heap, every page of the new heap.
func (v *View) HeapPagesChanged() ([]uint64, error) {
	if !v.HeapReplaced() {
		dirty, ok, err := v.rec.c.DirtyHeapPages(v.rec.inst)
		if err != nil {
			return nil, fmt.Errorf("heap pages changed: %w", err)
		}
		if ok {
			var out []uint64
			for _, p := range dirty {
				w := uint64(p) * heap.OSPageSize / engine.PageSize
				if len(out) == 0 || out[len(out)-1] != w {
					out = append(out, w)
				}
			}
			return out, nil
		}
	}
	n := v.HeapSize() / engine.PageSize
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i)
	}
	return out, nil
}

// StablePagesChanged returns the stable memory pages (64 KiB) written
// since the run began, in order.
func (v *View) StablePagesChanged() []uint64 {
	return sortedKeys(v.rec.stable)
}

// StableBytesWritten returns the bytes the run had written to stable
// memory by the event, over every write, kept or rolled back (as
// workbench's rehearsal counts them).
func (v *View) StableBytesWritten() uint64 { return v.rec.stableWritten }
