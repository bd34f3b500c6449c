package trace

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"

	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/wasm"
)

// errAbandoned is the panic a paused execution is stopped with when the
// session moves elsewhere; the engine turns it into an error and rolls the
// canister back.
var errAbandoned = errors.New("trace: execution abandoned by time travel")

// frame is one canister function on the traced call stack.
type frame struct {
	mod *engine.Module
	ref funcRef
}

// command tells a paused execution what to do next.
type command struct {
	target  int  // pause again after this event
	abandon bool // stop the execution
	// instr, when not zero, pauses instead at the first event at or after
	// this instruction count.
	instr uint64
	// window records the events up to target from this index on; -1
	// records none.
	window int
	// trap pauses at the trap, whatever its index (it is the last event).
	trap bool
}

// recorder follows one execution of a session's message: it numbers the
// events (the event ring's and the System API recorder's together), keeps the
// call stack, and records events or pauses at a target event. Every
// execution of the same message produces the same events, which is what
// makes an event index a position in time.
//
// The first execution writes its events to the session's event log (as
// far as the log's limits allow) and notes milestones over the whole run;
// a later one records only the window of events it is told to, so that a
// jump into a part the log does not hold shows the events before it.
type recorder struct {
	c       *engine.Canister
	old     *engine.Module // the module running at the start
	upgrade *engine.Module // an upgrade's new module, nil for a message

	log   *eventLog   // the first execution's log, nil in re-executions
	miles *milestones // the first execution's milestones
	label labeler
	// win collects the events from winFrom up to the target as Events;
	// winFrom -1 records none.
	winFrom int
	win     []Event
	// final is the last trap or entry point exit, kept whether or not the
	// log holds it.
	final *Event

	n      int  // events so far
	target int  // pause after event target; -1: never
	atTrap bool // pause at the trap too
	instr  uint64
	stack  []frame
	// ring is the running execution's event ring; starts is scratch
	// space for Events.
	ring    *engine.EventRing
	recs    []record
	fk      int // the running module's index in fns
	phase   string
	phaseID uint64
	mod     *engine.Module // the module of the running phase
	inst    api.Module     // the running instance
	// skipSet is the ring's countdowns of entries, exits and grows as
	// last set or read (engine.EventRing.Skipped): the events the running
	// instance counts without recording (0: it records each).
	skipSet [3]int64
	// counting: the first execution recorded all the log holds and now
	// only counts events. The stack is no longer followed, only its depth
	// (depth); the phase comes from each execution's first event, the
	// trap's function from the engine's result (Session.Open).
	counting bool
	depth    int
	// noCount keeps the first execution recording every event to the
	// ring to the end (the log still keeps only what it holds).
	noCount bool
	// starts are the events at which the first execution's executions
	// (an upgrade's pre_upgrade, start, post_upgrade) began.
	starts []int
	// countUntil: a re-execution counts the executions that begin before
	// this event (one of starts) instead of recording them.
	countUntil int
	stable     map[uint64]struct{}
	// stableWritten sums the sizes of the stable writes so far, kept or
	// rolled back: the rule workbench's rehearsal counts by.
	stableWritten uint64
	sigs          map[string]ic0.Function
	fns           [2][]fnInfo // by prepared function index: the old module's, an upgrade's
	// replaced is set once an upgrade's new module runs (or, in a
	// rehearsal, was installed): from then on the heap is a new one.
	replaced bool
	trapped  bool
	stopping bool
	logErr   error  // the log could not be written
	text     string // what the debug_print being emitted printed

	// ctx is the execution's context, kept because SystemCall has none
	// and a paused execution must notice its cancellation.
	ctx    context.Context
	paused chan int // the event index paused at
	resume chan command
}

func newRecorder(ctx context.Context, c *engine.Canister, old, upgrade *engine.Module, target int) *recorder {
	return &recorder{
		c: c, old: old, upgrade: upgrade, target: target, winFrom: -1,
		stable: make(map[uint64]struct{}),
		sigs:   make(map[string]ic0.Function),
		ctx:    ctx,
		paused: make(chan int, 1),
		resume: make(chan command),
	}
}

// withRecorder returns ctx under which the executions of traced
// canisters report their events to r.
func withRecorder(ctx context.Context, r *recorder) context.Context {
	return engine.WithEvents(WithTracing(ctx), r)
}

