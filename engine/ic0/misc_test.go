package ic0

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/canscope/canscope/engine/leb128"
)

func TestTimeAndTimer(t *testing.T) {
	h := newHarness(t)
	if got := h.ok(msgIn(Update), "time"); got[0] != DefaultTime {
		t.Fatalf("time = %d, want %d", got[0], DefaultTime)
	}
	h.env.Time = 5
	if got := h.ok(msgIn(ReplicatedQuery), "time"); got[0] != 5 {
		t.Fatalf("time = %d, want 5", got[0])
	}
	if got := h.ok(msgIn(Init), "global_timer_set", 100); got[0] != 0 {
		t.Fatalf("first global_timer_set returned %d, want 0", got[0])
	}
	if got := h.ok(msgIn(Update), "global_timer_set", 0); got[0] != 100 || h.state.GlobalTimer != 0 {
		t.Fatalf("global_timer_set(0) returned %d, timer %d", got[0], h.state.GlobalTimer)
	}
}

func TestCanisterStatusAndVersion(t *testing.T) {
	h := newHarness(t)
	if got := h.ok(msgIn(Update), "canister_status"); got[0] != StatusRunning {
		t.Fatalf("status = %d", got[0])
	}
	h.env.Status = StatusStopping
	if got := h.ok(msgIn(Update), "canister_status"); got[0] != StatusStopping {
		t.Fatalf("status = %d", got[0])
	}
	if got := h.ok(&Message{Context: PostUpgrade, CanisterVersion: 9}, "canister_version"); got[0] != 9 {
		t.Fatalf("version = %d", got[0])
	}
}

func TestIsController(t *testing.T) {
	h := newHarness(t)
	h.env.Controllers = [][]byte{{1, 2}, {3}}
	h.write(0, []byte{3, 1, 2})
	tests := []struct {
		src, size uint64
		want      uint64
	}{
		{0, 1, 1},
		{1, 2, 1},
		{0, 2, 0},
		{0, 0, 0},
	}
	for _, tt := range tests {
		if got := h.ok(msgIn(Start), "is_controller", tt.src, tt.size); got[0] != tt.want {
			t.Errorf("is_controller(%d, %d) = %d, want %d", tt.src, tt.size, got[0], tt.want)
		}
	}
	h.trap(msgIn(Update), CodeCanisterContractViolation, "invalid principal id", "is_controller", 0, 30)
	h.trap(msgIn(Update), CodeCanisterContractViolation, "ic0.is_controller: src=65535 + length=2", "is_controller", heapEnd-1, 2)
}

func TestInReplicatedExecution(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		c    Context
		want uint64
	}{{Update, 1}, {ReplicatedQuery, 1}, {NonReplicatedQuery, 0}, {InspectMessage, 0}, {Start, 1}} {
		if got := h.ok(msgIn(tt.c), "in_replicated_execution"); got[0] != tt.want {
			t.Errorf("in %s: %d, want %d", tt.c, got[0], tt.want)
		}
	}
}

func TestCertifiedData(t *testing.T) {
	h := newHarness(t)
	h.write(0, []byte("0123456789abcdef0123456789abcdef!"))
	h.ok(msgIn(Update), "certified_data_set", 0, 32)
	if string(h.state.CertifiedData) != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("certified data = %q", h.state.CertifiedData)
	}
	h.trap(msgIn(Update), CodeCanisterContractViolation, "must be no larger than 32 bytes. Found 33 bytes.", "certified_data_set", 0, 33)
	h.trap(msgIn(Update), CodeCanisterContractViolation, "ic0.certified_data_set: src=65535 + length=2", "certified_data_set", heapEnd-1, 2)
}

func TestDataCertificate(t *testing.T) {
	h := newHarness(t)
	h.env.DataCertificate = []byte("cert")
	for _, tt := range []struct {
		c    Context
		want uint64
	}{{NonReplicatedQuery, 1}, {CompositeQuery, 1}, {ReplicatedQuery, 0}, {Update, 0}} {
		if got := h.ok(msgIn(tt.c), "data_certificate_present"); got[0] != tt.want {
			t.Errorf("present in %s = %d, want %d", tt.c, got[0], tt.want)
		}
	}
	h.env.DataCertificate = nil
	h.trap(msgIn(NonReplicatedQuery), CodeCanisterContractViolation,
		`"ic0_data_certificate_size" cannot be executed in non replicated query mode`, "data_certificate_size")
	h.trap(msgIn(NonReplicatedQuery), CodeCanisterContractViolation,
		`"ic0_data_certificate_copy" cannot be executed`, "data_certificate_copy", 0, 0, 0)
}

