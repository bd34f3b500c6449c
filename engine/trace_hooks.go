package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/wasm"
)

// This file holds the hooks engine/trace needs to observe a message while
// it runs. Modules loaded and canisters created under WithTracing run a
// variant of the prepared module whose functions record their calls and
// returns in an event ring (meter.InstrumentEvents); the EventSink in an
// execution's context (WithEvents) receives them, and reads the
// canister's live state meanwhile.

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

// FuncType returns the parameter and result types of function idx of the
// module as loaded.
func (m *Module) FuncType(idx uint32) (params, results []api.ValueType, err error) {
	t, err := m.info.FuncType(idx)
	if err != nil {
		return nil, nil, err
	}
	conv := func(ts []wasm.ValueType) []api.ValueType {
		out := make([]api.ValueType, len(ts))
		for i, t := range ts {
			out[i] = api.ValueType(t)
		}
		return out
	}
	return conv(t.Params), conv(t.Results), nil
}

// EntryPoint returns the entry point function idx (of the module as
// loaded) is exported as, without its "canister_" prefix ("pre_upgrade",
// "update add", "start"), or "" when it is none.
func (m *Module) EntryPoint(idx uint32) string {
	if m.info.Start != nil && *m.info.Start == idx {
		return strings.TrimPrefix(meter.StartExport, "canister_")
	}
	for _, e := range m.info.Exports {
		if e.Kind == wasm.KindFunc && e.Index == idx {
			if p, ok := strings.CutPrefix(e.Name, "canister_"); ok {
				return p
			}
		}
	}
	return ""
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

// tracingKey marks a context under which modules load, and canisters are
// created, traced.
type tracingKey struct{}

// WithTracing returns ctx under which Engine.Load compiles a module's
// traced variant and canisters created or restored run it: every function
// of the module records its calls and returns for the EventSink of the
// execution's context (WithEvents). The traced variant counts exactly the
// instructions of the plain one.
func WithTracing(ctx context.Context) context.Context {
	return context.WithValue(ctx, tracingKey{}, true)
}

func tracing(ctx context.Context) bool {
	v, _ := ctx.Value(tracingKey{}).(bool)
	return v
}

// EventSink receives the function events of a traced canister's
// executions.
type EventSink interface {
	// BeginEvents is called when an execution of mod starts on instance
	// inst, before any of its events, which it records (skip 0). ring
	// sets the countdown of records after which the ring hands them over
	// at the latest, and the events to count instead of recording
	// (EventRing.SetSkip).
	BeginEvents(mod *Module, inst api.Module, ring *EventRing)
	// Events hands over the execution's next records, as the words the
	// ring holds (meter.InstrumentEvents: each event's values, then its
	// code and counter value), at every drain of the ring, also without
	// records (words empty). counts converts a record's counter value to
	// the instructions the message had used there. It returns the new
	// countdown (math.MaxInt64: none). words is reused afterwards.
	Events(words []uint64, counts Counts) (countdown int64)
	// EndEvents is called when the execution returned (err nil) or
	// failed with err, after its last records and before the engine
	// rolls a failed execution back.
	EndEvents(err error)
}

// Counts converts the counter values of a batch of ring records to the
// instructions the message had used at each: the reserve is the same for
// the whole batch, so the count is linear in the counter.
type Counts struct {
	base uint64
	// fixed: the module is unmetered, and only System API charges count
	// (the same for the whole batch).
	fixed bool
}

// At returns the instructions used when the counter global held g.
func (k Counts) At(g int64) uint64 {
	if k.fixed {
		return k.base
	}
	return k.base - uint64(g)
}

// eventsKey is the context key of an execution's EventSink.
type eventsKey struct{}

// WithEvents returns ctx whose executions on traced canisters report
// their events to sink.
func WithEvents(ctx context.Context, sink EventSink) context.Context {
	return context.WithValue(ctx, eventsKey{}, sink)
}

// EventRing is a traced canister's event ring (meter.EventRing), one per
// runtime.
type EventRing struct {
	mem       api.Memory
	pos, left api.Global
	// skip are the running instance's countdowns of entries, exits and
	// grows (meter.EventSkipEnter, EventSkipExit, EventSkipGrow).
	skip  [3]api.MutableGlobal
	words []uint64
	// The running execution's sink and budget; sink nil between
	// executions or without a sink.
	sink EventSink
	b    *budget
}

// SetCountdown makes the ring hand its records over after n more events
// at the latest (n >= 1; math.MaxInt64: only when it is full).
func (r *EventRing) SetCountdown(n int64) {
	r.left.(api.MutableGlobal).Set(uint64(max(n, 1)))
}

// SetSkip makes the running instance count its next n function
// entries, n exits and n grows without recording them (0: record each).
// The events so counted are the ones that would have been recorded:
// Skipped tells how many of each are left, so the sink knows how many
// went by, and how the call depth changed.
func (r *EventRing) SetSkip(n int64) {
	for _, g := range r.skip {
		if g != nil {
			g.Set(uint64(n))
		}
	}
}

// Skipped returns the entries, exits and grows the running instance has
// still to count without recording (see SetSkip).
func (r *EventRing) Skipped() (left [3]int64) {
	for i, g := range r.skip {
		if g != nil {
			left[i] = int64(g.Get())
		}
	}
	return left
}

// newEventRing instantiates the ring module and its host function in rt.
func newEventRing(ctx context.Context, rt wazero.Runtime) (*EventRing, error) {
	r := &EventRing{}
	_, err := rt.NewHostModuleBuilder(meter.EventHostModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(context.Context, api.Module, []uint64) { r.drain() }), nil, nil).
		Export(meter.EventFlush).
		Instantiate(ctx)
	if err != nil {
		return nil, fmt.Errorf("event ring: %w", err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, meter.EventRing(), wazero.NewModuleConfig().WithName(meter.EventModule))
	if err != nil {
		return nil, fmt.Errorf("event ring: %w", err)
	}
	r.mem, r.pos, r.left = mod.ExportedMemory(meter.EventMemory), mod.ExportedGlobal(meter.EventPos), mod.ExportedGlobal(meter.EventLeft)
	return r, nil
}

// begin starts recording an execution of k.
func (r *EventRing) begin(k call) {
	r.sink, _ = k.ctx.Value(eventsKey{}).(EventSink)
	r.b = k.budget
	k.budget.ring = r
	r.pos.(api.MutableGlobal).Set(0)
	r.SetCountdown(math.MaxInt64)
	for i, name := range [...]string{meter.EventSkipEnter, meter.EventSkipExit, meter.EventSkipGrow} {
		r.skip[i], _ = k.inc.inst.ExportedGlobal(name).(api.MutableGlobal)
	}
	if pages, ok := k.inc.inst.ExportedGlobal(meter.EventPages).(api.MutableGlobal); ok {
		var n uint32
		if mem := k.inc.inst.Memory(); mem != nil {
			n = mem.Size() / PageSize
		}
		pages.Set(uint64(n)) // a grow is a change from here
	}
	if r.sink == nil {
		// Nobody listens: count instead of recording.
		r.SetSkip(math.MaxInt64)
		return
	}
	r.SetSkip(0)
	r.sink.BeginEvents(k.inc.mod, k.inc.inst, r)
}

// end hands over the last records and the execution's end.
func (r *EventRing) end(err error) {
	r.drain()
	if r.sink != nil {
		r.sink.EndEvents(err)
	}
	r.b.ring = nil
	r.sink, r.b, r.skip = nil, nil, [3]api.MutableGlobal{}
}

// drain hands the records in the ring to the sink and empties it. It runs
// when the ring calls the host, and before every change of the counter's
// reserve (System API charges, slice refills), which the counter values
// of the records depend on.
//
// The sink hears of every drain, with records or without: while the
// instance counts events instead of recording them, a drain (at every
// metering slice) is where the sink can note how far the run has come.
func (r *EventRing) drain() {
	n := uint32(r.pos.Get())
	if n > 0 {
		r.pos.(api.MutableGlobal).Set(0)
	}
	if r.sink == nil {
		return
	}
	buf, _ := r.mem.Read(0, n)
	var words []uint64
	switch {
	case n == 0:
	case len(buf) >= 8 && littleEndian() && uintptr(unsafe.Pointer(&buf[0]))%8 == 0:
		// The ring's memory as words, read in place: the ring is not
		// written again before the sink returns (the module is paused in
		// the host until then).
		words = unsafe.Slice((*uint64)(unsafe.Pointer(&buf[0])), len(buf)/8)
	default:
		words = r.words[:0]
		for off := 0; off+8 <= len(buf); off += 8 {
			words = append(words, binary.LittleEndian.Uint64(buf[off:]))
		}
		r.words = words
	}
	b := r.b
	counts := Counts{base: b.used, fixed: true}
	if b.cur != nil {
		// Used is linear in the global (meter.Counter.At) until the host
		// charges or refills; a global saturated by a bulk charge is
		// followed by out_of_instructions, which drains first.
		counts = Counts{base: b.used + b.cur.At(0)}
	}
	r.SetCountdown(r.sink.Events(words, counts))
}

// littleEndian reports whether the host stores words as wasm does.
func littleEndian() bool { return binary.NativeEndian.Uint16([]byte{1, 0}) == 1 }

// tracedCode is a module's traced variant, built once when a traced
// canister first needs it.
type tracedCode struct {
	once  sync.Once
	bytes []byte
	err   error
}

// tracedBytes returns m's prepared module with event recording
// (meter.InstrumentEvents over the module's own functions).
func (m *Module) tracedBytes() ([]byte, error) {
	m.traced.once.Do(func() {
		m.traced.bytes, m.traced.err = eventsVariant(m.prepared, m.info, m.shift)
	})
	return m.traced.bytes, m.traced.err
}

func eventsVariant(prepared []byte, info *wasm.Module, shift uint32) ([]byte, error) {
	pm, err := wasm.Parse(prepared)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	counter, ok := pm.Export(meter.CounterExport)
	if !ok {
		return nil, fmt.Errorf("trace: the prepared module has no %q", meter.CounterExport)
	}
	nImp := uint32(info.NumImportedFuncs())
	out, err := meter.InstrumentEvents(pm, meter.EventsLayout{
		First: nImp + shift, N: uint32(len(info.Functions)), Original: nImp, Counter: counter.Index,
	})
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	return out.Encode(), nil
}

// preparedFor returns the bytes c compiles mod from: its traced variant when c
// is traced.
func (c *Canister) preparedFor(mod *Module) ([]byte, error) {
	if c.ring == nil {
		return mod.prepared, nil
	}
	return mod.tracedBytes()
}

// Flush hands the records in the ring to the sink now (the sink calls it
// before a System API call's own event, so the events before it come
// first).
func (r *EventRing) Flush() { r.drain() }

// StackOverflow reports whether t is the call stack's overflow. How deep a
// traced execution goes before it overflows depends on whether its events
// are recorded or counted (EventRing.SetSkip): recording takes stack too.
func (t *Trap) StackOverflow() bool { return t != nil && t.Reason == stackOverflow }
