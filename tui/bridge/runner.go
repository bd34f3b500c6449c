package bridge

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/certify"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/principal"
	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/source"
)

// Anchors is how many paused executions a run screen session keeps (see
// trace.Request.Anchors): stepping backward then re-executes at most a
// quarter of the run. AnchorMemory caps what their copies of the snapshot
// may take, so a large snapshot gets fewer.
const (
	Anchors      = 3
	AnchorMemory = 1 << 30
	// AnchorAfter: a run that re-executes faster than this keeps no
	// anchors (trace.Request.AnchorAfter): stepping backward re-executes
	// it from the start within that time.
	AnchorAfter = 500 * time.Millisecond
)

// RecentSyscalls is how many of the latest System API calls a State
// carries.
const RecentSyscalls = 8

// Runner starts traced runs for the run screen: it satisfies
// source.Runner and the sessions it starts source.Session. It lives in the
// UI's bridge, not in engine/trace, so the engine never depends on the
// UI's packages.
type Runner struct {
	tracer *trace.Tracer
	// every is how often a run's progress is read (progressEvery; tests
	// poll faster so they see a short run's progress without depending on
	// how fast the machine is).
	every time.Duration
	// local gives queries canscope's local data certificates: its key
	// takes milliseconds to derive, so once per runner, not per run.
	local func() (func(*ic0.Env), error)
}

// NewRunner returns a runner over tracer.
func NewRunner(tracer *trace.Tracer) *Runner {
	return &Runner{tracer: tracer, every: progressEvery, local: sync.OnceValues(certify.LocalCertificates)}
}

var _ source.Runner = (*Runner)(nil)

// Start implements source.Runner: it runs and records req and returns the
// session over it. progress hears 0 when the run starts, the fraction of
// the instruction limit used while it runs, and 1 when its recording is
// done.
func (r *Runner) Start(ctx context.Context, req source.RunRequest, progress func(float64)) (source.Session, error) {
	tr := trace.Request{
		Method:         req.Method,
		Timer:          req.Timer,
		Heartbeat:      req.Heartbeat,
		Inspect:        req.Inspect,
		Upgrade:        req.Upgrade,
		SkipPreUpgrade: req.SkipPreUpgrade,
		Rehearse:       req.Rehearse,
		Anchors:        Anchors,
		AnchorMemory:   AnchorMemory,
		AnchorAfter:    AnchorAfter,
		Limits:         meter.Limits{Update: req.Limit, Query: req.Limit, Install: req.Limit, InspectMessage: req.Limit},
	}
	switch arg := strings.TrimSpace(req.Arg); {
	case req.ArgHex:
		b, err := hex.DecodeString(strings.TrimPrefix(arg, "0x"))
		if err != nil {
			return nil, &source.FieldError{Field: source.FieldArg, Err: fmt.Errorf("not hex: %w", err)}
		}
		tr.Arg = b
	case arg != "":
		tr.ArgText = arg
	}
	if c := strings.TrimSpace(req.Cycles); c != "" {
		n, err := ic0.ParseCycles(c)
		if err != nil {
			return nil, &source.FieldError{Field: source.FieldCycles, Err: err}
		}
		tr.Cycles = n
	}
	// As `canscope call`: calls no answer matches are held, and the
	// outcome says it is awaiting them.
	answers := &workbench.Answers{}
	if r := strings.TrimSpace(req.Replies); r != "" {
		var err error
		if answers, err = answersOf(r); err != nil {
			return nil, &source.FieldError{Field: source.FieldReplies, Err: err}
		}
	}
	answers.RejectUnanswered = req.RejectUnanswered
	// Each execution of the traced run gets fresh answers; the outcome
	// lists what the latest left unused, as `canscope call` does.
	var unusedMu sync.Mutex
	unused := func() []string { return nil }
	tr.Calls = func() *engine.Calls {
		calls, u := answers.Calls()
		unusedMu.Lock()
		unused = u
		unusedMu.Unlock()
		return calls
	}
	lastUnused := func() []string {
		unusedMu.Lock()
		defer unusedMu.Unlock()
		return unused()
	}
	env, err := envOf(req, r.local)
	if err != nil {
		return nil, err
	}
	tr.Env = env
	tr.WasmMemoryLimit = req.WasmMemoryLimit
	if req.WasmPath != "" {
		code, err := os.ReadFile(req.WasmPath)
		if err != nil {
			return nil, &source.FieldError{Field: source.FieldWasm, Err: err}
		}
		tr.Module = code
	}
	stop := func() {}
	if progress != nil {
		progress(0)
		steps := 1
		if req.Upgrade && req.Rehearse {
			steps = 2
		}
		stop = watchRun(&tr, steps, r.every, progress)
	}
	s, err := r.tracer.Open(ctx, req.Snapshot, tr)
	stop() // no fraction after the 1 below
	var argErr *trace.ArgError
	if errors.As(err, &argErr) {
		return nil, &source.FieldError{Field: source.FieldArg, Err: argErr.Err}
	}
	var notDue *engine.TimerNotDueError
	if errors.As(err, &notDue) {
		return nil, &source.FieldError{Field: source.FieldTime, Err: timerNotDue(notDue)}
	}
	if err != nil {
		return nil, err
	}
	if progress != nil {
		progress(1)
	}
	return &Session{s: s, method: req.Method, unused: lastUnused()}, nil
}

