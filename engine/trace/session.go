package trace

import (
	"context"
	"errors"
	"fmt"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/stable"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
)

// DefaultMaxEvents caps the events a session records (about 200 bytes
// each, so some 50 MiB of timeline). A longer run still executes to its
// end; only its first DefaultMaxEvents events can be seen and travelled to.
const DefaultMaxEvents = 1 << 18

// Request is the message or upgrade a session traces.
type Request struct {
	// Method is the method to call; empty with Upgrade.
	Method string
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
	// MaxEvents caps the recorded events; 0 means DefaultMaxEvents.
	MaxEvents int
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
}

// Tracer opens sessions over the snapshots of a store. It may be used by
// several goroutines.
type Tracer struct {
	bench *workbench.Bench
	store workbench.Store
	// modules holds the traced compilations sessions loaded: tracing or
	// rehearsing the same module again should not compile it again.
	modules *workbench.Modules
}

// New returns a tracer running snapshots of store on bench (which must
// run over the same store); checkpoints are written to store.
func New(bench *workbench.Bench, store workbench.Store) *Tracer {
	t := &Tracer{bench: bench, store: store}
	t.modules = workbench.NewModules(func(ctx context.Context, code []byte) (*engine.Module, error) {
		return bench.Engine().Load(WithListeners(ctx), code)
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
	m, err := t.store.Manifest(id)
	if err != nil {
		return err
	}
	code, err := t.store.ReadBlob(m.Module)
	if err != nil {
		return fmt.Errorf("read the module of %s: %w", m.Ref(), err)
	}
	_, err = t.module(ctx, code)
	return err
}

// Close releases the modules the tracer loaded (closing the engine does
// too). Close sessions first.
func (t *Tracer) Close(ctx context.Context) error { return t.modules.Close(ctx) }

// Session is one traced run of a message or upgrade on a snapshot's
// state: its recorded events, its result, and time travel over it.
// A Session is not safe for concurrent use.
type Session struct {
	t      *Tracer
	ctx    context.Context // carries the listener factory
	baseID snapshots.ID
	req    Request
	query  bool
	newMod *engine.Module
	module *engine.Module
	id     string

	// idle holds canisters at the snapshot's state, ready to run.
	idle []*workbench.Run

	events    []Event
	truncated bool
	result    engine.Result
	skipped   *workbench.SkippedPreUpgrade
	cur       *cursor   // the position, paused at an event
	anchors   []*cursor // paused (or on their way) at fixed events
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
}

// Open restores snapshot id, runs req on it once while recording its
// events, and returns the session. The snapshot itself is never changed.
func (t *Tracer) Open(ctx context.Context, id snapshots.ID, req Request) (*Session, error) {
	if req.Upgrade == (req.Method != "") {
		return nil, errors.New("trace: give either a method or an upgrade")
	}
	if req.Rehearse && !req.Upgrade {
		return nil, errors.New("trace: only an upgrade can be rehearsed")
	}
	if req.MaxEvents < 0 {
		return nil, fmt.Errorf("trace: MaxEvents is %d; give a positive cap, or 0 for DefaultMaxEvents", req.MaxEvents)
	}
	if req.MaxEvents == 0 {
		req.MaxEvents = DefaultMaxEvents
	}
	s := &Session{t: t, ctx: WithListeners(context.WithoutCancel(ctx)), baseID: id, req: req}
	if err := t.pin(s.ctx, id); err != nil {
		return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
	}
	run, err := s.open()
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
	}
	s.module, s.id = run.Canister.Module(), run.Canister.ID()
	if err := s.prepare(); err != nil {
		run.Close(ctx)
		s.Close(ctx)
		return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
	}
	rec := s.newRecorder(ctx, run, -1)
	rec.record, rec.maxEvents = true, req.MaxEvents
	r := s.exec(ctx, run, rec)
	s.release(ctx, run, r.committed)
	if r.err != nil {
		s.Close(ctx)
		return nil, fmt.Errorf("trace %s: %w", id.Short(), r.err)
	}
	s.result, s.events, s.truncated, s.skipped = r.res, rec.events, rec.n > len(rec.events), r.skipped
	if r.res.Trap != nil && len(s.events) > 0 {
		if last := &s.events[len(s.events)-1]; last.Kind == Trap {
			last.Message, last.Function = r.res.Trap.Message, r.res.Trap.Function
		}
	}
	targets, err := s.anchorTargets()
	if err != nil {
		s.Close(ctx)
		return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
	}
	for _, target := range targets {
		a, err := s.start(ctx, target)
		if err != nil {
			s.Close(ctx)
			return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
		}
		s.anchors = append(s.anchors, a)
	}
	return s, nil
}

// prepare loads an upgrade's new module, checks a method exists, and
// fills in the default argument.
func (s *Session) prepare() error {
	recv := s.module
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

// ArgError is a Request.ArgText that does not encode as the module's
// declared argument types.
type ArgError struct{ Err error }

func (e *ArgError) Error() string { return "argument: " + e.Err.Error() }

// Unwrap returns the Candid error.
func (e *ArgError) Unwrap() error { return e.Err }

// anchorTargets spreads Request.Anchors events evenly over the run's
// instructions, as many as Request.AnchorMemory allows.
func (s *Session) anchorTargets() ([]int, error) {
	n := s.req.Anchors
	if n <= 0 || len(s.events) == 0 {
		return nil, nil
	}
	if s.req.AnchorMemory > 0 {
		m, err := s.t.store.Manifest(s.baseID)
		if err != nil {
			return nil, err
		}
		// An anchor holds the heap and the stable pages it has used: stable
		// memory is read on demand, through a cache of bounded size.
		each := uint64(len(m.Heap.Pages)+min(len(m.Stable.Pages), stable.DefaultCachePages)) * snapshots.PageSize
		if each > 0 {
			n = int(min(uint64(n), s.req.AnchorMemory/each))
		}
	}
	var out []int
	total := s.events[len(s.events)-1].Instructions
	k := 1
	for _, e := range s.events {
		if k > n {
			break
		}
		if e.Instructions >= total*uint64(k)/uint64(n+1) && e.Index > 0 {
			out = append(out, e.Index)
			k++
		}
	}
	return out, nil
}

func (s *Session) newRecorder(ctx context.Context, run *workbench.Run, target int) *recorder {
	var upgrade *engine.Module
	if s.req.Upgrade {
		upgrade = s.newMod
	}
	return newRecorder(ctx, run.Canister, run.Canister.Module(), upgrade, target)
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
		reh, err := run.Rehearse(rctx, workbench.RehearsalOptions{
			Module: s.newMod, Arg: s.req.Arg, SkipPreUpgrade: s.req.SkipPreUpgrade, Again: s.req.Rehearse, Recorder: rec,
			AfterUpgrade: func(context.Context) error {
				// The first upgrade is committed whatever the second one
				// does, and the second runs on the new module's heap.
				if s.req.Rehearse {
					rec.replaced = true
				}
				return nil
			},
		})
		r.res, r.err, r.skipped = reh.Last().Result, err, reh.Skipped
		r.committed = len(reh.Steps) > 0 && reh.Steps[0].OK()
		return r
	case s.query:
		r.res, r.err = c.Query(rctx, s.req.Method, s.req.Arg)
	default:
		r.res, r.err = c.Update(rctx, s.req.Method, s.req.Arg)
	}
	// An update that rejects or does not reply keeps its changes too;
	// only a trap rolls back.
	if r.err == nil && r.res.Status != engine.StatusTrapped && !s.query {
		r.committed = true
	}
	return r
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

// start begins an execution that pauses at event target.
func (s *Session) start(ctx context.Context, target int) (*cursor, error) {
	run, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(s.ctx)
	rec := s.newRecorder(rctx, run, target)
	c := &cursor{run: run, rec: rec, cancel: cancel, done: make(chan execResult, 1), target: target, at: -1}
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
		// Stopped from inside the listener: no need for wazero to close
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

// Events returns the recorded events; callers must not modify them.
func (s *Session) Events() []Event { return s.events }

// Len returns the number of recorded events.
func (s *Session) Len() int { return len(s.events) }

// Truncated reports whether the run had more events than MaxEvents.
func (s *Session) Truncated() bool { return s.truncated }

// Result returns the outcome of the run.
func (s *Session) Result() engine.Result { return s.result }

// SkippedPreUpgrade is what an upgrade with SkipPreUpgrade read in place
// of the discarded heap (workbench.Rehearsal.Skipped); nil otherwise.
func (s *Session) SkippedPreUpgrade() *workbench.SkippedPreUpgrade { return s.skipped }

// Base returns the snapshot the run started from.
func (s *Session) Base() snapshots.ID { return s.baseID }

// CanisterID returns the textual id of the traced canister.
func (s *Session) CanisterID() string { return s.id }

// Module returns the module that ran the message, or for an upgrade the
// old module.
func (s *Session) Module() *engine.Module { return s.module }

// Seek moves to event i and returns the state there. It continues the
// closest execution paused at or before i (the current position or an
// anchor) and otherwise re-executes the message from its start. The View
// is valid until the next Seek, Checkpoint or Close. A cancelled ctx
// stops the re-execution and leaves no position.
func (s *Session) Seek(ctx context.Context, i int) (*View, error) {
	if i < 0 || i >= len(s.events) {
		return nil, fmt.Errorf("seek to event %d: the run has events 0 to %d", i, len(s.events)-1)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("seek to event %d: %w", i, context.Cause(ctx))
	}
	if s.cur != nil && s.cur.at == i {
		return s.view(), nil
	}
	best, slot := s.cur, -1
	if best != nil && best.at > i {
		best = nil
	}
	for k, a := range s.anchors {
		if a.parked() && a.at <= i && (best == nil || a.at > best.at) {
			best, slot = a, k
		}
	}
	if best != s.cur {
		if err := s.stop(ctx, s.cur); err != nil {
			return nil, err
		}
		s.cur = nil
	}
	switch {
	case slot >= 0:
		// Use the anchor and send a new execution to its place.
		s.cur = best
		a, err := s.start(ctx, best.target)
		if err != nil {
			return nil, fmt.Errorf("seek to event %d: %w", i, err)
		}
		s.anchors[slot] = a
	case best == nil:
		c, err := s.start(ctx, i)
		if err != nil {
			return nil, fmt.Errorf("seek to event %d: %w", i, err)
		}
		s.cur = c
	}
	if s.cur.at == i {
		return s.view(), nil
	}
	if s.cur.at >= 0 {
		s.cur.at, s.cur.target = -1, i
		s.cur.rec.resume <- command{target: i}
	}
	select {
	case at := <-s.cur.rec.paused:
		s.cur.at = at
		return s.view(), nil
	case r := <-s.cur.done:
		s.cur.cancel()
		s.release(ctx, s.cur.run, r.committed)
		s.cur = nil
		if r.err != nil {
			return nil, fmt.Errorf("seek to event %d: %w", i, r.err)
		}
		return nil, fmt.Errorf("seek to event %d: the re-execution ended without reaching it (the run is not deterministic)", i)
	case <-ctx.Done():
		s.stop(ctx, s.cur)
		s.cur = nil
		return nil, fmt.Errorf("seek to event %d: %w", i, context.Cause(ctx))
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
	return errors.Join(errs...)
}