// WithTracing returns ctx under which modules loaded (engine.Engine.Load)
// and canisters restored or upgraded run the traced variant of their
// code (engine.WithTracing): its functions record their calls and returns
// for the recorder of the execution. Outside a traced execution the
// records go nowhere, at the cost of a few stores per call.
func WithTracing(ctx context.Context) context.Context { return engine.WithTracing(ctx) }

func (r *recorder) done() bool { return r.trapped || r.stopping }

// fnInfo is what the recorder needs of a function of the running module,
// looked up once per execution.
type fnInfo struct {
	set             bool
	ref             funcRef
	params, results []api.ValueType
	// paramWords and resultWords are the ring words of the values.
	paramWords, resultWords int
}

// info returns the running module's fnInfo for function fn (an index of
// the module as loaded).
func (r *recorder) info(fn uint32) *fnInfo {
	k := r.fk
	idx := int(fn)
	if idx >= len(r.fns[k]) {
		r.fns[k] = append(r.fns[k], make([]fnInfo, idx+1-len(r.fns[k]))...)
	}
	f := &r.fns[k][idx]
	if !f.set {
		params, results, _ := r.mod.FuncType(fn)
		*f = fnInfo{set: true, ref: funcRef{upgrade: k == 1, fn: fn}, params: params, results: results,
			paramWords: words(params), resultWords: words(results)}
	}
	return f
}

// words counts the ring words of values of types ts.
func words(ts []api.ValueType) int {
	n := 0
	for _, t := range ts {
		n += meter.ValueWords(wasm.ValueType(t))
	}
	return n
}

// record is a ring record for Events: where its values begin, and its
// function (nil for a grow).
type record struct {
	at int
	f  *fnInfo
}

// noValues is an empty, non-nil value list.
var noValues = []uint64{}

// BeginEvents implements engine.EventSink: an execution of mod begins.
func (r *recorder) BeginEvents(mod *engine.Module, inst api.Module, ring *engine.EventRing) {
	r.ring, r.mod, r.inst = ring, mod, inst
	r.fk = 0
	if mod == r.upgrade && r.upgrade != r.old {
		r.fk = 1
	}
	r.skipSet = [3]int64{} // the ring records the new execution's events
	if r.log != nil {
		r.starts = append(r.starts, r.n)
	}
	if r.log == nil {
		// A re-execution counts the executions that end before the
		// events it must see (the stack is empty between executions, so
		// it knows the stack again where it records).
		if counted := r.n < r.countUntil; counted != r.counting {
			r.counting, r.stack = counted, r.stack[:0]
		}
	}
	if r.counting && !r.done() {
		// Record the execution's first event (its entry point: the
		// phase), then count again.
		r.stack, r.depth = r.stack[:0], 0
		ring.SetCountdown(1)
		return
	}
	ring.SetCountdown(r.countdown())
}

// stackDepth is the number of canister functions on the stack: the
// stack's while the recorder follows it, the counted depth after.
func (r *recorder) stackDepth() int {
	if r.counting {
		return r.depth
	}
	return len(r.stack)
}

// sync adds the events the running instance counted without recording
// since the skip countdown was last set or read.
func (r *recorder) sync() {
	if r.skipSet == [3]int64{} || r.ring == nil {
		return
	}
	left := r.ring.Skipped()
	enters, exits := r.skipSet[0]-left[0], r.skipSet[1]-left[1]
	r.n += int(enters + exits + r.skipSet[2] - left[2])
	r.depth += int(enters - exits)
	r.skipSet = left
}

// count makes the first execution count the rest of its events instead
// of recording them, once the log takes no more and nothing asks for an
// event as it happens.
func (r *recorder) count() {
	if r.counting || r.noCount || r.log == nil || r.n <= r.log.first || r.log.accepts() ||
		r.target >= 0 || r.instr > 0 || r.winFrom >= 0 || r.atTrap || r.ring == nil {
		return
	}
	r.counting = true
}

// EndEvents implements engine.EventSink: a failed execution traps here,
// before the engine rolls the canister back.
func (r *recorder) EndEvents(err error) {
	r.sync()
	if err == nil && r.counting && len(r.stack) > 0 {
		r.countedExit()
	}
	if err == nil || r.done() {
		return
	}
	r.trapped = true
	r.emit(Trap, r.stackDepth(), "", noValues, nil, noValues, nil, true, r.instructions())
}

// countedExit keeps the exit of the entry point (depth 0, the last event
// of an execution that returned) when the execution was counted, not
// recorded: the run's last event is always kept. Entry points have no
// results, which is all a counted exit would not know.
func (r *recorder) countedExit() {
	// The stack's bottom is the entry point, whatever happened above it
	// since the recorder stopped following the stack.
	r.stack = r.stack[:1]
	f := r.info(r.stack[0].ref.fn)
	if f.resultWords > 0 {
		return
	}
	ev := r.event(r.n-1, Exit, 0, "", noValues, noValues, r.instructions())
	r.final = &ev
}

