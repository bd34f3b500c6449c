package trace

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/stable"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
)

// DefaultMaxEvents is how many events a recording keeps when
// Request.MaxEvents is 0. Recording an event costs the run some 40 to 100
// ns (the ring, the recorder following the stack, the log's encoding),
// counting one a global decrement. The incident canister's upgrade, a
// million calls in 16 to 28 ms plain, took 3.5 to 4 times its plain CPU
// time recorded in full, and 1.1 to 1.2 times counted; 32,768 events
// recorded brought it to 1.24 to 1.32 times on a loaded machine, so 16,384,
// about half of that addition, to keep within 1.3
// (BenchmarkTraceOverhead/incident/ratio). The ones past it are counted,
// and a jump re-executes the run to show them.
const DefaultMaxEvents = 1 << 14

// WindowEvents is how many events before its target a jump into a part
// of the run the log does not hold records on its way.
const WindowEvents = 4096

// seenEvents bounds the events recorded by jumps that a session keeps.
const seenEvents = 1 << 16

// Request is the message or upgrade a session traces.
type Request struct {
	// Method is the method to call; empty with Upgrade, Timer or
	// Heartbeat.
	Method string
	// Timer runs canister_global_timer instead of a method; Open refuses
	// a timer that is not set or not due at the run's time (an
	// *engine.TimerNotDueError), as the IC would not run it.
	Timer bool
	// Heartbeat runs canister_heartbeat instead of a method.
	Heartbeat bool
	// Inspect runs canister_inspect_message before an update method, as
	// for an ingress message; the update runs only if it accepts
	// (Session.Inspect is its verdict).
	Inspect bool
	// Cycles are attached to an update method, as a call from another
	// canister attaches them (engine.UpdateOptions.Cycles).
	Cycles ic0.Cycles
	// Calls, when set, gives each execution of the run (the recording and
	// every re-execution, which may run concurrently) a fresh rule for
	// answering the calls the message makes (engine.Calls, e.g.
	// workbench.Answers.Calls); nil fails each call at once with
	// SYS_TRANSIENT, as engine.Canister.Update does. A plain query,
	// which cannot call, ignores it.
	Calls func() *engine.Calls
	// Arg is the argument of the method, or of canister_post_upgrade.
	// nil sends what dfx sends without an argument: candid.DefaultArg.
	Arg []byte
	// ArgText, used when Arg is nil, is the argument as Candid text,
	// typed by the module's candid:service as `canscope call --arg`
	// types it: the method's arguments, or for an upgrade the new
	// module's init arguments. A text that does not encode is an
	// *ArgError.
	ArgText string
	// Upgrade traces an upgrade instead of a message.
	Upgrade bool
	// Module is the upgrade's new module (raw or gzipped wasm); nil
	// upgrades the snapshot's module onto itself.
	Module []byte
	// SkipPreUpgrade does not run the old module's pre_upgrade.
	SkipPreUpgrade bool
	// Rehearse upgrades a second time to the same new module after a
	// successful upgrade, so the new pre_upgrade runs too; the timeline
	// covers both upgrades. The first upgrade commits, so every
	// re-execution restores the snapshot again.
	Rehearse bool
	// Limits are the instruction limits of the run (zero fields: the
	// IC's), as `canscope call --limit` sets them.
	Limits meter.Limits
	// Env, when set, adjusts the environment (caller, time) every
	// execution of the session runs in, as `canscope call --caller
	// --time` do; it must give the same result every time.
	Env func(*ic0.Env)
	// WasmMemoryLimit, when set, is the canister's wasm_memory_limit in
	// bytes (0: none), as `canscope call --wasm-memory-limit` sets it;
	// nil keeps what the IC gives a canister without the setting.
	WasmMemoryLimit *uint64
	// From is the first event the log records; the events before it are
	// counted, not recorded.
	From int
	// MaxEvents caps the events the log records; 0 records
	// DefaultMaxEvents. Events past the cap are counted, not recorded
	// (at the cost of a global decrement each, where recording one costs
	// the run some 40 ns): Elided lists them, and a jump to one still
	// works (it re-executes the run and records the events before it on
	// the way).
	MaxEvents int
	// LogBytes caps the size of the event log (kept in a temporary file
	// beyond 16 MiB); 0 means DefaultLogBytes.
	LogBytes int64
	// Anchors is the number of executions the session keeps paused at
	// evenly spaced points of the run (by instructions), so that a jump
	// re-executes at most 1/(Anchors+1) of it instead of everything from
	// the start. Each anchor runs on its own copy of the canister: it
	// costs the snapshot's state plus the pages the run wrote up to its
	// point, and CPU in the background when it is refilled after a jump
	// used it. 0 keeps none.
	Anchors int
	// AnchorMemory, when not zero, caps the memory the anchors' copies of
	// the snapshot may take (its stored heap and stable pages per anchor):
	// a large snapshot gets fewer anchors or none.
	AnchorMemory uint64
	// AnchorAfter, when not zero, starts the anchors only when
	// re-executing the run from its start is estimated to take at least
	// this long (reexecution): a shorter run is re-executed within the
	// time a jump may take anyway, and anchors would only spend CPU (1.5
	// runs' worth for three of them).
	AnchorAfter time.Duration
	// Watch, when set, is called with the canister of the recorded run
	// just before that run starts, so a progress display can poll its
	// LiveInstructions from another goroutine until Open returns (nothing
	// else of the canister is safe to touch there).
	Watch func(c *engine.Canister)
}

