package trace

import (
	"context"
	"errors"
	"fmt"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
)

// DefaultMaxEvents caps the events a session records: about 200 MiB of
// timeline. A longer run still executes to its end; only the first
// DefaultMaxEvents events can be seen and travelled to.
const DefaultMaxEvents = 1 << 20

// Request is the message or upgrade a session traces.
type Request struct {
	// Method is the method to call; empty with Upgrade.
	Method string
	// Arg is the argument of the method, or of canister_post_upgrade.
	// nil sends what dfx sends without an argument: the empty Candid
	// tuple to a module with a Candid interface, else nothing.
	Arg []byte
	// Upgrade traces an upgrade instead of a message.
	Upgrade bool
	// Module is the upgrade's new module (raw or gzipped wasm); nil
	// upgrades the snapshot's module onto itself.
	Module []byte
	// SkipPreUpgrade does not run the old module's pre_upgrade.
	SkipPreUpgrade bool
	// Rehearse upgrades a second time to the same new module after a
	// successful upgrade, so the new pre_upgrade runs too; the timeline
	// covers both upgrades.
	Rehearse bool
	// MaxEvents caps the recorded events; 0 means DefaultMaxEvents.
	MaxEvents int
}

// emptyTuple is the Candid encoding of `()`.
const emptyTuple = "DIDL\x00\x00"

// Tracer opens sessions over the snapshots of a store.
type Tracer struct {
	bench *workbench.Bench
	store workbench.Store
}

// New returns a tracer running snapshots of store on bench (which must
// run over the same store); checkpoints are written to store.
func New(bench *workbench.Bench, store workbench.Store) *Tracer {
	return &Tracer{bench: bench, store: store}
}

// Session is one traced run of a message or upgrade on a snapshot's
// state: its recorded events, its result, and time travel over it.
// A Session is not safe for concurrent use.
type Session struct {
	t      *Tracer
	ctx    context.Context // carries the listener factory
	baseID snapshots.ID
	req    Request
	query  bool
	run    *workbench.Run
	newMod *engine.Module
	// stale is set when an execution committed its changes (the recording
	// of a successful update or upgrade): the canister must be restored
	// from the snapshot before the next one.
	stale bool

	events    []Event
	truncated bool
	result    engine.Result
	cur       *cursor
}

// cursor is an execution paused at an event.
type cursor struct {
	rec    *recorder
	cancel context.CancelFunc
	done   chan execResult
	at     int // the event it is paused at; -1 while running
}

type execResult struct {
	res engine.Result
	err error
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
	if req.MaxEvents <= 0 {
		req.MaxEvents = DefaultMaxEvents
	}
	s := &Session{t: t, ctx: WithListeners(context.WithoutCancel(ctx)), baseID: id, req: req}
	run, err := t.bench.Open(s.ctx, id)
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
	}
	s.run = run
	mod := run.Canister.Module()
	if req.Upgrade {
		s.newMod = mod
		if req.Module != nil {
			if s.newMod, err = t.bench.Engine().Load(s.ctx, req.Module); err != nil {
				s.Close(ctx)
				return nil, fmt.Errorf("trace %s: load the new module: %w", id.Short(), err)
			}
		}
	} else {
		m, ok := mod.Method(req.Method)
		if !ok {
			s.Close(ctx)
			return nil, fmt.Errorf("trace %s: the module exports no method %q", id.Short(), req.Method)
		}
		s.query = m.Kind != engine.Update
	}
	recv := mod
	if req.Upgrade {
		recv = s.newMod
	}
	if _, _, ok := recv.Metadata("candid:service"); ok && s.req.Arg == nil {
		s.req.Arg = []byte(emptyTuple)
	}
	rec := s.newRecorder(ctx, -1)
	rec.record, rec.maxEvents = true, req.MaxEvents
	res, err := s.exec(ctx, rec)
	if err != nil {
		s.Close(ctx)
		return nil, fmt.Errorf("trace %s: %w", id.Short(), err)
	}
	s.result, s.events, s.truncated = res, rec.events, rec.n > len(rec.events)
	if res.Trap != nil && len(s.events) > 0 {
		if last := &s.events[len(s.events)-1]; last.Kind == Trap {
			last.Message, last.Function = res.Trap.Message, res.Trap.Function
		}
	}
	return s, nil
}

func (s *Session) newRecorder(ctx context.Context, target int) *recorder {
	var upgrade *engine.Module
	if s.req.Upgrade {
		upgrade = s.newMod
	}
	return newRecorder(ctx, s.run.Canister, s.run.Canister.Module(), upgrade, target)
}

