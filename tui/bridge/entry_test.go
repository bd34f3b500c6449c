package bridge

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/tui/source"
)

// TestEntryPointsOnRunScreen runs the run form's entry points on the
// entry fixture: the timer refused before its deadline (under the time
// field) and run at it, the heartbeat, inspect_message's verdict, and
// cycles attached to an update.
func TestEntryPointsOnRunScreen(t *testing.T) {
	ctx := context.Background()
	f := newRunFixture(t)
	st, bench := f.st, f.bench
	snap := f.snapshot(t, "../../engine/testdata/entry.wasm", "entry", update{"arm", nil})
	m, err := st.Manifest(snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	deadline := m.GlobalTimer.Deadline
	r := NewRunner(trace.New(bench, st))
	outcome := func(req source.RunRequest) source.Outcome {
		t.Helper()
		req.Snapshot = snap.ID
		sess, err := r.Start(ctx, req, nil)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		defer sess.(*Session).Close(ctx)
		return sess.Outcome()
	}

	_, err = r.Start(ctx, source.RunRequest{Snapshot: snap.ID, Timer: true}, nil)
	var fe *source.FieldError
	if !errors.As(err, &fe) || fe.Field != source.FieldTime || !strings.Contains(err.Error(), "not due") {
		t.Fatalf("timer before its deadline: %v, want 'not due' under the time field", err)
	}
	if o := outcome(source.RunRequest{Timer: true, Time: strconv.FormatUint(deadline, 10)}); o.Status != "ok" || len(o.DebugPrints) != 1 {
		t.Errorf("timer at its deadline: %+v", o)
	}
	if o := outcome(source.RunRequest{Heartbeat: true}); o.Status != "ok" {
		t.Errorf("heartbeat: %+v", o)
	}
	if o := outcome(source.RunRequest{Method: "forbidden", Inspect: true}); o.Status == "ok" || !strings.HasPrefix(o.Inspect, "rejected") {
		t.Errorf("forbidden with inspect_message: %+v", o)
	}
	if o := outcome(source.RunRequest{Method: "arm", Inspect: true}); o.Status != "ok" || o.Inspect != "accepted" {
		t.Errorf("arm with inspect_message: %+v", o)
	}
	if o := outcome(source.RunRequest{Method: "take_half", Cycles: "1_000"}); o.Cycles != "1000 attached, 500 accepted, 500 refunded to the caller" {
		t.Errorf("take_half with 1000 cycles: %q", o.Cycles)
	}
	_, err = r.Start(ctx, source.RunRequest{Snapshot: snap.ID, Method: "take_half", Cycles: "lots"}, nil)
	if !errors.As(err, &fe) || fe.Field != source.FieldCycles {
		t.Errorf("cycles 'lots': %v, want an error under the cycles field", err)
	}
}

// TestRepliesOnRunScreen: a call with no answer is awaiting; a scripted
// reply (typed, or from a replies file) runs the callback; a bad answer
// is reported under the replies field.
func TestRepliesOnRunScreen(t *testing.T) {
	ctx := context.Background()
	f := newRunFixture(t)
	st, bench := f.st, f.bench
	snap := f.snapshot(t, "../../engine/testdata/caller.wasm", "cl")
	r := NewRunner(trace.New(bench, st))
	outcome := func(replies string) source.Outcome {
		t.Helper()
		sess, err := r.Start(ctx, source.RunRequest{Snapshot: snap.ID, Method: "fetch", Replies: replies}, nil)
		if err != nil {
			t.Fatalf("replies %q: %v", replies, err)
		}
		defer sess.(*Session).Close(ctx)
		return sess.Outcome()
	}
	if o := outcome(""); o.Status != "awaiting" || o.Awaiting != 1 || len(o.Calls) != 1 || !strings.Contains(o.Calls[0], "held") {
		t.Errorf("fetch unanswered: %+v", o)
	}
	want := "ryjl3-tyaaa-aaaaa-aaaba-cai.get: reply (42 : nat64) → reply callback ok"
	if o := outcome("ryjl3-tyaaa-aaaaa-aaaba-cai.get=(42 : nat64)"); o.Status != "ok" || o.Awaiting != 0 || len(o.Calls) != 1 || o.Calls[0] != want {
		t.Errorf("fetch with a reply: %+v", o)
	}
	file := filepath.Join(t.TempDir(), "answers.txt")
	if err := os.WriteFile(file, []byte("# answers\nreject ryjl3-tyaaa-aaaaa-aaaba-cai.get=CANISTER_REJECT:nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if o := outcome(file); o.Status != "rejected" || len(o.Calls) != 1 || !strings.Contains(o.Calls[0], `reject CANISTER_REJECT "nope"`) {
		t.Errorf("fetch with a replies file: %+v", o)
	}
	// Reject unanswered, as call --reject-unanswered: the call fails at
	// once (offline, and said so); an answer no call takes is listed in
	// the CLI's words.
	sess, err := r.Start(ctx, source.RunRequest{Snapshot: snap.ID, Method: "fetch", RejectUnanswered: true,
		Replies: "ryjl3-tyaaa-aaaaa-aaaba-cai.other=(1 : nat64)"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := sess.Outcome()
	sess.(*Session).Close(ctx)
	if o.Awaiting != 0 || len(o.OfflineCalls) != 1 || len(o.UnusedAnswers) != 1 ||
		o.UnusedAnswers[0] != "answer ryjl3-tyaaa-aaaaa-aaaba-cai.other=(1 : nat64) was not used: no call matched it" {
		t.Errorf("fetch rejecting unanswered: %+v", o)
	}
	if o := outcome("ryjl3-tyaaa-aaaaa-aaaba-cai.get=(42 : nat64)"); !strings.HasPrefix(o.CallFees, "5287812 charged: 42102421000 withdrawn at call_perform") {
		t.Errorf("call fees %q", o.CallFees)
	}
	var fe *source.FieldError
	for _, bad := range []string{"ryjl3-tyaaa-aaaaa-aaaba-cai=(1)", "no-such-file"} {
		_, err := r.Start(ctx, source.RunRequest{Snapshot: snap.ID, Method: "fetch", Replies: bad}, nil)
		if !errors.As(err, &fe) || fe.Field != source.FieldReplies {
			t.Errorf("replies %q: %v, want an error under the replies field", bad, err)
		}
	}
}

// A query run from the run screen reads the same local data certificate
// canscope call gives it (certify.LocalCertificates), holding the
// canister's certified data; without it the UI showed "not present"
// where the CLI answered.
func TestQueryGetsLocalCertificate(t *testing.T) {
	ctx := context.Background()
	f := newRunFixture(t)
	st, bench := f.st, f.bench
	snap := f.snapshot(t, "../../engine/testdata/ic0_all.wasm", "all", update{"certified_data_set", nil})
	sess, err := NewRunner(trace.New(bench, st)).Start(ctx, source.RunRequest{Snapshot: snap.ID, Method: "data_certificate_query", ArgHex: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.(*Session).Close(ctx)
	o := sess.Outcome()
	// u32 present = 1, u32 n, then the certificate, whose tree holds the
	// certified data "ic0_all certified data".
	if !strings.HasPrefix(o.ReplyHex, "01000000") || !strings.Contains(o.ReplyHex, hex.EncodeToString([]byte("ic0_all certified data"))) {
		t.Fatalf("data_certificate_query on the run screen replied %q, want a certificate holding the certified data", o.ReplyHex)
	}
}