// Tracer opens sessions over the snapshots of a store. It may be used by
// several goroutines.
type Tracer struct {
	bench *workbench.Bench
	store workbench.Store
	// modules holds the traced compilations sessions loaded: tracing or
	// rehearsing the same module again should not compile it again.
	modules *workbench.Modules
	// bufs keeps the event logs' buffers from one session to the next.
	bufs *logBuffers
	// pinned holds the snapshots whose module pin loaded: a snapshot's
	// module never changes, and reading and hashing it again costs a
	// session of a large module milliseconds.
	pinned sync.Map // snapshots.ID -> struct{}
}

// New returns a tracer running snapshots of store on bench (which must
// run over the same store); checkpoints are written to store.
func New(bench *workbench.Bench, store workbench.Store) *Tracer {
	t := &Tracer{bench: bench, store: store, bufs: &logBuffers{}}
	t.modules = workbench.NewModules(func(ctx context.Context, code []byte) (*engine.Module, error) {
		return bench.Engine().Load(WithTracing(ctx), code)
	})
	return t
}

// module loads a module, traced, once per tracer: an upgrade's new module,
// or (pin) the module of a snapshot being traced.
func (t *Tracer) module(ctx context.Context, code []byte) (*engine.Module, error) {
	return t.modules.Load(ctx, code)
}

// pin keeps the traced compilation of snapshot id's module alive for the
// tracer's lifetime. Every recording and re-execution restores a new
// canister, and wazero drops compiled code when its last user closes:
// without a pinned copy each of them would compile the module again.
func (t *Tracer) pin(ctx context.Context, id snapshots.ID) error {
	if _, ok := t.pinned.Load(id); ok {
		return nil
	}
	m, err := t.store.Manifest(id)
	if err != nil {
		return err
	}
	code, err := t.store.ReadBlob(m.Module)
	if err != nil {
		return fmt.Errorf("read the module of %s: %w", m.Ref(), err)
	}
	if _, err = t.module(ctx, code); err != nil {
		return err
	}
	t.pinned.Store(id, struct{}{})
	return nil
}

// Close releases the modules the tracer loaded (closing the engine does
// too). Close sessions first.
func (t *Tracer) Close(ctx context.Context) error {
	t.pinned.Clear()
	return t.modules.Close(ctx)
}

// Session is one traced run of a message or upgrade on a snapshot's
// state: its recorded events, its result, and time travel over it.
// A Session is not safe for concurrent use, except that Len, Event, All,
// Elided and Trap may be called while another goroutine seeks (a terminal
// UI draws the timeline while a jump re-executes).
type Session struct {
	t      *Tracer
	ctx    context.Context // asks for traced canisters (WithTracing)
	baseID snapshots.ID
	req    Request
	query  bool
	// composite: the method is a composite query (its calls answered by
	// Request.Calls).
	composite bool
	newMod    *engine.Module
	module    *engine.Module
	id        string

	// idle holds canisters at the snapshot's state, ready to run.
	idle []*workbench.Run

	log   *eventLog
	miles *milestones
	// starts are the events at which the run's executions began (see
	// recorder.starts).
	starts []int
	total  int    // the run's events, recorded or not
	final  *Event // the last event (the trap, with its message), nil if not known
	// readMu guards what readers use while a seek runs: the log's block
	// cache and seen.
	readMu sync.Mutex
	// seen holds events recorded by jumps into parts the log does not
	// hold, at most seenEvents of them (oldest dropped first).
	seen     map[int]Event
	seenFIFO []int
	logErr   error
	result   engine.Result
	skipped  *workbench.SkippedPreUpgrade
	inspect  *engine.Result // Request.Inspect's verdict
	labelMu  sync.Mutex     // label runs in executions and readers alike
	labels   map[funcRef][2]string
	cur      *cursor   // the position, paused at an event
	anchors  []*cursor // paused (or on their way) at fixed events
	// short: the run re-executes faster than Request.AnchorAfter, so
	// the session keeps no anchors.
	short bool
}