// progressEvery is how often a run's progress is read while it runs.
const progressEvery = 100 * time.Millisecond

// watchRun makes tr report the recorded run's progress as the fraction of
// its instruction limit used (engine.Canister.LiveInstructions, published
// at every metering slice), every interval until stop. A rehearsal
// runs steps messages, each with its own limit and count: the fraction is
// over all of them, so the bar never moves back when a step starts. It
// stays below 1, which Start reports when the recording is done.
func watchRun(tr *trace.Request, steps int, every time.Duration, progress func(float64)) (stop func()) {
	started := make(chan *engine.Canister, 1)
	tr.Watch = func(c *engine.Canister) { started <- c }
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		var c *engine.Canister
		select {
		case c = <-started:
		case <-quit:
			return
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		var base, last uint64
		for {
			select {
			case <-tick.C:
			case <-quit:
				return
			}
			used, limit := c.LiveInstructions()
			if used < last { // the next step's message began
				base += last
			}
			last = used
			if limit > 0 {
				progress(min(float64(base+used)/(float64(limit)*float64(steps)), 0.999))
			}
		}
	}()
	return func() { close(quit); <-finished }
}

// envOf is the environment adjustment for the request's caller and time,
// parsed as `canscope call --caller --time` parse them.
func envOf(req source.RunRequest, certificates func() (func(*ic0.Env), error)) (func(*ic0.Env), error) {
	var caller []byte
	var at uint64
	if c := strings.TrimSpace(req.Caller); c != "" {
		id, err := principal.Parse(c)
		if err != nil {
			return nil, &source.FieldError{Field: source.FieldCaller, Err: err}
		}
		caller = id
	}
	if t := strings.TrimSpace(req.Time); t != "" {
		ns, err := ic0.ParseTime(t)
		if err != nil {
			return nil, &source.FieldError{Field: source.FieldTime, Err: err}
		}
		at = ns
	}
	// Queries get the local data certificates canscope call gives them.
	local, err := certificates()
	if err != nil {
		return nil, err
	}
	return func(env *ic0.Env) {
		local(env)
		if caller != nil {
			env.Caller = caller
		}
		if at != 0 {
			env.Time = at
		}
	}, nil
}

