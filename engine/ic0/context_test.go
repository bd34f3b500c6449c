package ic0

import (
	"strings"
	"testing"
)

func TestContextString(t *testing.T) {
	tests := []struct {
		c    Context
		want string
	}{
		{Start, "start"},
		{Init, "init"},
		{PostUpgrade, "init"},
		{PreUpgrade, "pre upgrade"},
		{Update, "update"},
		{ReplicatedQuery, "replicated query"},
		{NonReplicatedQuery, "non replicated query"},
		{CompositeQuery, "composite query"},
		{InspectMessage, "inspect message"},
		{Heartbeat, "heartbeat"},
		{GlobalTimer, "global timer"},
		{OnLowWasmMemory, "on low Wasm memory"},
		{ReplyCallback, "reply callback"},
		{RejectCallback, "reject callback"},
		{Cleanup, "cleanup"},
		{CompositeReplyCallback, "composite reply callback"},
		{CompositeRejectCallback, "composite reject callback"},
		{CompositeCleanup, "composite cleanup"},
		{Context(200), "unknown"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("Context(%d).String() = %q, want %q", tt.c, got, tt.want)
		}
	}
}

// TestAllowed checks the context table against rows written out by hand
// from the interface specification and the replica's ApiType matches.
func TestAllowed(t *testing.T) {
	tests := []struct {
		fn      string
		allowed []Context
	}{
		{"msg_reply", []Context{Update, ReplicatedQuery, NonReplicatedQuery, CompositeQuery,
			ReplyCallback, RejectCallback, CompositeReplyCallback, CompositeRejectCallback}},
		{"msg_arg_data_size", []Context{Init, PostUpgrade, Update, ReplicatedQuery, NonReplicatedQuery,
			CompositeQuery, ReplyCallback, CompositeReplyCallback, InspectMessage}},
		{"msg_reject_msg_size", []Context{RejectCallback, CompositeRejectCallback}},
		{"msg_reject_code", []Context{ReplyCallback, RejectCallback, CompositeReplyCallback, CompositeRejectCallback, Cleanup}},
		{"msg_method_name_size", []Context{InspectMessage}},
		{"accept_message", []Context{InspectMessage}},
		{"msg_deadline", []Context{Update, ReplicatedQuery, NonReplicatedQuery, CompositeQuery,
			ReplyCallback, RejectCallback, CompositeReplyCallback, CompositeRejectCallback}},
		{"msg_cycles_accept128", []Context{Update, ReplicatedQuery, ReplyCallback, RejectCallback}},
		{"msg_cycles_refunded", []Context{ReplyCallback, RejectCallback}},
		{"call_new", []Context{Update, CompositeQuery, ReplyCallback, RejectCallback,
			CompositeReplyCallback, CompositeRejectCallback, Heartbeat, GlobalTimer, OnLowWasmMemory}},
		{"call_cycles_add128", []Context{Update, ReplyCallback, RejectCallback, Heartbeat, GlobalTimer, OnLowWasmMemory}},
		{"certified_data_set", []Context{Init, PostUpgrade, PreUpgrade, Update, ReplyCallback, RejectCallback,
			Heartbeat, GlobalTimer, OnLowWasmMemory}},
		{"global_timer_set", []Context{Init, PostUpgrade, PreUpgrade, Update, ReplyCallback, RejectCallback,
			Cleanup, Heartbeat, GlobalTimer, OnLowWasmMemory}},
		{"data_certificate_size", []Context{NonReplicatedQuery, CompositeQuery}},
		{"cycles_burn128", []Context{Init, PostUpgrade, PreUpgrade, Update, ReplicatedQuery, ReplyCallback,
			RejectCallback, Cleanup, Heartbeat, GlobalTimer, OnLowWasmMemory}},
		{"mint_cycles", []Context{Update, ReplyCallback, RejectCallback}},
	}
	for _, tt := range tests {
		want := make(map[Context]bool)
		for _, c := range tt.allowed {
			want[c] = true
		}
		for c := range numContexts {
			if got := Allowed(tt.fn, c); got != want[c] {
				t.Errorf("Allowed(%s, %s) = %v, want %v", tt.fn, c, got, want[c])
			}
		}
	}
}

// TestAllowedEverywhereButStart covers the "*" functions and the "* s" ones.
func TestAllowedEverywhereButStart(t *testing.T) {
	star := []string{"msg_caller_size", "canister_self_copy", "canister_cycle_balance128", "time",
		"canister_status", "canister_version", "env_var_count", "data_certificate_present"}
	starS := []string{"stable64_read", "stable_grow", "debug_print", "trap", "performance_counter",
		"is_controller", "in_replicated_execution", "cost_call"}
	for c := range numContexts {
		for _, fn := range star {
			if Allowed(fn, c) != (c != Start) {
				t.Errorf("Allowed(%s, %s) = %v", fn, c, Allowed(fn, c))
			}
		}
		for _, fn := range starS {
			if !Allowed(fn, c) {
				t.Errorf("Allowed(%s, %s) = false", fn, c)
			}
		}
	}
	if Allowed("no_such_function", Update) {
		t.Error("an unknown function is allowed")
	}
}

// TestContextRulesEnforced calls every function in every context through
// wasm: a disallowed call must trap with the replica's text, an allowed one
// must never produce that text (it may trap for other reasons, e.g. zero
// arguments).
func TestContextRulesEnforced(t *testing.T) {
	h := newHarness(t)
	h.env.CyclesMinting = true
	h.env.DataCertificate = []byte("cert")
	for _, f := range Functions() {
		for c := range numContexts {
			args := make([]uint64, len(f.Params))
			_, err := h.run(msgIn(c), f.Name, args...)
			want := `"ic0_` + f.Name + `" cannot be executed in ` + c.String() + " mode"
			tr, trapped := AsTrap(err)
			refused := trapped && tr.Code == CodeCanisterContractViolation && strings.Contains(tr.Reason, "cannot be executed in")
			if f.Contexts.Has(c) {
				if refused {
					t.Errorf("%s in %s: refused: %v", f.Name, c, err)
				}
				continue
			}
			if !refused || tr.Reason != want {
				t.Errorf("%s in %s: err = %v, want %q", f.Name, c, err, want)
			}
		}
	}
}

func TestReplicated(t *testing.T) {
	for c := range numContexts {
		want := !strings.HasPrefix(c.String(), "composite") && c != NonReplicatedQuery && c != InspectMessage
		if c.Replicated() != want {
			t.Errorf("%s.Replicated() = %v, want %v", c, c.Replicated(), want)
		}
	}
	if !Update.CanReply() || PreUpgrade.CanReply() {
		t.Error("CanReply disagrees with msg_reply's contexts")
	}
}