// cursor is an execution of the message on its own canister, paused at
// an event or running towards one.
type cursor struct {
	run    *workbench.Run
	rec    *recorder
	cancel context.CancelFunc
	done   chan execResult
	target int // the event it was last sent to
	at     int // the event it is paused at; -1 while running
}

type execResult struct {
	res engine.Result
	err error
	// committed: the canister's state moved on (a successful update or
	// upgrade), so it cannot run the message again.
	committed bool
	// skipped is an upgrade's skip_pre_upgrade report.
	skipped *workbench.SkippedPreUpgrade
	// inspect is canister_inspect_message's result with Request.Inspect.
	inspect *engine.Result
}

// Open restores snapshot id, runs req on it once while recording its
// events, and returns the session. The snapshot itself is never changed.
func (t *Tracer) Open(ctx context.Context, id snapshots.ID, req Request) (*Session, error) {
	if n := countTrue(req.Upgrade, req.Method != "", req.Timer, req.Heartbeat); n != 1 {
		return nil, errors.New("trace: give either a method, an upgrade, the timer or the heartbeat")
	}
	if (req.Inspect || !req.Cycles.IsZero()) && req.Method == "" {
		return nil, errors.New("trace: inspect_message and cycles apply to a method call")
	}
	if req.Rehearse && !req.Upgrade {
		return nil, errors.New("trace: only an upgrade can be rehearsed")
	}
	if req.MaxEvents < 0 || req.From < 0 || req.LogBytes < 0 {
		return nil, fmt.Errorf("trace: From %d, MaxEvents %d, LogBytes %d: give positive values, or 0 for the defaults", req.From, req.MaxEvents, req.LogBytes)
	}
	if req.LogBytes == 0 {
		req.LogBytes = DefaultLogBytes
	}
	if req.MaxEvents == 0 {
		req.MaxEvents = DefaultMaxEvents
	}
	s := &Session{t: t, ctx: WithTracing(context.WithoutCancel(ctx)), baseID: id, req: req,
		seen: make(map[int]Event), labels: make(map[funcRef][2]string)}
	if err := t.pin(s.ctx, id); err != nil {
		return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
	}
	run, err := s.open()
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
	}
	s.module, s.id = run.Canister.Module(), run.Canister.ID()
	if err := s.prepare(run.Canister); err != nil {
		run.Close(ctx)
		s.Close(ctx)
		return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
	}
	record := func(run *workbench.Run, count bool) (*recorder, execResult) {
		rec := s.newRecorder(ctx, run, -1)
		s.log = newEventLog(req.From, req.MaxEvents, req.LogBytes, s.label, t.bufs)
		s.miles = newMilestones()
		rec.log, rec.miles, rec.noCount = s.log, s.miles, !count
		if req.Watch != nil {
			req.Watch(run.Canister)
		}
		r := s.exec(ctx, run, rec)
		s.release(ctx, run, r.committed)
		return rec, r
	}
	rec, r := record(run, true)
	if r.err == nil && rec.counting && r.res.Trap.StackOverflow() {
		// How deep the stack goes before it overflows depends on the code
		// that runs: recording an event takes stack that counting one
		// does not (the ring's functions), so re-executions, which
		// record, would overflow at another event. Such a run is
		// executed again recording every event, as re-executions do
		// (the log keeps the same ones).
		if err := s.log.close(); err != nil {
			s.Close(ctx)
			return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
		}
		if run, err = s.acquire(ctx); err != nil {
			s.Close(ctx)
			return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
		}
		rec, r = record(run, false)
	}
	s.short = req.AnchorAfter > 0 && reexecution(r.res.Instructions, rec.n) < req.AnchorAfter
	if r.err != nil {
		s.Close(ctx)
		return nil, fmt.Errorf("trace %s: %w", id.Short(), r.err)
	}
	s.result, s.total, s.final, s.logErr, s.skipped, s.inspect = r.res, rec.n, rec.final, rec.logErr, r.skipped, r.inspect
	s.starts = rec.starts
	if err := s.log.sync(); err != nil && s.logErr == nil {
		s.logErr = err
	}
	if s.final != nil && s.final.Index != s.total-1 {
		s.final = nil
	}
	if s.final != nil && s.final.Kind == Trap && r.res.Trap != nil {
		s.final.Message = r.res.Trap.Message
		if rec.counting {
			// The recorder followed only the stack's depth: the engine
			// names the function that trapped.
			t := r.res.Trap
			s.final.Function, s.final.Raw = t.Function, ""
			if t.RawFunction != t.Function {
				s.final.Raw = t.RawFunction
			}
		}
	}
	// With anchors, one of them goes to the trap, if the run trapped: the
	// jump a UI makes first. It starts once the recording is done rather
	// than beside it, so a run that does not trap is executed once (the
	// recording cannot stay at its trap: the engine rolls the canister
	// back before it returns the result).
	var trapCur *cursor
	reserve := 0
	if at, ok := s.Trap(); ok {
		if n, err := s.anchorCount(); err == nil && n > 0 {
			if trapCur, err = s.start(ctx, command{target: at, window: -1}); err != nil {
				s.Close(ctx)
				return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
			}
			reserve = 1
		}
	}
	targets, err := s.anchorTargets(reserve)
	if err != nil {
		s.Close(ctx)
		return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
	}
	for _, target := range targets {
		a, err := s.start(ctx, command{target: target, window: -1})
		if err != nil {
			s.Close(ctx)
			return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
		}
		s.anchors = append(s.anchors, a)
	}
	if trapCur != nil {
		s.anchors = append(s.anchors, trapCur)
	}
	return s, nil
}

