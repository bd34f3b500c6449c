package ic0

import (
	"reflect"
	"strings"
	"testing"
)

// runAll executes calls in one message, stopping at the first error.
func (h *harness) runAll(msg *Message, calls ...call) ([][]uint64, error) {
	h.t.Helper()
	h.host.Begin(msg, nil, nil)
	defer h.host.End()
	var out [][]uint64
	for _, c := range calls {
		res, err := h.mod.ExportedFunction(c.fn).Call(h.ctx, c.args...)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

type call struct {
	fn   string
	args []uint64
}

func TestCallPerformRecordsAndRejects(t *testing.T) {
	h := newHarness(t)
	h.state.Cycles = CyclesFrom(1000)
	h.write(0, []byte{1, 2, 3}) // callee
	h.write(10, []byte("greet"))
	h.write(20, []byte("argument"))
	msg := msgIn(Update)
	res, err := h.runAll(msg,
		call{"call_new", []uint64{0, 3, 10, 5, 1, 2, 3, 4}},
		call{"call_on_cleanup", []uint64{5, 6}},
		call{"call_data_append", []uint64{20, 3}},
		call{"call_data_append", []uint64{23, 5}},
		call{"call_cycles_add", []uint64{100}},
		call{"call_cycles_add128", []uint64{0, 50}},
		call{"call_with_best_effort_response", []uint64{1000}},
		call{"canister_cycle_balance", nil},
		call{"call_perform", nil},
		call{"canister_cycle_balance", nil},
	)
	if err != nil {
		t.Fatal(err)
	}
	if during := res[7][0]; during != 850 {
		t.Fatalf("balance with cycles attached = %d, want 850", during)
	}
	if code := res[8][0]; code != rejectSysTransient {
		t.Fatalf("call_perform = %d, want %d (SYS_TRANSIENT)", code, rejectSysTransient)
	}
	if after := res[9][0]; after != 1000 {
		t.Fatalf("balance after the rejected call = %d, want the cycles back (1000)", after)
	}
	if len(msg.Calls) != 1 {
		t.Fatalf("recorded %d calls, want 1", len(msg.Calls))
	}
	c := msg.Calls[0]
	want := OutgoingCall{
		Callee: []byte{1, 2, 3}, Method: "greet", Arg: []byte("argument"), Cycles: CyclesFrom(150),
		ReplyFn: 1, ReplyEnv: 2, RejectFn: 3, RejectEnv: 4, CleanupFn: 5, CleanupEnv: 6, HasCleanup: true,
		TimeoutSeconds: maxBestEffortTimeout, BestEffort: true, Performed: true, RejectCode: rejectSysTransient,
		// 1000 cycles do not cover the fees (42,102,425,000): the IC fails
		// the call too, so it is not an offline failure.
		OutOfCycles: "Canister rrkah-fqaaa-aaaaa-aaaaq-cai is out of cycles: please top up the canister with at least 42102424150 additional cycles",
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("call = %+v\nwant %+v", c, want)
	}
	if c.Offline() {
		t.Fatal("a call refused for want of cycles counts as offline")
	}
}

// A call made withdraws the transmission fee and both reservations
// (withdraw_request_cycles); a call canscope does not make offline gives
// them back with its cycles.
func TestCallPerformFees(t *testing.T) {
	h := newHarness(t)
	h.write(10, []byte("greet"))
	for _, made := range []bool{true, false} {
		h.state.Cycles = CyclesFrom(DefaultCycles)
		msg := msgIn(Update)
		msg.Perform = func(*OutgoingCall) bool { return made }
		res, err := h.runAll(msg,
			call{"call_new", []uint64{0, 3, 10, 5, 0, 0, 0, 0}},
			call{"call_cycles_add", []uint64{100}},
			call{"call_perform", nil},
			call{"canister_cycle_balance", nil},
		)
		if err != nil {
			t.Fatal(err)
		}
		fees := CallFees{Transmission: CyclesFrom(260_000 + 1_000*5), ResponseTransmission: CyclesFrom(2_097_152_000), ResponseExecution: CyclesFrom(40_005_000_000)}
		want, code := DefaultCycles-100-fees.Total().Uint64(), uint64(0)
		if !made {
			want, code, fees = DefaultCycles, rejectSysTransient, CallFees{}
		}
		if res[2][0] != code || res[3][0] != want || msg.Calls[0].Fees != fees {
			t.Errorf("made=%v: call_perform %d, balance %d, fees %+v; want %d, %d, %+v", made, res[2][0], res[3][0], msg.Calls[0].Fees, code, want, fees)
		}
	}
}

func TestCallTraps(t *testing.T) {
	noCall := "called when no call is under construction."
	tests := []struct {
		name   string
		calls  []call
		code   ErrorCode
		reason string
	}{
		{"data without call_new", []call{{"call_data_append", []uint64{0, 0}}}, CodeCanisterContractViolation, "ic0.call_data_append " + noCall},
		{"perform without call_new", []call{{"call_perform", nil}}, CodeCanisterContractViolation, "ic0.call_perform " + noCall},
		{"cleanup without call_new", []call{{"call_on_cleanup", []uint64{0, 0}}}, CodeCanisterContractViolation, "ic0.call_on_cleanup " + noCall},
		{"cycles without call_new", []call{{"call_cycles_add128", []uint64{0, 1}}}, CodeCanisterContractViolation, "ic0.call_cycles_add128 " + noCall},
		{"best effort without call_new", []call{{"call_with_best_effort_response", []uint64{1}}}, CodeCanisterContractViolation, "ic0.call_with_best_effort_response " + noCall},
		{"perform twice", []call{{"call_new", make([]uint64, 8)}, {"call_perform", nil}, {"call_perform", nil}}, CodeCanisterContractViolation, "ic0.call_perform " + noCall},
		{"cleanup twice", []call{{"call_new", make([]uint64, 8)}, {"call_on_cleanup", []uint64{1, 1}}, {"call_on_cleanup", []uint64{1, 1}}},
			CodeCanisterContractViolation, "can be called at most once"},
		{"best effort twice", []call{{"call_new", make([]uint64, 8)}, {"call_with_best_effort_response", []uint64{1}}, {"call_with_best_effort_response", []uint64{1}}},
			CodeCanisterContractViolation, "can be called at most once"},
		{"callee out of heap", []call{{"call_new", []uint64{heapEnd, 1, 0, 0, 0, 0, 0, 0}}}, CodeCanisterContractViolation, "ic0.call_new callee_src: src=65536 + length=1"},
		{"name out of heap", []call{{"call_new", []uint64{0, 0, heapEnd - 1, 2, 0, 0, 0, 0}}}, CodeCanisterContractViolation, "ic0.call_new method_name: src=65535 + length=2"},
		{"data out of heap", []call{{"call_new", make([]uint64, 8)}, {"call_data_append", []uint64{heapEnd, 1}}}, CodeCanisterContractViolation, "ic0.call_data_append: src=65536"},
		{"more cycles than balance", []call{{"call_new", make([]uint64, 8)}, {"call_cycles_add", []uint64{DefaultCycles + 1}}},
			CodeCanisterOutOfCycles, "is out of cycles: please top up the canister with at least 1 additional cycles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.runAll(msgIn(Update), tt.calls...)
			tr, ok := AsTrap(err)
			if !ok || tr.Code != tt.code || !strings.Contains(tr.Reason, tt.reason) {
				t.Fatalf("err = %v, want %s %q", err, tt.code, tt.reason)
			}
		})
	}
}

func TestCallNewDiscardsUnperformedCall(t *testing.T) {
	h := newHarness(t)
	h.write(0, []byte("ab"))
	msg := msgIn(Heartbeat)
	if _, err := h.runAll(msg,
		call{"call_new", []uint64{0, 1, 0, 0, 0, 0, 0, 0}},
		call{"call_data_append", []uint64{0, 2}},
		call{"call_new", []uint64{1, 1, 0, 0, 0, 0, 0, 0}},
		call{"call_perform", nil},
	); err != nil {
		t.Fatal(err)
	}
	if len(msg.Calls) != 1 || string(msg.Calls[0].Callee) != "b" || len(msg.Calls[0].Arg) != 0 {
		t.Fatalf("calls = %+v", msg.Calls)
	}
}