// answersOf reads the replies field: a replies file (as `canscope call
// --replies` reads it) when one is at that path, else one answer,
// 'CANISTER.METHOD=CANDID' or 'reject CANISTER.METHOD=CODE:TEXT'.
func answersOf(text string) (*workbench.Answers, error) {
	var a workbench.Answers
	if _, err := os.Stat(text); err == nil {
		return &a, a.ReadAnswersFile(text)
	}
	kind, rest := "reply", text
	if k, r, ok := strings.Cut(text, " "); ok && (k == "reply" || k == "reject") {
		kind, rest = k, strings.TrimSpace(r)
	}
	if !strings.Contains(rest, "=") {
		return nil, fmt.Errorf("%q is neither a replies file nor CANISTER.METHOD=CANDID", text)
	}
	ans, err := workbench.ParseAnswer(kind, rest)
	if err != nil {
		return nil, err
	}
	ans.Source = text // as typed, for the unused-answer warning
	a.List = append(a.List, ans)
	return &a, nil
}

// timerNotDue says, as `canscope call --timer` does, that the IC would
// not run the timer at the run's time, and which time would run it.
func timerNotDue(e *engine.TimerNotDueError) error {
	if e.Deadline == 0 {
		return e
	}
	return fmt.Errorf("%w; set the time to %d or later to run it", e, e.Deadline)
}

// Session is a recorded run for the run screen. Its methods may be called
// from several tea.Cmd goroutines; they take turns.
type Session struct {
	mu     sync.Mutex
	s      *trace.Session
	method string // the method called; "" for an upgrade
	// unused are the scripted answers the run left unused (Sources),
	// taken when it finished: later re-executions for Seek stop part way.
	unused []string
}

var _ source.Session = (*Session)(nil)

// Len implements source.Session: every event of the run, recorded or not.
func (s *Session) Len() int { return s.s.Len() }

// Event implements source.Session. An event the session did not record
// (see trace.Session.Elided) comes back as source.EventElided saying why
// and how to see it; it never blocks on a running seek.
func (s *Session) Event(i int) source.Event {
	e, ok, err := s.s.Event(i)
	switch {
	case err != nil:
		return source.Event{Kind: source.EventElided, Message: "cannot read the event log: " + err.Error()}
	case !ok:
		return source.Event{Kind: source.EventElided, Message: s.elided(i)}
	}
	return event(e)
}

// elided says why event i is not shown and how to see it.
func (s *Session) elided(i int) string {
	for _, sp := range s.s.Elided() {
		if i >= sp.From && i < sp.To {
			return fmt.Sprintf("events %d–%d not recorded (%s): move to one to re-run up to it and see the %d before it", sp.From, sp.To-1, sp.Reason, trace.WindowEvents)
		}
	}
	return "not recorded: move here to re-run up to it"
}

// Outcome implements source.Session.
func (s *Session) Outcome() source.Outcome {
	res := s.s.Result()
	o := source.Outcome{Status: res.Status.String(), Instructions: res.Instructions, Limit: res.Limit,
		DebugPrints: res.DebugPrints, Error: res.ErrorText(s.s.CanisterID())}
	if res.Trap != nil {
		o.TrapMessage, o.TrapFunction = res.Trap.Message, res.Trap.Function
	}
	if res.Status == engine.StatusRejected {
		o.TrapMessage, o.RejectCode = res.RejectMessage, string(res.Code)
	}
	for _, l := range res.Limits {
		o.Limits = append(o.Limits, source.LimitUse{Name: l.Name, Used: l.Used, Limit: l.Limit,
			Bytes: l.Name != engine.LimitInstructions && l.Name != engine.LimitLargestSliceCharge})
	}
	if res.Status == engine.StatusAwaiting {
		o.Awaiting = res.Awaiting
	}
	for _, c := range res.CallOutcomes {
		o.Calls = append(o.Calls, principal.Text(c.Call.Callee)+"."+c.Call.Method+": "+workbench.CallAnswer(c))
	}
	for _, u := range s.unused {
		o.UnusedAnswers = append(o.UnusedAnswers, workbench.UnusedAnswerText(u))
	}
	if f := res.CallFees; f != nil {
		o.CallFees = workbench.CallFeesText(*f)
	}
	for _, c := range res.OfflineCalls() {
		o.OfflineCalls = append(o.OfflineCalls, principal.Text(c.Callee)+"."+c.Method)
	}
	if in := s.s.Inspect(); in != nil {
		o.Inspect = "accepted"
		if in.Status != engine.StatusOK {
			o.Inspect = "rejected, the method did not run"
		}
	}
	if c := res.Cycles; c != nil {
		o.Cycles = fmt.Sprintf("%s attached, %s accepted, %s refunded to the caller", c.Attached, c.Accepted, c.Refunded)
	}
	if sk := s.s.SkippedPreUpgrade(); sk != nil {
		o.SkippedPreUpgrade = sk.String()
	}
	if len(res.Reply) > 0 {
		// Decoded as `canscope call` decodes it: with the method's
		// declared result types when the module has candid:service.
		o.ReplyHex = hex.EncodeToString(res.Reply)
		want := workbench.Interface(s.s.Module()).Results(s.method)
		if text, err := candid.DecodeText(res.Reply, want); err == nil {
			o.Reply = text
		}
	}
	return o
}