// prepare loads an upgrade's new module, checks a method or system task
// exists (and a timer is due on c), and fills in the default argument.
func (s *Session) prepare(c *engine.Canister) error {
	recv := s.module
	switch {
	case s.req.Heartbeat:
		return c.CheckHeartbeat()
	case s.req.Timer:
		return c.CheckGlobalTimer() // an *engine.TimerNotDueError when not due
	}
	if s.req.Upgrade {
		if s.req.Module != nil {
			m, err := s.t.module(s.ctx, s.req.Module)
			if err != nil {
				return fmt.Errorf("load the new module: %w", err)
			}
			recv = m
		}
		s.newMod = recv
	} else {
		m, ok := s.module.Method(s.req.Method)
		if !ok {
			return fmt.Errorf("the module exports no method %q", s.req.Method)
		}
		s.query = m.Kind != engine.Update
		s.composite = m.Kind == engine.CompositeQuery
		if s.query && (s.req.Inspect || !s.req.Cycles.IsZero()) {
			return fmt.Errorf("inspect_message and cycles apply to update calls: %s is a %s", s.req.Method, m.Kind)
		}
	}
	switch {
	case s.req.Arg != nil:
	case s.req.ArgText != "":
		want := workbench.Interface(recv).Args(s.req.Method)
		if s.req.Upgrade {
			if iface := workbench.Interface(recv); iface != nil {
				want = iface.Init
			}
		}
		arg, err := candid.EncodeText(s.req.ArgText, want)
		if err != nil {
			return &ArgError{Err: err}
		}
		s.req.Arg = arg
	default:
		s.req.Arg = candid.DefaultArg()
	}
	return nil
}

// countTrue counts the true values.
func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// ArgError is a Request.ArgText that does not encode as the module's
// declared argument types.
type ArgError struct{ Err error }

func (e *ArgError) Error() string { return "argument: " + e.Err.Error() }

// Unwrap returns the Candid error.
func (e *ArgError) Unwrap() error { return e.Err }

// reexecution estimates how long re-executing a run of instr
// instructions and events events takes: compiled metered code runs 3.4
// G instructions/s on busy loops here and more on bulk memory (the
// longrun fixture: 1.2 G in 0.2 s), so 4 G/s, and an event costs a
// re-execution about 50 ns (the event ring and the recorder following
// the stack). An estimate
// rather than the recording's own time, which a loaded machine inflates,
// so that the same run keeps the same anchors.
func reexecution(instr uint64, events int) time.Duration {
	return time.Duration(instr/4) + time.Duration(events)*50*time.Nanosecond
}

// anchorCount is how many anchors Request.Anchors and
// Request.AnchorMemory allow.
func (s *Session) anchorCount() (int, error) {
	if s.short {
		return 0, nil
	}
	n := s.req.Anchors
	if n <= 0 || s.req.AnchorMemory == 0 {
		return max(n, 0), nil
	}
	m, err := s.t.store.Manifest(s.baseID)
	if err != nil {
		return 0, err
	}
	// An anchor holds the heap and the stable pages it has used: stable
	// memory is read on demand, through a cache of bounded size.
	each := uint64(len(m.Heap.Pages)+min(len(m.Stable.Pages), stable.DefaultCachePages)) * snapshots.PageSize
	if each > 0 {
		n = int(min(uint64(n), s.req.AnchorMemory/each))
	}
	return n, nil
}