// countdown is the number of events until the next one the recorder must
// see as it happens: its target, or every one while it looks for an
// instruction count.
func (r *recorder) countdown() int64 {
	switch {
	case r.done() || r.counting:
		return math.MaxInt64
	case r.instr > 0:
		return 1
	case r.target >= r.n:
		return int64(r.target-r.n) + 1
	case r.log != nil && r.log.max > 0:
		// The first execution hears when the log is full, to count
		// from there on.
		if rem := r.log.max - (r.n - r.log.first); rem >= 0 {
			return int64(rem) + 1
		}
	}
	return math.MaxInt64
}

// Events implements engine.EventSink: it emits the records of the ring
// in order. Each record is its values, then its code and counter value,
// so they are delimited from the end.
func (r *recorder) Events(ws []uint64, counts engine.Counts) int64 {
	if r.done() {
		return math.MaxInt64
	}
	recs := r.recs[:0]
	for i := len(ws); i >= 2; {
		code := ws[i-2]
		var f *fnInfo
		n := 1 // a grow's size
		switch code & 3 {
		case meter.EventEnter:
			f = r.info(uint32(code >> 2))
			n = f.paramWords
		case meter.EventExit:
			f = r.info(uint32(code >> 2))
			n = f.resultWords
		default:
			n = 2 // a grow's new and old size
		}
		i -= 2 + n
		if i < 0 {
			break
		}
		recs = append(recs, record{i, f})
	}
	r.recs = recs
	end := len(ws)
	for k := len(recs) - 1; k >= 0 && !r.done(); k-- {
		rec := recs[k]
		if k > 0 {
			end = recs[k-1].at
		} else {
			end = len(ws)
		}
		code, at := ws[end-2], counts.At(int64(ws[end-1]))
		vals := ws[rec.at : end-2]
		switch code & 3 {
		case meter.EventGrow:
			r.grow(uint32(vals[0]), uint32(vals[1]), at)
		case meter.EventEnter:
			r.enter(rec.f, vals, at)
		case meter.EventExit:
			r.exit(rec.f, vals, at)
		}
	}
	r.sync()
	if !r.counting {
		r.count()
	}
	if r.counting && !r.done() {
		// Where the counted run is now: the milestones go on over the
		// events the log does not hold.
		if r.miles != nil {
			r.miles.note(r.n, r.instructions())
		}
		if r.skipSet == [3]int64{} {
			r.depth = len(r.stack)
			r.skipSet = [3]int64{math.MaxInt64, math.MaxInt64, math.MaxInt64}
			r.ring.SetSkip(math.MaxInt64)
		}
	}
	return r.countdown()
}

func (r *recorder) enter(f *fnInfo, params []uint64, instr uint64) {
	if len(r.stack) == 0 {
		r.startPhase(f.ref.fn)
	}
	depth := len(r.stack)
	r.stack = append(r.stack, frame{mod: r.mod, ref: f.ref})
	if !r.logOnly(depth, false, instr) {
		r.emit(Enter, depth, "", params, f.params, noValues, nil, false, instr)
		return
	}
	r.logCall(false, depth, f, params, f.params, instr)
}

func (r *recorder) exit(f *fnInfo, results []uint64, instr uint64) {
	if len(r.stack) == 0 {
		return
	}
	depth := len(r.stack) - 1
	if !r.logOnly(depth, true, instr) {
		r.emit(Exit, depth, "", noValues, nil, results, f.results, false, instr)
	} else {
		r.logCall(true, depth, f, results, f.results, instr)
	}
	r.stack = r.stack[:depth]
}

// logOnly reports whether the next event, a call or return at depth,
// only goes to the log and the milestones (emit's common case): it is not
// the run's last event, not in a window, not a place to pause.
func (r *recorder) logOnly(depth int, exit bool, instr uint64) bool {
	idx := r.n
	return r.log != nil && !(exit && depth == 0) && (r.winFrom < 0 || idx < r.winFrom) &&
		idx != r.target && (r.instr == 0 || instr < r.instr)
}

