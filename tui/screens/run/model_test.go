package run

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/bridge"
	"github.com/canscope/canscope/tui/frame"
	st "github.com/canscope/canscope/tui/internal/screentest"
	"github.com/canscope/canscope/tui/source"
)

func open(t *testing.T, theme string, w, h int, src source.Set, id snapshots.ID) *Model {
	t.Helper()
	return st.Open(t, theme, w, h, src, func(c *frame.Context) *Model { return New(c, id) })
}

// upgradeKeys fills the form for the incident's upgrade and runs it.
func upgradeKeys() []tea.Msg {
	keys := st.Keys("space", "tab")
	keys = append(keys, st.Type("incident_v2.wasm")...)
	return append(keys, st.Keys("tab", "tab", "tab", "space", "enter")...)
}

// callOptionKeys fill the call form: method transfer, inspect_message
// first, 1_000_000 cycles attached.
func callOptionKeys() []tea.Msg {
	keys := append(st.Keys("tab"), st.Type("transfer")...)
	keys = append(keys, st.Keys("tab", "tab", "tab", "space", "tab")...)
	return append(keys, st.Type("1_000_000")...)
}

func TestRun(t *testing.T) {
	tests := []struct {
		name   string
		w, h   int
		runner bool
		keys   []tea.Msg
		// offline: calls the run made that were not performed.
		offline []string
		// edit changes the scripted outcome.
		edit func(*source.Outcome)
	}{
		{"form_call_80x24", 80, 24, true, append(st.Keys("tab"), st.Type("transfer")...), nil, nil},
		{"form_upgrade_80x24", 80, 24, true, append(append(st.Keys("space", "tab"), st.Type("incident_v2.wasm")...), st.Keys("tab", "tab", "tab", "space", "tab")...), nil, nil},
		{"timeline_at_trap_80x24", 80, 24, true, upgradeKeys(), nil, nil},
		{"timeline_stepped_160x48", 160, 48, true, append(upgradeKeys(), st.Keys("home", "]", "]", "right")...), nil, nil},
		{"timeline_prev_call_80x24", 80, 24, true, append(upgradeKeys(), st.Keys("[", "left")...), nil, nil},
		// The detail pane shows the debug_print the list cuts, in full.
		{"timeline_detail_80x24", 80, 24, true, append(upgradeKeys(), st.Keys("left", "left")...), nil, nil},
		// A verdict that followed a call not performed says so.
		{"timeline_offline_call_80x24", 80, 24, true, upgradeKeys(), []string{"ryjl3-tyaaa-aaaaa-aaaba-cai.transfer"}, nil},
		// The entry points of issue 20: inspect_message and cycles on a
		// call, the timer and the heartbeat.
		{"form_call_inspect_cycles_80x24", 80, 24, true, callOptionKeys(), nil, nil},
		{"form_timer_80x24", 80, 24, true, st.Keys("space", "space"), nil, nil},
		{"form_heartbeat_80x24", 80, 24, true, st.Keys("space", "space", "space"), nil, nil},
		{"timeline_inspect_cycles_80x24", 80, 24, true, append(callOptionKeys(), st.Key("enter")), nil, func(o *source.Outcome) {
			o.Inspect, o.Cycles = "accepted", "1000000 attached, 500000 accepted, 500000 refunded to the caller"
		}},
		{"form_call_reject_unanswered_80x24", 80, 24, true, append(callOptionKeys(), st.Keys("tab", "tab", "space")...), nil, nil},
		// Answers no call took are listed in the CLI's words, with the
		// calls' fees.
		{"timeline_unused_answers_80x24", 80, 24, true, upgradeKeys(), nil, func(o *source.Outcome) {
			o.UnusedAnswers = []string{"answer ryjl3-tyaaa-aaaaa-aaaba-cai.other=(1 : nat64) was not used: no call matched it"}
			o.CallFees = "5287812 charged: 42102421000 withdrawn at call_perform (transmission fee, reservations for the largest response and the longest callback), 42097133188 refunded with the responses"
		}},
		// Calls nothing answered: the outcome is not known, and says so.
		{"timeline_awaiting_80x24", 80, 24, true, upgradeKeys(), nil, func(o *source.Outcome) {
			o.Status, o.Awaiting, o.TrapMessage, o.TrapFunction, o.Error = "awaiting", 1, "", "", ""
			o.Calls = []string{"ryjl3-tyaaa-aaaaa-aaaba-cai.get: held: no answer given, its callback has not run"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := st.Incident()
			src := source.Set{Catalog: store, Inspect: bridge.Inspect}
			if tt.runner {
				sc := st.FailingUpgrade(store)
				sc.Outcome.OfflineCalls = tt.offline
				if tt.edit != nil {
					tt.edit(&sc.Outcome)
				}
				src.Runner = sc
			}
			m := open(t, "dark", tt.w, tt.h, src, store.ID(t, "ledger@3"))
			st.Run(m, tt.keys...)
			st.Shot(t, m, tt.w, tt.h)
		})
	}
}

func TestRunRequest(t *testing.T) {
	store := st.Incident()
	script := st.FailingUpgrade(store)
	m := open(t, "dark", 80, 24, source.Set{Catalog: store, Runner: script}, store.ID(t, "ledger@3"))
	st.Run(m, upgradeKeys()...)
	want := source.RunRequest{Snapshot: store.ID(t, "ledger@3"), Upgrade: true, WasmPath: "incident_v2.wasm", SkipPreUpgrade: true}
	if len(script.Requests) != 1 || script.Requests[0] != want {
		t.Fatalf("requests = %+v, want %+v", script.Requests, want)
	}
	if m.at != 11 {
		t.Errorf("the timeline should open on the trap (event 11), at %d", m.at)
	}
	if got := m.Title(); got != "Timeline ledger@3 · upgrade to incident_v2.wasm skipping pre_upgrade" {
		t.Errorf("title = %q", got)
	}
	m.Close()
	if script.Closed != 1 {
		t.Errorf("closing the screen released %d sessions, want 1", script.Closed)
	}
}

func TestRunNeedsMethod(t *testing.T) {
	store := st.Incident()
	script := st.FailingUpgrade(store)
	m := open(t, "dark", 80, 24, source.Set{Catalog: store, Runner: script}, store.ID(t, "ledger@3"))
	st.Run(m, st.Key("enter"))
	if m.err == nil || len(script.Requests) != 0 {
		t.Errorf("a call without a method must not start (err %v, requests %d)", m.err, len(script.Requests))
	}
	if nav := st.Run(m, st.Key("esc")); len(nav) != 1 || nav[0] != (frame.BackMsg{}) {
		t.Errorf("esc in the form = %v, want back", nav)
	}
}

func TestRunCheckpointThenFork(t *testing.T) {
	store := st.Incident()
	m := open(t, "dark", 80, 24, source.Set{Catalog: store, Runner: st.FailingUpgrade(store)}, store.ID(t, "ledger@3"))
	st.Run(m, upgradeKeys()...)
	// Before a checkpoint the state at an event is only in memory.
	if nav := st.Run(m, st.Key("f")); len(nav) != 0 || !strings.Contains(st.Plain(m.View()), "save a checkpoint first (c)") {
		t.Errorf("f without a checkpoint = %v:\n%s", nav, st.Plain(m.View()))
	}
	st.Run(m, st.Key("c"))
	if !m.Capturing() {
		t.Fatal("the checkpoint name input should capture keys")
	}
	nav := st.Run(m, append(st.Type("before-trap"), st.Key("enter"))...)
	if len(nav) != 1 || nav[0] != (frame.StoreChangedMsg{}) {
		t.Fatalf("saving a checkpoint should announce a store change, got %v", nav)
	}
	id := store.ID(t, "before-trap@1")
	cp, err := store.Manifest(id)
	if err != nil {
		t.Fatal(err)
	}
	if cp.MadeBy != snapshots.MadeByCheckpoint || cp.Note != "checkpoint at event 11" || *cp.Parent != store.ID(t, "ledger@3") {
		t.Errorf("checkpoint = %+v", cp.Snapshot)
	}
	st.Golden(t, m.View())
	if nav := st.Run(m, st.Key("f")); len(nav) != 1 || nav[0] != (frame.OpenRestoreMsg{ID: id}) {
		t.Errorf("f after a checkpoint = %v, want fork/restore of the checkpoint", nav)
	}
}

func TestRunCancel(t *testing.T) {
	store := st.Incident()
	script := st.FailingUpgrade(store)
	script.Block = true
	m := open(t, "dark", 80, 24, source.Set{Catalog: store, Runner: script}, store.ID(t, "ledger@3"))
	st.Run(m, st.Keys("space")...)
	wait := m.Update(st.Key("enter"))().(tea.BatchMsg)[0] // the run; the other is the spinner
	next := m.Update(wait())                              // the first progress report
	if m.state != stateRunning || m.frac != 0.5 {
		t.Fatalf("state %d progress %v, want running at 0.5", m.state, m.frac)
	}
	st.Golden(t, m.View())
	m.Update(st.Key("x"))
	m.Update(next()) // the run returns context.Canceled
	if m.state != stateForm || !strings.Contains(m.notice, "cancelled") {
		t.Errorf("after cancel: state %d notice %q", m.state, m.notice)
	}
}

// TestRunWithoutEstimate runs with a runner that reports only 0 and 1
// (tui/runner): the screen must show the run is alive rather
// than an empty bar stuck at 0%, and then finish normally.
func TestRunWithoutEstimate(t *testing.T) {
	store := st.Incident()
	script := st.FailingUpgrade(store)
	script.EndsOnly, script.Block = true, true
	m := open(t, "dark", 80, 24, source.Set{Catalog: store, Runner: script}, store.ID(t, "ledger@3"))
	st.Run(m, st.Keys("space")...)
	batch := m.Update(st.Key("enter"))().(tea.BatchMsg)
	next := m.Update(batch[0]()) // progress 0
	if m.state != stateRunning || m.measured {
		t.Fatalf("state %d measured %v", m.state, m.measured)
	}
	v := st.Plain(m.View())
	if strings.Contains(v, "0%") || !strings.Contains(v, "running · 0s") {
		t.Errorf("a run without an estimate shows:\n%s", v)
	}
	st.Golden(t, m.View())
	m.Update(st.Key("x"))
	m.Update(next())

	script.Block = false
	st.Run(m, st.Key("enter"))
	if m.state != stateTimeline {
		t.Errorf("the run did not finish: state %d", m.state)
	}
}

func TestMethods(t *testing.T) {
	got := Methods([]string{"canister_init", "canister_update add", "canister_query get", "canister_composite_query all",
		"canister_query __motoko_stable_var_info", "canister_pre_upgrade", "canister_global_timer"})
	want := []string{"add", "get (query)", "all (query)"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Methods = %q, want %q", got, want)
	}
}

func TestEventText(t *testing.T) {
	tests := []struct {
		e    source.Event
		want string
	}{
		{source.Event{Kind: source.EventEnter, Function: "f", Depth: 2}, "  → f"},
		{source.Event{Kind: source.EventExit, Function: "f"}, "← f"},
		{source.Event{Kind: source.EventSyscall, Syscall: "ic0.msg_reply", Depth: 1}, " • ic0.msg_reply()"},
		{source.Event{Kind: source.EventSyscall, Syscall: "stable_size", Args: "() = 3"}, "• stable_size() = 3"},
		{source.Event{Kind: source.EventGrow, Message: "heap +1 page"}, "↑ grow heap +1 page"},
		{source.Event{Kind: source.EventTrap, Message: "boom", Depth: 20}, "        ✗ trap: boom"},
	}
	for _, tt := range tests {
		if got := EventText(tt.e); got != tt.want {
			t.Errorf("EventText(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}

// TestRunIgnoresAnotherScreensRun: the root hands background results to
// every open screen, so a closed run screen's late result reaches the run
// screen opened after it; it must neither end nor cancel that screen's run.
func TestRunIgnoresAnotherScreensRun(t *testing.T) {
	store := st.Incident()
	script := st.FailingUpgrade(store)
	script.Block = true
	src := source.Set{Catalog: store, Runner: script}
	id := store.ID(t, "ledger@3")

	closed := open(t, "dark", 80, 24, src, id)
	st.Run(closed, st.Keys("space")...)
	next := closed.Update(closed.Update(st.Key("enter"))().(tea.BatchMsg)[0]())
	closed.Close()
	late := next() // the closed screen's run ends with context.Canceled

	m := open(t, "dark", 80, 24, src, id)
	st.Run(m, st.Keys("space")...)
	next = m.Update(m.Update(st.Key("enter"))().(tea.BatchMsg)[0]())
	m.Update(late)
	if m.state != stateRunning || m.notice != "" {
		t.Fatalf("another screen's result changed this run: state %d notice %q", m.state, m.notice)
	}
	m.Update(st.Key("x"))
	m.Update(next())
	if m.state != stateForm || !strings.Contains(m.notice, "cancelled") {
		t.Errorf("after cancel: state %d notice %q", m.state, m.notice)
	}
}

// seekRecorder is a finished session that remembers the context of the
// last seek.
type seekRecorder struct {
	source.Session
	ctx context.Context
}

func (s *seekRecorder) Seek(ctx context.Context, i int) (source.State, error) {
	s.ctx = ctx
	return source.State{}, nil
}

// TestRunCloseStopsSeek: a seek re-executes the run and may take long;
// closing the screen must cancel it rather than leave it running (and
// the session's Close waiting for it).
func TestRunCloseStopsSeek(t *testing.T) {
	store := st.Incident()
	m := open(t, "dark", 80, 24, source.Set{Catalog: store, Runner: st.FailingUpgrade(store)}, store.ID(t, "ledger@3"))
	st.Run(m, upgradeKeys()...)
	rec := &seekRecorder{Session: m.sess}
	m.sess = rec
	m.seek(0)() // as the runtime would, on its own goroutine
	if rec.ctx == nil || rec.ctx.Err() != nil {
		t.Fatalf("seek context before close: %v", rec.ctx)
	}
	m.Close()
	if rec.ctx.Err() == nil {
		t.Error("closing the screen left the seek's context running")
	}
}

// TestRunRequestEntryPoints: the form's timer and call options reach the
// runner as the request's fields.
func TestRunRequestEntryPoints(t *testing.T) {
	store := st.Incident()
	id := store.ID(t, "ledger@3")
	for _, c := range []struct {
		keys []tea.Msg
		want source.RunRequest
	}{
		{st.Keys("space", "space", "enter"), source.RunRequest{Snapshot: id, Timer: true}},
		{st.Keys("space", "space", "space", "enter"), source.RunRequest{Snapshot: id, Heartbeat: true}},
		{append(callOptionKeys(), st.Key("enter")), source.RunRequest{Snapshot: id, Method: "transfer", Inspect: true, Cycles: "1_000_000"}},
		// The reject-unanswered toggle follows the replies field.
		{append(callOptionKeys(), st.Keys("tab", "tab", "space", "enter")...),
			source.RunRequest{Snapshot: id, Method: "transfer", Inspect: true, Cycles: "1_000_000", RejectUnanswered: true}},
		{st.Keys("space", "space", "tab", "tab", "space", "enter"), source.RunRequest{Snapshot: id, Timer: true, RejectUnanswered: true}},
	} {
		script := st.FailingUpgrade(store)
		m := open(t, "dark", 80, 24, source.Set{Catalog: store, Runner: script}, id)
		st.Run(m, c.keys...)
		if len(script.Requests) != 1 || script.Requests[0] != c.want {
			t.Errorf("requests = %+v, want %+v", script.Requests, c.want)
		}
		m.Close()
	}
}
