package engine

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/ic0"
)

// This file holds the hooks engine/trace needs to observe a message while
// it runs: a tracer installs wazero function listeners (which must be in
// the context when a module is compiled, see experimental.
// WithFunctionListenerFactory) and reads the canister's live state from
// inside them.

// SetRecorder replaces the System API recorder (Options.Recorder) for the
// following messages; nil turns recording off.
func (c *Canister) SetRecorder(r ic0.Recorder) { c.rec = r }

// Instructions reports the instructions the running message has used so
// far, over all of its executions (an upgrade's pre_upgrade, start and
// post_upgrade), and its limit; ok is false between messages.
func (c *Canister) Instructions() (used, limit uint64, ok bool) {
	if c.running == nil {
		return 0, 0, false
	}
	return c.running.Used(), c.running.limit, true
}

// DirtyHeapPages returns the OS pages (4 KiB) of the committed module's heap
// that the running message has written so far. ok is false when inst is not
// the committed module's instance (an upgrade's new module runs over a heap
// that is new as a whole).
func (c *Canister) DirtyHeapPages(inst api.Module) (pages []uint32, ok bool, err error) {
	if c.code == nil || c.code.inst == nil || inst == nil || c.code.inst.Name() != inst.Name() {
		return nil, false, nil
	}
	pages, err = c.code.heap.Dirty()
	return pages, err == nil, err
}

// OriginalFunc maps a function index of the module as prepared for
// execution (what wazero reports to listeners) to its index in the module
// as loaded; ok is false for the functions the metering rewrite added.
func (m *Module) OriginalFunc(prepared uint32) (uint32, bool) {
	if prepared < m.shift {
		return 0, false
	}
	idx := prepared - m.shift
	if idx >= m.numImported+uint32(len(m.codeOffsets)) {
		return 0, false
	}
	return idx, true
}

// FuncLabel returns the name operators read for function idx: the
// name-section name demangled (Rust legacy and v0, C++) as the replica's
// backtraces show it, or without one "func[idx]" and its export name (see
// wasm.Module.FuncLabel). Traces, traps, the UI and --json all name
// functions through it.
func (m *Module) FuncLabel(idx uint32) string {
	if l, ok := m.labels.Load(idx); ok {
		return l.(string)
	}
	l := m.info.FuncLabel(idx)
	m.labels.Store(idx, l)
	return l
}

// liveCount is the running message's instruction count and limit as
// other goroutines may read them. The engine stores them when an
// execution begins and ends and at every metering slice (out_of_
// instructions), never from inside wasm: the counter global itself is
// only read on the goroutine running the module.
type liveCount struct {
	used, limit atomic.Uint64
}

// publish stores b's count so far and its limit.
func (l *liveCount) publish(b *budget) {
	l.limit.Store(b.limit)
	l.used.Store(b.Used())
}

// LiveInstructions reports the instructions the running message has used
// so far, over all of its executions (an upgrade's pre_upgrade, start and
// post_upgrade), and its limit, for a progress display. Unlike
// Instructions it is safe to call from any goroutine while the message
// runs on another; the count is the one at the last metering slice, so
// it lags the real count by at most one slice (meter.DefaultSlice
// instructions, about a millisecond). Between messages it reports the
// last message's final count (zeros before the first). For an unmetered
// module (Engine options) only System API charges count.
func (c *Canister) LiveInstructions() (used, limit uint64) {
	return c.live.used.Load(), c.live.limit.Load()
}