// logCall is emit for an event logOnly accepts.
func (r *recorder) logCall(exit bool, depth int, f *fnInfo, vals []uint64, types []api.ValueType, instr uint64) {
	idx := r.n
	r.n++
	if idx >= r.log.first && r.log.accepts() {
		if err := r.log.appendCall(exit, depth, r.phaseID, f.ref.code(), vals, types, instr); err != nil {
			r.logErr, r.log.full = err, true
		}
	}
	if r.miles.due(idx) {
		r.miles.note(idx, instr)
	}
}

// grow emits the Grow event of a memory.grow that changed the heap size
// from old to pages.
func (r *recorder) grow(pages, old uint32, instr uint64) {
	r.emit(Grow, len(r.stack), HeapMemory, []uint64{uint64(pages - old)}, nil, []uint64{uint64(old)}, nil, false, instr)
}

// instructions returns the instructions the message has used so far.
func (r *recorder) instructions() uint64 {
	used, _, _ := r.c.Instructions()
	return used
}

// SystemCall implements ic0.Recorder.
func (r *recorder) SystemCall(name string, params, results []uint64) {
	if r.done() {
		return
	}
	if r.ring != nil {
		r.ring.Flush() // the events before the call
	}
	trapped := results == nil
	r.noteStable(name, params, results)
	f, ok := r.sigs[name]
	if !ok {
		f, _ = ic0.Lookup(name)
		r.sigs[name] = f
	}
	r.text = ""
	if name == "debug_print" && !trapped && r.inst != nil && len(params) >= 2 {
		// Read now: the heap moves on.
		a := masked(params[:2], f.Params)
		r.text = ic0.DebugText(r.inst, a[0], a[1])
	}
	r.emit(Syscall, r.stackDepth(), name, params, f.Params, results, f.Results, false, r.instructions())
	r.text = ""
	if trapped {
		r.trapped = true
		r.emit(Trap, r.stackDepth(), "", noValues, nil, noValues, nil, true, r.instructions())
		return
	}
	if grown, old, ok := stableGrow(name, params, results); ok {
		r.emit(Grow, r.stackDepth(), StableMemory, []uint64{grown}, nil, []uint64{old}, nil, false, r.instructions())
	}
	if r.ring != nil {
		r.ring.SetCountdown(r.countdown())
	}
}

// startPhase notes a new entry point (depth 0): its name, and from an
// upgrade's start function on that the heap is a new one.
func (r *recorder) startPhase(fn uint32) {
	r.phase = r.mod.EntryPoint(fn)
	if r.upgrade != nil && r.phase != "pre_upgrade" {
		r.replaced = true
	}
	if r.log != nil {
		r.phaseID = r.log.intern(r.phase)
	}
}

// noteStable remembers the stable pages a write touches, for checkpoints
// (the stable memory does not list an open message's writes).
func (r *recorder) noteStable(name string, params, results []uint64) {
	var off, size uint64
	switch name {
	case "stable_write":
		off, size = uint64(uint32(params[0])), uint64(uint32(params[2]))
	case "stable64_write":
		off, size = params[0], params[2]
	default:
		return
	}
	r.stableWritten += size
	if results == nil || size == 0 {
		return
	}
	for p := off / engine.PageSize; p <= (off+size-1)/engine.PageSize; p++ {
		r.stable[p] = struct{}{}
	}
}

// stableGrow reports a successful stable grow call: pages added and the
// old size.
func stableGrow(name string, params, results []uint64) (grown, old uint64, ok bool) {
	switch name {
	case "stable_grow":
		if uint32(results[0]) == ^uint32(0) {
			return 0, 0, false
		}
		return uint64(uint32(params[0])), uint64(uint32(results[0])), uint32(params[0]) != 0
	case "stable64_grow":
		if results[0] == ^uint64(0) {
			return 0, 0, false
		}
		return params[0], results[0], params[0] != 0
	}
	return 0, 0, false
}

// masked copies raw wasm values, keeping only the low 32 bits of i32 and
// f32 values: the engine leaves the upper half of a 32-bit value on the
// stack undefined. It keeps nil as nil.
func masked(vs []uint64, types []api.ValueType) []uint64 {
	if vs == nil {
		return nil
	}
	out := make([]uint64, len(vs))
	for i, v := range vs {
		if i < len(types) && (types[i] == api.ValueTypeI32 || types[i] == api.ValueTypeF32) {
			v = uint64(uint32(v))
		}
		out[i] = v
	}
	return out
}

