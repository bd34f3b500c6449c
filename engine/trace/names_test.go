package trace

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestDemangledEvents: a traced Rust canister's events, call stack and
// trap name functions demangled; the JSON keeps the mangled name as raw.
func TestDemangledEvents(t *testing.T) {
	f := newFixture(t)
	snap := f.install(t, "../testdata/rust_ledger_v0.wasm")
	s := f.open(t, snap.ID, Request{Method: "fail"})
	var found bool
	for _, e := range events(t, s) {
		if strings.HasPrefix(e.Function, "_R") || strings.HasPrefix(e.Function, "_Z") {
			t.Fatalf("event %s: function not demangled", e)
		}
		if e.Function == "rust_ledger::trap" && strings.HasPrefix(e.Raw, "_RNv") {
			found = true
			b, _ := json.Marshal(e)
			if !strings.Contains(string(b), `"function":"rust_ledger::trap","raw":"_RNv`) {
				t.Errorf("JSON %s", b)
			}
		}
	}
	if !found {
		t.Fatal("no event in rust_ledger::trap with its raw name")
	}
	at, ok := s.Trap()
	if !ok {
		t.Fatal("fail did not trap")
	}
	v, err := s.Seek(context.Background(), at)
	if err != nil {
		t.Fatal(err)
	}
	stack := v.Stack()
	if len(stack) < 2 || stack[0] != "canister_update fail" || stack[len(stack)-1] != "rust_ledger::ic0::trap" && stack[len(stack)-1] != "rust_ledger::trap" {
		t.Errorf("stack at the trap %q", stack)
	}
}