// anchorTargets spreads the anchors allowed but reserve (the one at the
// trap) evenly over the run's instructions.
func (s *Session) anchorTargets(reserve int) ([]int, error) {
	n, err := s.anchorCount()
	if err != nil {
		return nil, err
	}
	n -= reserve
	if n <= 0 || s.total == 0 {
		return nil, nil
	}
	var out []int
	total := s.result.Instructions
	for k := 1; k <= n; k++ {
		e := s.miles.before(total * uint64(k) / uint64(n+1))
		if e > 0 && (len(out) == 0 || e > out[len(out)-1]) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *Session) newRecorder(ctx context.Context, run *workbench.Run, target int) *recorder {
	var upgrade *engine.Module
	if s.req.Upgrade {
		upgrade = s.newMod
	}
	rec := newRecorder(ctx, run.Canister, run.Canister.Module(), upgrade, target)
	rec.label = s.label
	return rec
}

// label names function f of the run, once per function: its label and,
// when that differs, its raw name-section name.
func (s *Session) label(f funcRef) (label, raw string) {
	s.labelMu.Lock()
	defer s.labelMu.Unlock()
	if l, ok := s.labels[f]; ok {
		return l[0], l[1]
	}
	m := s.module
	if f.upgrade && s.newMod != nil {
		m = s.newMod
	}
	label, raw = m.FuncLabel(f.fn), m.FuncName(f.fn)
	if raw == label {
		raw = ""
	}
	s.labels[f] = [2]string{label, raw}
	return label, raw
}

// exec runs the session's message once on run under rec.
func (s *Session) exec(ctx context.Context, run *workbench.Run, rec *recorder) execResult {
	c := run.Canister
	c.SetRecorder(rec)
	defer c.SetRecorder(nil)
	rctx := withRecorder(ctx, rec)
	var r execResult
	switch {
	case s.req.Upgrade:
		// The workbench's rehearsal, as the CLI and the UI run it; the
		// recorder sees the system calls of both steps.
		o := workbench.RehearsalOptions{
			Module: s.newMod, Arg: s.req.Arg, SkipPreUpgrade: s.req.SkipPreUpgrade, Again: s.req.Rehearse, Recorder: rec,
			// As icp-cli upgrades without the flag (keep for an EOP
			// canister); a kept heap still counts as replaced below, which
			// only overstates the pages changed.
			Persistence: workbench.ToolPersistence(c.Module()),
			// A single upgrade is discarded, so the canister stays at the
			// snapshot's state for the next execution (the first jump
			// after the recording) instead of a second restore.
			Discard: !s.req.Rehearse,
		}
		if s.req.Rehearse {
			o.AfterUpgrade = func(context.Context) error {
				// The first upgrade is committed whatever the second one
				// does, and the second runs on the new module's heap.
				rec.replaced = true
				return nil
			}
		}
		reh, err := run.Rehearse(rctx, o)
		r.res, r.err, r.skipped = reh.Last().Result, err, reh.Skipped
		r.committed = !o.Discard && len(reh.Steps) > 0 && reh.Steps[0].OK()
		return r
	case s.req.Timer:
		r.res, r.err = c.GlobalTimerWith(rctx, s.calls())
	case s.req.Heartbeat:
		r.res, r.err = c.HeartbeatWith(rctx, s.calls())
	case s.query && s.composite && s.req.Calls != nil:
		r.res, r.err = c.QueryWith(rctx, s.req.Method, s.req.Arg, s.calls())
	case s.query:
		r.res, r.err = c.Query(rctx, s.req.Method, s.req.Arg)
	default:
		if s.req.Inspect {
			// As an ingress message: the update never reaches the
			// canister unless inspect_message accepts it.
			in, err := c.InspectMessage(rctx, s.req.Method, s.req.Arg)
			r.inspect = &in
			if err != nil || in.Status != engine.StatusOK {
				r.res, r.err = in, err
				return r
			}
		}
		r.res, r.err = c.UpdateWith(rctx, s.req.Method, s.req.Arg, engine.UpdateOptions{Cycles: s.req.Cycles, Calls: s.calls()})
	}
	// An update that rejects or does not reply keeps its changes too;
	// only a trap rolls back.
	if r.err == nil && r.res.Status != engine.StatusTrapped && !s.query {
		r.committed = true
	}
	return r
}

// calls is a fresh Request.Calls rule for one execution, nil without.
func (s *Session) calls() *engine.Calls {
	if s.req.Calls == nil {
		return nil
	}
	return s.req.Calls()
}

// acquire returns a canister at the snapshot's state.
func (s *Session) acquire(ctx context.Context) (*workbench.Run, error) {
	if n := len(s.idle); n > 0 {
		run := s.idle[n-1]
		s.idle = s.idle[:n-1]
		return run, nil
	}
	run, err := s.open()
	if err != nil {
		return nil, fmt.Errorf("restore %s: %w", s.baseID.Short(), err)
	}
	return run, nil
}

// open restores the snapshot with the request's limits and environment:
// every execution of the session starts alike.
func (s *Session) open() (*workbench.Run, error) {
	run, err := s.t.bench.OpenWith(s.ctx, s.baseID, engine.Options{Limits: s.req.Limits})
	if err != nil {
		return nil, err
	}
	if s.req.Env != nil {
		env := *run.Canister.Env()
		s.req.Env(&env)
		run.Canister.SetEnv(&env)
	}
	if s.req.WasmMemoryLimit != nil {
		run.Canister.SetWasmMemoryLimit(*s.req.WasmMemoryLimit)
	}
	return run, nil
}

// release takes back a canister after an execution: kept for the next
// one unless the execution committed.
func (s *Session) release(ctx context.Context, run *workbench.Run, committed bool) {
	if committed {
		run.Close(ctx)
		return
	}
	s.idle = append(s.idle, run)
}

// start begins an execution that pauses as cmd says.
func (s *Session) start(ctx context.Context, cmd command) (*cursor, error) {
	run, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(s.ctx)
	rec := s.newRecorder(rctx, run, cmd.target)
	rec.instr, rec.winFrom, rec.atTrap = cmd.instr, cmd.window, cmd.trap
	// The executions that end before the first event to see are counted,
	// not recorded.
	first := cmd.target
	if cmd.window >= 0 && (first < 0 || cmd.window < first) {
		first = cmd.window
	}
	if cmd.trap || first < 0 {
		first = 0
	}
	if k, _ := slices.BinarySearch(s.starts, first+1); k > 0 {
		rec.countUntil = s.starts[k-1]
	}
	c := &cursor{run: run, rec: rec, cancel: cancel, done: make(chan execResult, 1), target: cmd.target, at: -1}
	go func() { c.done <- s.exec(rctx, run, rec) }()
	return c, nil
}

// parked reports whether c is paused, noting where without waiting.
func (c *cursor) parked() bool {
	if c.at < 0 {
		select {
		case c.at = <-c.rec.paused:
		default:
		}
	}
	return c.at >= 0
}

// stop abandons c, paused or running, waits for the engine to roll its
// canister back, and keeps the canister for later executions.
func (s *Session) stop(ctx context.Context, c *cursor) error {
	if c == nil {
		return nil
	}
	if c.parked() {
		// Stopped from inside the event ring: no need for wazero to close
		// the instance as it does on a cancelled context.
		c.rec.resume <- command{abandon: true}
	}
	c.cancel()
	r := <-c.done
	s.release(ctx, c.run, r.committed)
	if r.err != nil && !errors.Is(r.err, errAbandoned) && !errors.Is(r.err, context.Canceled) {
		return fmt.Errorf("stop the re-execution: %w", r.err)
	}
	return nil
}

// Len returns the number of events of the run, recorded or not: every
// index below Len can be travelled to.
func (s *Session) Len() int { return s.total }

// Event returns event i when the session holds it: recorded in the log,
// by an earlier jump, or the trap. ok is false for an event that is
// counted but not recorded (see Elided); Seek to it (or after it) records
// it. A log that cannot be read returns an error.
func (s *Session) Event(i int) (e Event, ok bool, err error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	switch {
	case i < 0 || i >= s.total:
		return Event{}, false, nil
	case s.final != nil && i == s.final.Index:
		return *s.final, true, nil
	case s.log.contains(i):
		e, err := s.log.event(i)
		return e, err == nil, err
	}
	e, ok = s.seen[i]
	return e, ok, nil
}

// All iterates over the events the log recorded, in order, and then the
// last event (the trap) when the log did not hold it. It stops at the first read error,
// which err then returns.
func (s *Session) All() (seq iter.Seq[Event], err func() error) {
	var failed error
	seq = func(yield func(Event) bool) {
		for i := s.log.first; i < s.log.first+s.log.n; i++ {
			s.readMu.Lock()
			e, err := s.log.event(i)
			s.readMu.Unlock()
			if err != nil {
				failed = err
				return
			}
			if s.final != nil && i == s.final.Index {
				e = *s.final
			}
			if !yield(e) {
				return
			}
		}
		if s.final != nil && !s.log.contains(s.final.Index) {
			yield(*s.final)
		}
	}
	return seq, func() error { return failed }
}

// Span is a range of events the log did not record: From to To - 1.
type Span struct {
	From int `json:"from"`
	To   int `json:"to"`
	// Reason says why they were not recorded.
	Reason string `json:"reason"`
}

// Elided lists the ranges of events the log did not record (the last
// event, the trap or the entry point's exit, is always kept). They are counted and can be travelled to: Seek
// re-executes the run and records the events before its target.
func (s *Session) Elided() []Span {
	var out []Span
	if s.log.first > 0 {
		out = append(out, Span{From: 0, To: min(s.log.first, s.total), Reason: fmt.Sprintf("before event %d, where the log starts", s.log.first)})
	}
	end := s.total
	if s.final != nil {
		end--
	}
	if from := s.log.first + s.log.n; from < end {
		reason := fmt.Sprintf("past the log's size limit of %s", humanBytes(s.log.maxBytes))
		switch {
		case s.logErr != nil:
			reason = s.logErr.Error()
		case s.log.max > 0 && s.log.n >= s.log.max:
			reason = fmt.Sprintf("past the log's limit of %d events", s.log.max)
		}
		out = append(out, Span{From: from, To: end, Reason: reason})
	}
	return out
}

// Truncated reports whether the log did not record every event.
func (s *Session) Truncated() bool { return len(s.Elided()) > 0 }

// Trap returns the index of the trap event, if the run trapped.
func (s *Session) Trap() (int, bool) {
	if s.final == nil || s.final.Kind != Trap {
		return 0, false
	}
	return s.final.Index, true
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Result returns the outcome of the run.
func (s *Session) Result() engine.Result { return s.result }

// SkippedPreUpgrade is what an upgrade with SkipPreUpgrade read in place
// of the discarded heap (workbench.Rehearsal.Skipped); nil otherwise.
func (s *Session) SkippedPreUpgrade() *workbench.SkippedPreUpgrade { return s.skipped }

// Inspect is canister_inspect_message's result for a Request.Inspect run
// (StatusOK: it accepted, and Result is the update's), nil otherwise.
func (s *Session) Inspect() *engine.Result { return s.inspect }

// Base returns the snapshot the run started from.
func (s *Session) Base() snapshots.ID { return s.baseID }

// CanisterID returns the textual id of the traced canister.
func (s *Session) CanisterID() string { return s.id }

// Module returns the module that ran the message, or for an upgrade the
// old module.
func (s *Session) Module() *engine.Module { return s.module }

// Seek moves to event i and returns the state there. It continues the
// closest execution paused at or before i (the current position or an
// anchor) and otherwise re-executes the message from its start. When the
// session does not hold the events before i, it records up to
// WindowEvents of them on the way (see Event). The View is valid until
// the next Seek, Checkpoint or Close. A cancelled ctx stops the
// re-execution and leaves no position.
func (s *Session) Seek(ctx context.Context, i int) (*View, error) {
	if i < 0 || i >= s.total {
		return nil, fmt.Errorf("seek to event %d: the run has events 0 to %d", i, s.total-1)
	}
	return s.seek(ctx, i, 0)
}

// SeekInstructions moves to the first event at or after instruction count
// n (the last event when the run used fewer) and returns the state there.
func (s *Session) SeekInstructions(ctx context.Context, n uint64) (*View, error) {
	if s.total == 0 {
		return nil, fmt.Errorf("seek to instruction %d: the run has no events", n)
	}
	if n == 0 {
		return s.seek(ctx, 0, 0)
	}
	if n > s.result.Instructions {
		return s.seek(ctx, s.total-1, 0)
	}
	// The log finds the event when it holds the one before it too.
	s.readMu.Lock()
	i, ok, err := s.log.seekInstructions(n)
	s.readMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("seek to instruction %d: %w", n, err)
	} else if ok && (i > s.log.first || i == 0) {
		return s.seek(ctx, i, 0)
	}
	v, err := s.seek(ctx, -1, n)
	if err != nil {
		return nil, fmt.Errorf("seek to instruction %d: %w", n, err)
	}
	return v, nil
}

// known reports whether the session holds event i.
func (s *Session) known(i int) bool {
	_, ok, _ := s.Event(i)
	return ok
}

// seek moves to event i, or with instr > 0 to the first event at or after
// that instruction count.
func (s *Session) seek(ctx context.Context, i int, instr uint64) (*View, error) {
	what := fmt.Sprintf("event %d", i)
	if instr > 0 {
		what = fmt.Sprintf("instruction %d", instr)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("seek to %s: %w", what, context.Cause(ctx))
	}
	if s.cur != nil && i >= 0 && s.cur.at == i {
		return s.view(), nil
	}
	// before reports whether an execution paused at event at has not
	// passed the target yet.
	before := func(c *cursor) bool {
		if instr > 0 {
			used, _, _ := c.rec.c.Instructions()
			return used < instr
		}
		return c.at <= i
	}
	best, slot := s.cur, -1
	if best != nil && (best.at < 0 || !before(best)) {
		best = nil
	}
	// The closest anchor still on its way to its place is worth waiting
	// for when it has less left to run than anything paused.
	var coming *cursor
	for _, a := range s.anchors {
		if instr == 0 && !a.parked() && a.target >= 0 && a.target <= i &&
			(best == nil || a.target > best.at) && (coming == nil || a.target > coming.target) {
			coming = a
		}
	}
	if coming != nil {
		select {
		case coming.at = <-coming.rec.paused:
		case r := <-coming.done:
			// It ended without reaching its place: drop it.
			s.release(ctx, coming.run, r.committed)
			coming.target, coming.done = -1, make(chan execResult, 1)
			coming.done <- r
		case <-ctx.Done():
			return nil, fmt.Errorf("seek to %s: %w", what, context.Cause(ctx))
		}
	}
	for k, a := range s.anchors {
		if a.parked() && before(a) && (best == nil || a.at > best.at) {
			best, slot = a, k
		}
	}
	if best != s.cur {
		if err := s.stop(ctx, s.cur); err != nil {
			return nil, err
		}
		s.cur = nil
	}
	from := 0
	if best != nil {
		from = best.at + 1
	}
	// The events to record on the way: those before the target the
	// session does not hold.
	window := -1
	switch {
	case instr > 0:
		window = max(from, s.miles.before(instr)-WindowEvents)
	case !s.known(i) || i > 0 && !s.known(i-1):
		window = max(from, i-WindowEvents+1)
	}
	cmd := command{target: i, instr: instr, window: window}
	switch {
	case slot >= 0:
		// Use the anchor and send a new execution to its place.
		s.cur = best
		a, err := s.start(ctx, command{target: best.target, window: -1})
		if err != nil {
			return nil, fmt.Errorf("seek to %s: %w", what, err)
		}
		s.anchors[slot] = a
	case best == nil:
		c, err := s.start(ctx, cmd)
		if err != nil {
			return nil, fmt.Errorf("seek to %s: %w", what, err)
		}
		s.cur = c
	}
	if s.cur.at >= 0 {
		if s.cur.at == i {
			return s.view(), nil
		}
		s.cur.at, s.cur.target = -1, i
		s.cur.rec.resume <- cmd
	}
	select {
	case at := <-s.cur.rec.paused:
		s.cur.at = at
		s.keep(s.cur.rec.win)
		s.cur.rec.win = nil
		return s.view(), nil
	case r := <-s.cur.done:
		s.cur.cancel()
		s.release(ctx, s.cur.run, r.committed)
		s.cur = nil
		if r.err != nil {
			return nil, fmt.Errorf("seek to %s: %w", what, r.err)
		}
		return nil, fmt.Errorf("seek to %s: the re-execution ended without reaching it (the run is not deterministic)", what)
	case <-ctx.Done():
		s.stop(ctx, s.cur)
		s.cur = nil
		return nil, fmt.Errorf("seek to %s: %w", what, context.Cause(ctx))
	}
}

// keep adds events a jump recorded to those the session holds, dropping
// the oldest beyond seenEvents.
func (s *Session) keep(evs []Event) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	for _, e := range evs {
		if s.log.contains(e.Index) {
			continue
		}
		if _, ok := s.seen[e.Index]; !ok {
			s.seenFIFO = append(s.seenFIFO, e.Index)
		}
		s.seen[e.Index] = e
	}
	for len(s.seenFIFO) > seenEvents {
		delete(s.seen, s.seenFIFO[0])
		s.seenFIFO = s.seenFIFO[1:]
	}
}

// Close stops every execution and releases the canisters.
func (s *Session) Close(ctx context.Context) error {
	var errs []error
	for _, c := range append([]*cursor{s.cur}, s.anchors...) {
		errs = append(errs, s.stop(ctx, c))
	}
	s.cur, s.anchors = nil, nil
	for _, run := range s.idle {
		errs = append(errs, run.Close(ctx))
	}
	s.idle = nil
	if s.log != nil {
		s.readMu.Lock()
		errs = append(errs, s.log.close())
		s.readMu.Unlock()
	}
	return errors.Join(errs...)
}
