package ic0

import (
	"strings"
	"testing"
)

// TestSizeAndCopy covers every `<name>_size` / `<name>_copy` pair: the size,
// a partial copy, and the replica's two bounds traps (heap and source).
func TestSizeAndCopy(t *testing.T) {
	data := []byte("0123456789")
	tests := []struct {
		size, copy string
		what       string // the source name in the bounds error
		ctx        Context
		set        func(h *harness, m *Message)
	}{
		{"msg_arg_data_size", "msg_arg_data_copy", "payload", Update, func(_ *harness, m *Message) { m.Arg = data }},
		{"msg_caller_size", "msg_caller_copy", "id", Update, func(_ *harness, m *Message) { m.Caller = data }},
		{"msg_reject_msg_size", "msg_reject_msg_copy", "msg", RejectCallback, func(_ *harness, m *Message) { m.RejectMessage = string(data) }},
		{"msg_method_name_size", "msg_method_name_copy", "name", InspectMessage, func(_ *harness, m *Message) { m.Method = string(data) }},
		{"canister_self_size", "canister_self_copy", "id", Update, func(h *harness, _ *Message) { h.env.CanisterID = data }},
		{"subnet_self_size", "subnet_self_copy", "id", Update, func(h *harness, _ *Message) { h.env.SubnetID = data }},
		{"root_key_size", "root_key_copy", "root_key", Update, func(h *harness, _ *Message) { h.env.RootKey = data }},
		{"data_certificate_size", "data_certificate_copy", "certificate", NonReplicatedQuery, func(h *harness, _ *Message) { h.env.DataCertificate = data }},
	}
	for _, tt := range tests {
		t.Run(tt.copy, func(t *testing.T) {
			h := newHarness(t)
			msg := msgIn(tt.ctx)
			tt.set(h, msg)
			if got := h.ok(msg, tt.size); got[0] != uint64(len(data)) {
				t.Fatalf("%s = %d, want %d", tt.size, got[0], len(data))
			}
			h.ok(msg, tt.copy, 100, 3, 4)
			if got := h.read(100, 4); string(got) != "3456" {
				t.Fatalf("%s copied %q, want 3456", tt.copy, got)
			}
			h.trap(msg, CodeCanisterContractViolation,
				"ic0."+tt.copy+" heap: src=65535 + length=4 exceeds the slice size=65536", tt.copy, heapEnd-1, 0, 4)
			h.trap(msg, CodeCanisterContractViolation,
				"ic0."+tt.copy+" "+tt.what+": src=8 + length=4 exceeds the slice size=10", tt.copy, 0, 8, 4)
		})
	}
}

func TestCallerDefaultsToEnv(t *testing.T) {
	h := newHarness(t)
	if got := h.ok(msgIn(Update), "msg_caller_size"); got[0] != 1 {
		t.Fatalf("anonymous caller size = %d, want 1", got[0])
	}
	h.ok(msgIn(Update), "msg_caller_copy", 0, 0, 1)
	if got := h.read(0, 1); got[0] != 0x04 {
		t.Fatalf("caller = %x, want 04 (anonymous)", got)
	}
}

func TestCallerInfoIsEmpty(t *testing.T) {
	h := newHarness(t)
	for _, fn := range []string{"msg_caller_info_data", "msg_caller_info_signer"} {
		if got := h.ok(msgIn(Update), fn+"_size"); got[0] != 0 {
			t.Errorf("%s_size = %d, want 0", fn, got[0])
		}
		h.ok(msgIn(Update), fn+"_copy", 0, 0, 0)
		h.trap(msgIn(Update), CodeCanisterContractViolation, "exceeds the slice size=0", fn+"_copy", 0, 0, 1)
	}
}

func TestMsgRejectCode(t *testing.T) {
	h := newHarness(t)
	msg := &Message{Context: RejectCallback, RejectCode: 4}
	if got := h.ok(msg, "msg_reject_code"); got[0] != 4 {
		t.Fatalf("reject callback: code %d, want 4", got[0])
	}
	msg = &Message{Context: ReplyCallback, RejectCode: 4}
	if got := h.ok(msg, "msg_reject_code"); got[0] != 0 {
		t.Fatalf("reply callback: code %d, want 0", got[0])
	}
}

func TestMsgDeadline(t *testing.T) {
	h := newHarness(t)
	if got := h.ok(&Message{Context: Update, Deadline: 77}, "msg_deadline"); got[0] != 77 {
		t.Fatalf("msg_deadline = %d, want 77", got[0])
	}
}