// Seek implements source.Session: the state after event i.
func (s *Session) Seek(ctx context.Context, i int) (source.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.s.Seek(ctx, i)
	if err != nil {
		return source.State{}, err
	}
	return s.state(v)
}

// SeekInstructions moves to the first event at or after instruction
// count n (the last one when the run used fewer) and returns its index and
// the state there: a jump to an instruction count, which the run screen
// can offer next to event indexes.
func (s *Session) SeekInstructions(ctx context.Context, n uint64) (int, source.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.s.SeekInstructions(ctx, n)
	if err != nil {
		return 0, source.State{}, err
	}
	st, err := s.state(v)
	return v.Index(), st, err
}

// state reads the run screen's State from a view.
func (s *Session) state(v *trace.View) (source.State, error) {
	i := v.Index()
	heap, err := v.HeapPagesChanged()
	if err != nil {
		return source.State{}, err
	}
	used, limit := v.Instructions()
	st := source.State{
		Stack:              v.Stack(),
		HeapPagesChanged:   len(heap),
		StablePagesChanged: len(v.StablePagesChanged()),
		Instructions:       used,
		Limit:              limit,
	}
	st.StableBytesWritten = v.StableBytesWritten()
	// The latest System API calls among the events the session holds
	// before i (a seek into events not recorded records those before it).
	for j := i; j >= 0 && len(st.RecentSyscalls) < RecentSyscalls && i-j < trace.WindowEvents; j-- {
		e, ok, err := s.s.Event(j)
		if err != nil {
			return source.State{}, err
		}
		if !ok {
			break
		}
		if e.Kind == trace.Syscall {
			st.RecentSyscalls = append(st.RecentSyscalls, event(e))
		}
	}
	slices.Reverse(st.RecentSyscalls) // newest last
	return st, nil
}

// Checkpoint implements source.Session.
func (s *Session) Checkpoint(ctx context.Context, i int, name string) (snapshots.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s.Checkpoint(ctx, i, name)
}

// Close releases the session's canister.
func (s *Session) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s.Close(ctx)
}

// event converts a trace event for the run screen.
func event(e trace.Event) source.Event {
	out := source.Event{
		Kind:         source.EventKind(e.Kind),
		Function:     e.Function,
		Message:      e.Message,
		Instructions: e.Instructions,
		Depth:        e.Depth,
		Phase:        e.Phase,
	}
	switch e.Kind {
	case trace.Syscall:
		out.Syscall = e.Name
		out.Args = "(" + trace.FormatValues(e.Args) + ")"
		if e.Name == "debug_print" {
			out.Args += " " + strconv.Quote(e.Text)
		}
		if e.Results == nil {
			out.Args += " trapped"
		} else if len(e.Results) > 0 {
			out.Args += " = " + trace.FormatValues(e.Results)
		}
	case trace.Enter:
		out.Args = "(" + trace.FormatValues(e.Args) + ")"
	case trace.Exit:
		if len(e.Results) > 0 {
			out.Args = "= " + trace.FormatValues(e.Results)
		}
	case trace.Grow:
		out.Message = fmt.Sprintf("%s +%d pages", e.Name, e.Args[0])
	}
	return out
}
