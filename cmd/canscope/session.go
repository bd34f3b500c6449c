package main

import (
	"context"
	"fmt"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
)

// session bundles what a run command opens: the store, the engine and the
// bench over both. close releases them in order.
type session struct {
	store store
	eng   *engine.Engine
	bench *workbench.Bench
}

// openSession opens the store and an engine over it.
func (a *app) openSession() (*session, error) {
	st, err := a.openStore()
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(engine.Config{})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("start engine: %w", err)
	}
	return &session{store: st, eng: eng, bench: workbench.New(st, eng)}, nil
}

// openRun opens a session and restores snapshot ref into a canister with
// the given instruction limits (zero: the IC's). The caller closes the
// run, then the session.
func (a *app) openRun(ctx context.Context, ref string, limits meter.Limits) (*session, snapshots.Snapshot, *workbench.Run, error) {
	s, err := a.openSession()
	if err != nil {
		return nil, snapshots.Snapshot{}, nil, err
	}
	snap, err := s.store.Resolve(ref)
	if err == nil {
		var r *workbench.Run
		if r, err = s.bench.OpenWith(ctx, snap.ID, engine.Options{Limits: limits}); err == nil {
			return s, snap, r, nil
		}
	}
	s.close(ctx)
	return nil, snapshots.Snapshot{}, nil, err
}

// close releases the bench, the engine and the store, in that order. Their
// errors are dropped: the command's own result has been decided, and the
// store's writes were atomic and durable before it.
func (s *session) close(ctx context.Context) {
	ctx = context.WithoutCancel(ctx) // release them after Ctrl+C too
	s.bench.Close(ctx)
	s.eng.Close(ctx)
	s.store.Close()
}