// exec runs the session's message once under rec. The canister is
// restored first if an earlier execution committed.
func (s *Session) exec(ctx context.Context, rec *recorder) (engine.Result, error) {
	if s.stale {
		if err := s.reopen(ctx); err != nil {
			return engine.Result{}, err
		}
		rec.c, rec.old = s.run.Canister, s.run.Canister.Module()
	}
	c := s.run.Canister
	c.SetRecorder(rec)
	defer c.SetRecorder(nil)
	rctx := withRecorder(ctx, rec)
	var res engine.Result
	var err error
	switch {
	case s.req.Upgrade:
		res, err = c.Upgrade(rctx, s.newMod, s.req.Arg, engine.UpgradeOptions{SkipPreUpgrade: s.req.SkipPreUpgrade})
		if err != nil || res.Status != engine.StatusOK || !s.req.Rehearse {
			break
		}
		// The first upgrade is committed: the canister must be restored
		// before the next execution whatever the second one does.
		s.stale = true
		rec.replaced = true
		res, err = c.Upgrade(rctx, nil, s.req.Arg, engine.UpgradeOptions{})
	case s.query:
		res, err = c.Query(rctx, s.req.Method, s.req.Arg)
	default:
		res, err = c.Update(rctx, s.req.Method, s.req.Arg)
	}
	if err == nil && res.Status == engine.StatusOK && !s.query {
		s.stale = true
	}
	return res, err
}

// reopen restores the canister from the base snapshot.
func (s *Session) reopen(ctx context.Context) error {
	if err := s.run.Close(ctx); err != nil {
		return err
	}
	run, err := s.t.bench.Open(s.ctx, s.baseID)
	if err != nil {
		return fmt.Errorf("restore %s again: %w", s.baseID.Short(), err)
	}
	s.run, s.stale = run, false
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

// Base returns the snapshot the run started from.
func (s *Session) Base() snapshots.ID { return s.baseID }

// CanisterID returns the textual id of the traced canister.
func (s *Session) CanisterID() string { return s.run.Canister.ID() }

// Module returns the module that ran the message, or for an upgrade the
// old module.
func (s *Session) Module() *engine.Module { return s.run.Canister.Module() }

// Seek moves to event i and returns the state there. Forward moves resume
// the paused execution; backward moves re-execute the message from its
// start. The View is valid until the next Seek, Checkpoint or Close.
// A cancelled ctx stops the re-execution and leaves no position.
func (s *Session) Seek(ctx context.Context, i int) (*View, error) {
	if i < 0 || i >= len(s.events) {
		return nil, fmt.Errorf("seek to event %d: the run has events 0 to %d", i, len(s.events)-1)
	}
	if s.cur != nil && s.cur.at == i {
		return s.view(), nil
	}
	if s.cur != nil && s.cur.at < i {
		s.cur.at = -1
		s.cur.rec.resume <- command{target: i}
	} else {
		if err := s.stop(); err != nil {
			return nil, err
		}
		s.start(i)
	}
	select {
	case at := <-s.cur.rec.paused:
		s.cur.at = at
		return s.view(), nil
	case r := <-s.cur.done:
		s.cur.cancel()
		s.cur = nil
		if r.err != nil {
			return nil, fmt.Errorf("seek to event %d: %w", i, r.err)
		}
		return nil, fmt.Errorf("seek to event %d: the re-execution ended without reaching it (the run is not deterministic)", i)
	case <-ctx.Done():
		s.stop()
		return nil, fmt.Errorf("seek to event %d: %w", i, context.Cause(ctx))
	}
}

// start begins a re-execution that pauses at event target.
func (s *Session) start(target int) {
	rctx, cancel := context.WithCancel(s.ctx)
	rec := s.newRecorder(rctx, target)
	cur := &cursor{rec: rec, cancel: cancel, done: make(chan execResult, 1), at: -1}
	s.cur = cur
	go func() {
		res, err := s.exec(rctx, rec)
		cur.done <- execResult{res, err}
	}()
}

// stop abandons the current execution, paused or running, and waits for
// the engine to roll the canister back.
func (s *Session) stop() error {
	cur := s.cur
	if cur == nil {
		return nil
	}
	s.cur = nil
	if cur.at >= 0 {
		cur.rec.resume <- command{abandon: true}
	} else {
		cur.cancel()
	}
	r := <-cur.done
	cur.cancel()
	if r.err != nil && !errors.Is(r.err, errAbandoned) && !errors.Is(r.err, context.Canceled) {
		return fmt.Errorf("stop the re-execution: %w", r.err)
	}
	return nil
}

// Close stops any paused execution and releases the canister.
func (s *Session) Close(ctx context.Context) error {
	err := s.stop()
	if s.req.Module != nil && s.newMod != nil {
		err = errors.Join(err, s.newMod.Close(ctx))
	}
	return errors.Join(err, s.run.Close(ctx))
}