// emit numbers an event, records it where this execution records, and
// pauses when it is the target. final marks the trap, after which the
// execution unwinds and cannot be stopped. The value slices are only read.
func (r *recorder) emit(kind Kind, depth int, name string, args []uint64, argTypes []api.ValueType, results []uint64, resTypes []api.ValueType, final bool, instr uint64) {
	idx := r.n
	r.n++
	if args == nil {
		args = noValues
	}
	if results == nil && kind != Syscall {
		results = noValues // only a trapped System API call has no results
	}
	if r.log != nil {
		if idx >= r.log.first && r.log.accepts() {
			var fn uint64
			if len(r.stack) > 0 {
				fn = r.stack[len(r.stack)-1].ref.code()
			}
			var nameID uint64
			if name != "" {
				nameID = r.log.intern(name)
			}
			if err := r.log.append(kind, depth, r.phaseID, fn, nameID, args, argTypes, results, resTypes, instr, r.text); err != nil {
				r.logErr, r.log.full = err, true
			}
		}
		if r.miles.due(idx) {
			r.miles.note(idx, instr)
		}
	}
	// The run's last event is kept whatever the log holds: it is the
	// trap, or an entry point's exit.
	last := final || kind == Exit && depth == 0
	if last || r.winFrom >= 0 && idx >= r.winFrom {
		ev := r.event(idx, kind, depth, name, masked(args, argTypes), masked(results, resTypes), instr)
		if last {
			r.final = &ev
		}
		if r.winFrom >= 0 && idx >= r.winFrom {
			if len(r.win) >= 2*WindowEvents {
				// Keep the last WindowEvents: the ones before the target.
				r.win = append(r.win[:0], r.win[len(r.win)-WindowEvents:]...)
			}
			r.win = append(r.win, ev)
		}
	}
	if idx == r.target || r.instr > 0 && instr >= r.instr || final && r.atTrap {
		r.pause(idx, final)
	}
}

// event builds an Event for the window or the trap.
func (r *recorder) event(idx int, kind Kind, depth int, name string, args, results []uint64, instr uint64) Event {
	ev := Event{Index: idx, Kind: kind, Phase: r.phase, Name: name, Depth: depth,
		Args: args, Results: results, Instructions: instr, Text: r.text}
	if len(r.stack) > 0 {
		ev.Function, ev.Raw = r.label(r.stack[len(r.stack)-1].ref)
	}
	return ev
}

// pause hands the execution to the session until it says where to go.
func (r *recorder) pause(idx int, final bool) {
	r.paused <- idx
	var cmd command
	select {
	case cmd = <-r.resume:
	case <-r.ctx.Done():
		cmd.abandon = true
	}
	if !cmd.abandon {
		r.target, r.instr, r.winFrom, r.win, r.atTrap = cmd.target, cmd.instr, cmd.window, nil, cmd.trap
		return
	}
	r.stopping = true
	if !final {
		// A trap unwinds on its own; anything else is stopped here.
		panic(errAbandoned)
	}
}

// milestones note the instruction count at events of the first
// execution spread over the whole run, whatever the log holds, so that an
// instruction count maps to an event index and anchors spread evenly:
// at every stride-th event while the run is recorded, and at every drain
// of the event ring (every metering slice, every System API charge) once
// it is only counted. The stride doubles whenever the list reaches
// maxMilestones, dropping every other one: a run of any length keeps at
// most that many.
type milestones struct {
	stride int         // the least events between two kept milestones
	at     []milestone // ascending
}

// milestone is the instruction count when event was next.
type milestone struct {
	event int
	instr uint64
}

// maxMilestones bounds the milestones (4,096 of them, 64 KiB): an anchor or a
// jump to an instruction count starts from the closest one, within a
// 2,048th of the run, and re-executes the rest.
const maxMilestones = 1 << 12

func newMilestones() *milestones { return &milestones{stride: 1} }

func (m *milestones) due(idx int) bool {
	return len(m.at) == 0 || idx >= m.at[len(m.at)-1].event+m.stride
}

func (m *milestones) note(idx int, instr uint64) {
	if !m.due(idx) {
		return
	}
	m.at = append(m.at, milestone{idx, instr})
	if len(m.at) >= maxMilestones {
		for k := range len(m.at) / 2 {
			m.at[k] = m.at[2*k]
		}
		m.at = m.at[:len(m.at)/2]
		m.stride *= 2
	}
}

// before returns the last milestone event whose count is below n (0 when
// none is).
func (m *milestones) before(n uint64) int {
	k, _ := slices.BinarySearchFunc(m.at, n, func(e milestone, n uint64) int { return cmp.Compare(e.instr, n) })
	if k == 0 {
		return 0
	}
	return m.at[k-1].event
}