func TestPerformanceCounter(t *testing.T) {
	h := newHarness(t)
	m := &fixedMeter{used: 1000, limit: 1 << 40}
	msg := &Message{Context: Update, CallContextInstructions: 5}
	res, err := h.runMetered(msg, m, nil, "performance_counter", 0)
	if err != nil || res[0] != 1200 {
		t.Fatalf("performance_counter(0) = %v, %v; want 1200 (1000 + its own overhead)", res, err)
	}
	res, err = h.runMetered(msg, m, nil, "performance_counter", 1)
	if err != nil || res[0] != 1405 {
		t.Fatalf("performance_counter(1) = %v, %v; want 1405", res, err)
	}
	res, err = h.runMetered(msg, m, nil, "instruction_counter")
	if err != nil || res[0] != 1600 {
		t.Fatalf("instruction_counter = %v, %v; want 1600", res, err)
	}
	h.trap(msg, CodeCanisterContractViolation, "Error getting performance counter type 2", "performance_counter", 2)
	// Without a meter the host counts its own charges.
	if got := h.ok(msgIn(Start), "performance_counter", 0); got[0] != 200 {
		t.Fatalf("unmetered performance_counter(0) = %d, want 200", got[0])
	}
}

func TestMeteringCharges(t *testing.T) {
	tests := []struct {
		fn   string
		args []uint64
		want uint64
	}{
		{"time", nil, 500},
		{"msg_arg_data_copy", []uint64{0, 0, 4}, 504},
		{"msg_reply_data_append", []uint64{0, 4}, 500 + 50*4},
		// Logging rule: 2 kept + 50 transmitted per byte (linker.rs).
		{"debug_print", []uint64{0, 4}, 100 + 52*4},
		// 10 bytes into one fresh 4 KiB page: overhead, bytes, one dirty page.
		{"stable64_write", []uint64{0, 0, 10}, 20 + 10 + 1000},
		{"stable64_read", []uint64{0, 0, 10}, 20 + 10},
		{"stable64_grow", []uint64{1}, 100},
		{"stable64_size", nil, 0},
		{"call_perform", nil, 0}, // traps after charging 5000: see below
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			h := newHarness(t)
			h.state.Stable.Grow(1)
			m := &fixedMeter{limit: 1 << 40}
			msg := &Message{Context: Update, Arg: []byte("abcd")}
			_, err := h.runMetered(msg, m, nil, tt.fn, tt.args...)
			if tt.fn == "call_perform" {
				if err == nil || m.used != 5000 {
					t.Fatalf("call_perform without call_new: err %v, charged %d", err, m.used)
				}
				return
			}
			if err != nil || m.used != tt.want {
				t.Fatalf("charged %d (err %v), want %d", m.used, err, tt.want)
			}
		})
	}
}

func TestInstructionLimit(t *testing.T) {
	h := newHarness(t)
	m := &fixedMeter{used: 1999_999_900, limit: 2_000_000_000}
	_, err := h.runMetered(msgIn(Update), m, nil, "time")
	tr, ok := AsTrap(err)
	if !ok || tr.Code != CodeInstructionLimitExceeded {
		t.Fatalf("err = %v, want IC0522", err)
	}
	if want := "Canister exceeded the limit of 2000000000 instructions for single message execution."; tr.Error() != want {
		t.Fatalf("Error() = %q, want %q", tr.Error(), want)
	}
}

