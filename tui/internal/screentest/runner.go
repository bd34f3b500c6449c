package screentest

import (
	"context"
	"fmt"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/source"
)

// Step is one event of a scripted run plus the pages it wrote.
type Step struct {
	source.Event
	HeapPages, StablePages int
	StableBytes            uint64 // what a stable write wrote
}

// Committer is the part of a snapshot store a checkpoint needs: Memory
// and *fsstore.Store both have it.
type Committer interface {
	Manifest(id snapshots.ID) (*snapshots.Manifest, error)
	Commit(ctx context.Context, m *snapshots.Manifest) (snapshots.Snapshot, error)
}

// Script is a test-only source.Runner that replays a fixed timeline, so
// the run screen can be tested before (and independently of) the engine.
// Checkpoints are committed to Store as real child snapshots.
type Script struct {
	Store   Committer
	Steps   []Step
	Outcome source.Outcome
	// Block makes Start wait for its context to be cancelled after
	// reporting half progress, to test cancelling.
	Block bool
	// EndsOnly reports progress 0 at the start and 1 at the end only, as
	// tui/bridge's runner does, instead of 0.5 on the way.
	EndsOnly bool
	// Requests records what Start was asked to run.
	Requests []source.RunRequest
	// Closed counts sessions released through source.SessionCloser.
	Closed int
}

// Start implements source.Runner.
func (s *Script) Start(ctx context.Context, req source.RunRequest, progress func(float64)) (source.Session, error) {
	s.Requests = append(s.Requests, req)
	if s.EndsOnly {
		progress(0)
	} else {
		progress(0.5)
	}
	if s.Block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	progress(1)
	return &session{script: s, from: req.Snapshot}, nil
}

type session struct {
	script *Script
	from   snapshots.ID
}

// Close implements source.SessionCloser.
func (s *session) Close(context.Context) error {
	s.script.Closed++
	return nil
}

func (s *session) Len() int                 { return len(s.script.Steps) }
func (s *session) Event(i int) source.Event { return s.script.Steps[i].Event }
func (s *session) Outcome() source.Outcome  { return s.script.Outcome }

// Seek replays the steps up to i.
func (s *session) Seek(_ context.Context, i int) (source.State, error) {
	if i < 0 || i >= len(s.script.Steps) {
		return source.State{}, fmt.Errorf("event %d is outside the timeline of %d events", i, len(s.script.Steps))
	}
	st := source.State{Limit: s.script.Outcome.Limit}
	for _, step := range s.script.Steps[:i+1] {
		switch step.Kind {
		case source.EventEnter:
			st.Stack = append(st.Stack, step.Function)
		case source.EventExit:
			if len(st.Stack) > 0 {
				st.Stack = st.Stack[:len(st.Stack)-1]
			}
		case source.EventSyscall:
			st.RecentSyscalls = append(st.RecentSyscalls, step.Event)
		}
		st.HeapPagesChanged += step.HeapPages
		st.StablePagesChanged += step.StablePages
		st.StableBytesWritten += step.StableBytes
		st.Instructions = step.Instructions
	}
	return st, nil
}

// Checkpoint stores the state after event i as a child snapshot.
func (s *session) Checkpoint(ctx context.Context, i int, name string) (snapshots.Snapshot, error) {
	m, err := s.script.Store.Manifest(s.from)
	if err != nil {
		return snapshots.Snapshot{}, err
	}
	c := m.Child(snapshots.MadeByCheckpoint)
	c.Name = name
	c.Note = fmt.Sprintf("checkpoint at event %d", i)
	return s.script.Store.Commit(ctx, c)
}

// FailingUpgrade is the incident's run: an upgrade whose post_upgrade
// traps while decoding the state pre_upgrade wrote.
func FailingUpgrade(store Committer) *Script {
	ev := func(kind source.EventKind, depth int, fn, call, args, msg string, instr uint64) source.Event {
		phase := "post_upgrade"
		if instr < 40_002_000 {
			phase = "pre_upgrade"
		}
		return source.Event{Kind: kind, Depth: depth, Function: fn, Syscall: call, Args: args, Message: msg, Instructions: instr, Phase: phase}
	}
	return &Script{
		Store: store,
		Steps: []Step{
			{Event: ev(source.EventEnter, 0, "canister_pre_upgrade", "", "", "", 0)},
			{Event: ev(source.EventSyscall, 1, "canister_pre_upgrade", "ic0.stable64_size", "", "", 1_200)},
			{Event: ev(source.EventSyscall, 1, "canister_pre_upgrade", "ic0.stable64_grow", "16", "", 2_400)},
			{Event: ev(source.EventGrow, 1, "canister_pre_upgrade", "", "", "stable +16 pages", 2_500)},
			{Event: ev(source.EventSyscall, 1, "canister_pre_upgrade", "ic0.stable64_write", "0x0, 0x10000, 1048576", "", 40_000_000), StablePages: 16, StableBytes: 1 << 20},
			{Event: ev(source.EventExit, 0, "canister_pre_upgrade", "", "", "", 40_001_000)},
			{Event: ev(source.EventEnter, 0, "canister_post_upgrade", "", "", "", 40_002_000), HeapPages: 2},
			{Event: ev(source.EventEnter, 1, "decode_state", "", "", "", 40_003_000)},
			{Event: ev(source.EventSyscall, 2, "decode_state", "ic0.stable64_read", "0x10000, 0x0, 1048576", "", 80_000_000), HeapPages: 16},
			{Event: ev(source.EventSyscall, 2, "decode_state", "ic0.debug_print", `"decoding 1 MiB of state"`, "", 80_100_000)},
			{Event: ev(source.EventEnter, 2, "Map.fromStable", "", "", "", 90_000_000), HeapPages: 3},
			{Event: ev(source.EventTrap, 3, "Map.fromStable", "", "", "assertion failed at state.mo:42.5", 123_456_789_012)},
		},
		Outcome: source.Outcome{
			Status: "trapped", TrapMessage: "assertion failed at state.mo:42.5", TrapFunction: "Map.fromStable",
			Instructions: 123_456_789_012, Limit: 300_000_000_000,
			Limits: []source.LimitUse{
				{Name: "instructions", Used: 123_456_789_012, Limit: 300_000_000_000},
				{Name: "stable_dirty_bytes", Used: 1 << 20, Limit: 8 << 30, Bytes: true},
				{Name: "heap_bytes", Used: 2_831_155_200, Limit: 3 << 30, Bytes: true},
			},
		},
	}
}