func TestReply(t *testing.T) {
	h := newHarness(t)
	h.write(0, []byte("hello world"))
	msg := msgIn(Update)
	h.host.Begin(msg, nil, nil)
	for _, c := range []struct {
		name string
		args []uint64
	}{
		{"msg_reply_data_append", []uint64{0, 5}},
		{"msg_reply_data_append", []uint64{5, 6}},
		{"msg_reply", nil},
	} {
		if _, err := h.mod.ExportedFunction(c.name).Call(h.ctx, c.args...); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	h.host.End()
	if !msg.Replied || string(msg.Reply) != "hello world" {
		t.Fatalf("replied %v with %q", msg.Replied, msg.Reply)
	}
	for _, fn := range []string{"msg_reply", "msg_reject", "msg_reply_data_append"} {
		h.trap(msg, CodeCanisterContractViolation, "ic0."+fn+": the call is already replied", fn, make([]uint64, len(mustLookup(t, fn).Params))...)
	}
}

func TestReplyEmpty(t *testing.T) {
	h := newHarness(t)
	msg := msgIn(Update)
	h.ok(msg, "msg_reply")
	if !msg.Replied || msg.Reply == nil || len(msg.Reply) != 0 {
		t.Fatalf("empty reply: replied %v, reply %v", msg.Replied, msg.Reply)
	}
}

func TestReplyDataAppendTraps(t *testing.T) {
	h := newHarness(t)
	h.trap(msgIn(Update), CodeCanisterContractViolation,
		"ic0.msg_reply_data_append: src=65000 + length=1000 exceeds the slice size=65536", "msg_reply_data_append", 65000, 1000)

	msg := &Message{Context: Update, Reply: make([]byte, maxReplySize)}
	h.trap(msg, CodeCanisterContractViolation,
		"ic0.msg_reply_data_append: application payload size (2097153) cannot be larger than 2097152.", "msg_reply_data_append", 0, 1)
	// A non-replicated query may reply up to 3 MiB.
	msg = &Message{Context: NonReplicatedQuery, Reply: make([]byte, maxReplySize)}
	h.ok(msg, "msg_reply_data_append", 0, 1)
}

func TestReject(t *testing.T) {
	h := newHarness(t)
	h.write(0, []byte("no way"))
	msg := &Message{Context: Update, Reply: []byte("partial")}
	h.ok(msg, "msg_reject", 0, 6)
	if !msg.Rejected || msg.Rejection != "no way" || msg.Reply != nil {
		t.Fatalf("rejected %v %q, reply %q", msg.Rejected, msg.Rejection, msg.Reply)
	}
	h.trap(msgIn(Update), CodeCanisterContractViolation, "ic0.msg_reject: src=65536 + length=1", "msg_reject", heapEnd, 1)
}

func TestAcceptMessage(t *testing.T) {
	h := newHarness(t)
	msg := msgIn(InspectMessage)
	h.ok(msg, "accept_message")
	if !msg.Accepted {
		t.Fatal("accept_message did not accept")
	}
	h.trap(msg, CodeCanisterContractViolation, "ic0.accept_message: the function was already called.", "accept_message")
}

func TestDebugPrint(t *testing.T) {
	h := newHarness(t)
	h.write(0, []byte("hi\xff"))
	msg := msgIn(PreUpgrade)
	h.ok(msg, "debug_print", 0, 2)
	h.ok(msg, "debug_print", 0, 3)
	h.ok(msg, "debug_print", heapEnd-1, 2) // out of bounds: a placeholder, no trap
	want := []string{"hi", "hi\uFFFD", "(debug_print message out of memory bounds)"}
	if strings.Join(msg.DebugPrints, "|") != strings.Join(want, "|") {
		t.Fatalf("DebugPrints = %q, want %q", msg.DebugPrints, want)
	}
}

func TestTrap(t *testing.T) {
	h := newHarness(t)
	h.write(0, []byte("Panicked at 'boom', src/lib.rs:1:1"))
	tr := h.trap(msgIn(Update), CodeCanisterCalledTrap, "Panicked at 'boom'", "trap", 0, 34)
	if want := "Canister called `ic0.trap` with message: 'Panicked at 'boom', src/lib.rs:1:1'"; tr.Error() != want {
		t.Fatalf("Error() = %q, want %q", tr.Error(), want)
	}
	if got := tr.Report("rrkah-fqaaa-aaaaa-aaaaq-cai"); !strings.HasPrefix(got, "IC0503: Error from Canister rrkah-fqaaa-aaaaa-aaaaq-cai: Canister called") {
		t.Fatalf("Report = %q", got)
	}
	h.trap(msgIn(Start), CodeCanisterCalledTrap, "(trap message out of memory bounds)", "trap", heapEnd, 1)
}

func mustLookup(t *testing.T, name string) Function {
	t.Helper()
	f, ok := Lookup(name)
	if !ok {
		t.Fatalf("no ic0.%s", name)
	}
	return f
}