func TestRecorder(t *testing.T) {
	h := newHarness(t)
	log := &callLog{}
	if _, err := h.runMetered(msgIn(Update), nil, log, "time"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.runMetered(msgIn(Update), nil, log, "msg_method_name_size"); err == nil {
		t.Fatal("msg_method_name_size in update did not trap")
	}
	if _, err := h.runMetered(msgIn(Update), nil, log, "stable64_read", 0, 0, 1); err == nil {
		t.Fatal("stable64_read past the end did not trap")
	}
	want := []string{"time", "stable64_read trapped"}
	if !slices.Equal(log.calls, want) {
		t.Fatalf("recorded %q, want %q (a call refused by the context table is not executed)", log.calls, want)
	}
}

// paramLog records parameters and results.
type paramLog struct{ got []string }

func (l *paramLog) SystemCall(name string, params, results []uint64) {
	l.got = append(l.got, fmt.Sprint(name, params, results))
}

func TestRecorderValues(t *testing.T) {
	h := newHarness(t)
	log := &paramLog{}
	if _, err := h.runMetered(msgIn(Update), nil, log, "stable64_grow", 3); err != nil {
		t.Fatal(err)
	}
	if want := []string{"stable64_grow[3] [0]"}; !slices.Equal(log.got, want) {
		t.Fatalf("recorded %q, want %q", log.got, want)
	}
}

func TestCallOutsideMessage(t *testing.T) {
	h := newHarness(t)
	_, err := h.mod.ExportedFunction("time").Call(h.ctx)
	tr, ok := AsTrap(err)
	if !ok || !strings.Contains(tr.Reason, "outside a message execution") {
		t.Fatalf("err = %v", err)
	}
}

func TestStateRollback(t *testing.T) {
	st := NewState()
	st.Stable.Grow(1)
	if err := st.Stable.Write(0, []byte("old")); err != nil {
		t.Fatal(err)
	}
	st.CertifiedData = []byte("old")
	st.GlobalTimer = 1

	st.Begin()
	st.CertifiedData = []byte("new")
	st.GlobalTimer = 2
	st.Cycles = Cycles{}
	st.Stable.Grow(1)
	if err := st.Stable.Write(0, []byte("new")); err != nil {
		t.Fatal(err)
	}
	st.Rollback()

	got := make([]byte, 3)
	if err := st.Stable.Read(got, 0); err != nil {
		t.Fatal(err)
	}
	if string(got) != "old" || st.Stable.Size() != 1 || string(st.CertifiedData) != "old" ||
		st.GlobalTimer != 1 || st.Cycles != CyclesFrom(DefaultCycles) {
		t.Fatalf("after rollback: stable %q size %d, certified %q, timer %d, cycles %v",
			got, st.Stable.Size(), st.CertifiedData, st.GlobalTimer, st.Cycles)
	}

	st.Begin()
	st.GlobalTimer = 3
	st.Commit()
	st.Rollback() // nothing open: no effect
	if st.GlobalTimer != 3 {
		t.Fatalf("timer %d after commit, want 3", st.GlobalTimer)
	}
}

// TestTrapRollsBackThroughHost runs a failing message end to end: writes to
// stable memory, certified data and the timer, then ic0.trap; the engine's
// Rollback restores all of it.
func TestTrapRollsBackThroughHost(t *testing.T) {
	h := newHarness(t)
	h.state.Stable.Grow(1)
	h.write(0, []byte("newdataboom"))
	h.state.Begin()
	_, err := h.runAll(msgIn(Update),
		call{"certified_data_set", []uint64{0, 3}},
		call{"global_timer_set", []uint64{99}},
		call{"stable64_grow", []uint64{10}},
		call{"stable64_write", []uint64{0, 3, 4}},
		call{"trap", []uint64{7, 4}},
	)
	if tr, ok := AsTrap(err); !ok || tr.Reason != "boom" {
		t.Fatalf("err = %v, want the trap 'boom'", err)
	}
	h.state.Rollback()
	if h.state.CertifiedData != nil || h.state.GlobalTimer != 0 || h.state.Stable.Size() != 1 || h.state.Stable.Allocated() != 0 {
		t.Fatalf("state not rolled back: %+v, stable %d pages, %d allocated",
			h.state, h.state.Stable.Size(), h.state.Stable.Allocated())
	}
}

func TestAsTrap(t *testing.T) {
	tests := []struct {
		err    error
		ok     bool
		code   ErrorCode
		reason string
	}{
		{nil, false, "", ""},
		{errors.New("context canceled"), false, "", ""},
		{fmt.Errorf("wrapped: %w", CalledTrap("x")), true, CodeCanisterCalledTrap, "x"},
		{errors.New("wasm error: unreachable\nwasm stack trace:\n\t.$1()"), true, CodeCanisterTrapped, "unreachable"},
		{errors.New("wasm error: out of bounds memory access\nwasm stack trace:"), true, CodeCanisterTrapped, ReasonHeapOutOfBounds},
		{errors.New("wasm error: integer divide by zero"), true, CodeCanisterTrapped, "integer division by 0"},
		{errors.New("wasm error: integer overflow"), true, CodeCanisterTrapped, "unknown"},
		{errors.New("wasm error: invalid table access"), true, CodeCanisterTrapped, "table out of bounds"},
		{errors.New("wasm error: stack overflow"), true, CodeCanisterTrapped, "stack overflow"},
		{errors.New("wasm error: something new"), true, CodeCanisterTrapped, "something new"},
	}
	for _, tt := range tests {
		tr, ok := AsTrap(tt.err)
		if ok != tt.ok || ok && (tr.Code != tt.code || tr.Reason != tt.reason) {
			t.Errorf("AsTrap(%v) = %+v, %v", tt.err, tr, ok)
		}
	}
}

func TestFunctionsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Functions() {
		if seen[f.Name] {
			t.Errorf("ic0.%s listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Contexts == 0 {
			t.Errorf("ic0.%s is allowed nowhere", f.Name)
		}
	}
	// The functions real canisters shipped by dfx import (ic-reference.md).
	for _, name := range []string{"canister_cycle_balance", "msg_cycles_available", "msg_cycles_accept",
		"msg_cycles_refunded", "call_cycles_add", "call_on_cleanup", "call_with_best_effort_response",
		"canister_liquid_cycle_balance128", "cost_call", "root_key_size", "root_key_copy", "env_var_count",
		"env_var_name_size", "env_var_name_copy", "env_var_value_size", "env_var_value_copy",
		"data_certificate_present", "data_certificate_size", "data_certificate_copy", "msg_method_name_size",
		"msg_method_name_copy", "mint_cycles", "cycles_burn128", "in_replicated_execution", "is_controller",
		"performance_counter", "instruction_counter", "global_timer_set", "certified_data_set", "debug_print",
		"trap", "stable_size", "stable_grow", "stable_read", "stable_write", "stable64_size", "stable64_grow",
		"stable64_read", "stable64_write", "subnet_self_size", "subnet_self_copy", "msg_deadline"} {
		if !seen[name] {
			t.Errorf("ic0.%s missing", name)
		}
	}
	f := mustLookup(t, "call_new")
	if len(f.Params) != 8 || len(f.Results) != 0 {
		t.Errorf("call_new signature %v -> %v", f.Params, f.Results)
	}
	if f := mustLookup(t, "stable64_read"); !slices.Equal(f.Params, sig(i64, i64, i64)) {
		t.Errorf("stable64_read params %v", f.Params)
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup found an unknown function")
	}
}

// trapModule returns a module exporting "unreachable", "oob" (a load past
// the end of its one-page memory) and "recurse" (endless recursion).
func trapModule() []byte {
	bodies := [][]byte{
		{0x00, 0x00, 0x0b}, // no locals; unreachable; end
		append(append([]byte{0x00, 0x41}, leb128.AppendInt(nil, 70000)...), 0x28, 0x02, 0x00, 0x1a, 0x0b),
		{0x00, 0x10, 0x02, 0x0b}, // call itself forever
	}
	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	out = appendSection(out, 1, []byte{1}, []byte{0x60, 0, 0})
	out = appendSection(out, 3, []byte{3}, []byte{0, 0, 0})
	out = appendSection(out, 5, []byte{1}, []byte{0x00, 1})
	var exports []byte
	exports = append(appendName(exports, "unreachable"), 0x00, 0)
	exports = append(appendName(exports, "oob"), 0x00, 1)
	exports = append(appendName(exports, "recurse"), 0x00, 2)
	out = appendSection(out, 7, []byte{3}, exports)
	var code []byte
	for _, b := range bodies {
		code = append(appendU32(code, uint32(len(b))), b...)
	}
	return appendSection(out, 10, []byte{3}, code)
}

// TestAsTrapOnWazeroTraps checks the mapping against the errors wazero
// really returns, in both engines.
func TestAsTrapOnWazeroTraps(t *testing.T) {
	ctx := t.Context()
	for name, cfg := range map[string]wazero.RuntimeConfig{
		"interpreter": wazero.NewRuntimeConfigInterpreter(),
		"compiler":    wazero.NewRuntimeConfig(),
	} {
		t.Run(name, func(t *testing.T) {
			r := wazero.NewRuntimeWithConfig(ctx, cfg)
			defer r.Close(ctx)
			mod, err := r.Instantiate(ctx, trapModule())
			if err != nil {
				t.Fatal(err)
			}
			for fn, want := range map[string]string{"unreachable": "unreachable", "oob": ReasonHeapOutOfBounds, "recurse": "stack overflow"} {
				_, err := mod.ExportedFunction(fn).Call(ctx)
				tr, ok := AsTrap(err)
				if !ok || tr.Code != CodeCanisterTrapped || tr.Reason != want {
					t.Errorf("%s: AsTrap(%v) = %+v, %v; want %q", fn, err, tr, ok, want)
				}
			}
		})
	}
}

func TestNewHostDefaults(t *testing.T) {
	h := NewHost(nil, nil)
	if h.State() == nil || h.State().Stable == nil || h.Env().Time != DefaultTime {
		t.Fatalf("NewHost(nil, nil): state %v, env %+v", h.State(), h.Env())
	}
	env := &Env{Time: 1}
	h.SetEnv(env)
	if h.Env() != env {
		t.Fatal("SetEnv did not replace the environment")
	}
	h.SetEnv(nil)
	if h.Env().Time != DefaultTime {
		t.Fatal("SetEnv(nil) did not restore the defaults")
	}
	if h.Message() != nil {
		t.Fatal("a message is open before Begin")
	}
	msg := msgIn(Update)
	h.Begin(msg, nil, nil)
	if h.Message() != msg {
		t.Fatal("Message does not return the open message")
	}
	h.End()
}

// noMemoryModule imports debug_print, trap and time and exports them; it
// declares no memory, which the System API must survive.
func noMemoryModule() []byte {
	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	out = appendSection(out, 1, []byte{1}, []byte{0x60, 2, i32, i32, 0})
	var imports []byte
	for _, name := range []string{"debug_print", "trap"} {
		imports = append(appendName(appendName(imports, ModuleName), name), 0x00, 0)
	}
	out = appendSection(out, 2, []byte{2}, imports)
	out = appendSection(out, 3, []byte{2}, []byte{0, 0})
	var exports []byte
	exports = append(appendName(exports, "debug_print"), 0x00, 2)
	exports = append(appendName(exports, "trap"), 0x00, 3)
	out = appendSection(out, 7, []byte{2}, exports)
	var code []byte
	for i := range 2 {
		body := []byte{0x00, 0x20, 0, 0x20, 1, 0x10, byte(i), 0x0b}
		code = append(appendU32(code, uint32(len(body))), body...)
	}
	return appendSection(out, 10, []byte{2}, code)
}

func TestModuleWithoutMemory(t *testing.T) {
	ctx := t.Context()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	host := NewHost(nil, nil)
	if _, err := host.Instantiate(ctx, r); err != nil {
		t.Fatal(err)
	}
	mod, err := r.Instantiate(ctx, noMemoryModule())
	if err != nil {
		t.Fatal(err)
	}
	msg := msgIn(Update)
	host.Begin(msg, nil, nil)
	defer host.End()
	if _, err := mod.ExportedFunction("debug_print").Call(ctx, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := mod.ExportedFunction("debug_print").Call(ctx, 0, 1); err != nil {
		t.Fatal(err)
	}
	_, err = mod.ExportedFunction("trap").Call(ctx, 0, 0)
	if tr, ok := AsTrap(err); !ok || tr.Code != CodeCanisterCalledTrap || tr.Reason != "" {
		t.Fatalf("trap without memory: %v", err)
	}
	if want := []string{"", "(debug_print message out of memory bounds)"}; !slices.Equal(msg.DebugPrints, want) {
		t.Fatalf("DebugPrints = %q, want %q", msg.DebugPrints, want)
	}
}
