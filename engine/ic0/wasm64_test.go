package ic0

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

func TestLookupModeWasm64Signatures(t *testing.T) {
	for _, tt := range []struct {
		name                string
		wantParams, wantRes []api.ValueType
	}{
		{"msg_reply_data_append", sig(i64, i64), nil},
		{"call_perform", nil, sig(i32)},
		{"msg_arg_data_size", nil, sig(i64)},
		{"performance_counter", sig(i32), sig(i64)},
		{"cost_sign_with_ecdsa", sig(i64, i64, i32, i64), sig(i32)},
		{"stable64_read", sig(i64, i64, i64), nil},
		{"call_new", sig(i64, i64, i64, i64, i64, i64, i64, i64), nil},
	} {
		f, ok := LookupMode(tt.name, true)
		if !ok || !slices.Equal(f.Params, tt.wantParams) || !slices.Equal(f.Results, tt.wantRes) {
			t.Errorf("%s: wasm64 signature %v -> %v (%v), want %v -> %v", tt.name, f.Params, f.Results, ok, tt.wantParams, tt.wantRes)
		}
	}
	if _, ok := LookupMode("stable_write", true); ok {
		t.Error("stable_write must not exist in wasm64 mode")
	}
	if _, ok := LookupMode("stable_write", false); !ok {
		t.Error("stable_write must exist in wasm32 mode")
	}
	for name := range wideChecks {
		if _, ok := LookupMode(name, true); !ok {
			t.Errorf("wideChecks names %s, which wasm64 mode does not offer", name)
		}
	}
}

// wasm64Call calls ic0.name's wasm64 host function on a one-page heap, as
// a lowered wasm64 module does, and returns the results or the trap.
func wasm64Call(t *testing.T, h *Host, mod api.Module, name string, args ...uint64) (res []uint64, trap *Trap) {
	t.Helper()
	i := slices.IndexFunc(wasm64Table(), func(f Function) bool { return f.Name == name })
	if i < 0 {
		t.Fatalf("no wasm64 %s", name)
	}
	f := wasm64Table()[i]
	stack := make([]uint64, max(len(f.Params), len(f.Results)))
	copy(stack, args)
	defer func() {
		if r := recover(); r != nil {
			var ok bool
			if trap, ok = r.(*Trap); !ok {
				panic(r)
			}
		}
	}()
	h.hostFunc(f)(context.Background(), mod, stack)
	return stack[:len(f.Results)], nil
}

// onePage instantiates a module of one exported 64 KiB memory.
func onePage(t *testing.T) api.Module {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	b := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	b = appendSection(b, 5, []byte{1}, []byte{0x00, 1})
	b = appendSection(b, 7, []byte{1}, append(appendName(nil, "memory"), 0x02, 0x00))
	mod, err := rt.Instantiate(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

// TestWasm64Adapter: `I` values below 2^32 reach the wasm32 code, wider
// ones fail the replica's range check with their 64-bit values, callback
// environments keep all 64 bits and callback indices narrow to 2^32-1
// (linker.rs: `try_into().unwrap_or(u32::MAX)`).
func TestWasm64Adapter(t *testing.T) {
	h := NewHost(nil, nil)
	mod := onePage(t)
	msg := msgIn(Update)
	msg.Arg = []byte("argument")
	h.Begin(msg, nil, nil)
	defer h.End()

	if res, trap := wasm64Call(t, h, mod, "msg_arg_data_size"); trap != nil || res[0] != 8 {
		t.Fatalf("msg_arg_data_size = %v %v", res, trap)
	}
	if _, trap := wasm64Call(t, h, mod, "msg_arg_data_copy", 100, 0, 8); trap != nil {
		t.Fatal(trap)
	}
	if b, _ := mod.Memory().Read(100, 8); string(b) != "argument" {
		t.Fatalf("heap holds %q", b)
	}
	for _, tt := range []struct {
		name string
		args []uint64
		want string
	}{
		{"msg_arg_data_copy", []uint64{1 << 32, 0, 1}, "ic0.msg_arg_data_copy heap: src=4294967296 + length=1 exceeds the slice size=65536"},
		{"msg_arg_data_copy", []uint64{0, 1 << 40, 1}, "ic0.msg_arg_data_copy payload: src=1099511627776 + length=1 exceeds the slice size=8"},
		{"msg_arg_data_copy", []uint64{0, 0, 1 << 32}, "ic0.msg_arg_data_copy heap: src=0 + length=4294967296 exceeds the slice size=65536"},
		{"msg_reply_data_append", []uint64{0, 1<<64 - 1}, "ic0.msg_reply_data_append: src=0 + length=18446744073709551615 exceeds the slice size=65536"},
		{"msg_cycles_available128", []uint64{1 << 33}, "ic0.msg_cycles_available128 heap: src=8589934592 + length=16 exceeds the slice size=65536"},
		{"call_new", []uint64{1 << 32, 1, 0, 0, 0, 0, 0, 0}, "ic0.call_new callee_src: src=4294967296 + length=1 exceeds the slice size=65536"},
	} {
		if _, trap := wasm64Call(t, h, mod, tt.name, tt.args...); trap == nil || trap.Error() != tt.want && !strings.Contains(trap.Error(), tt.want) {
			t.Errorf("%s%v: trap %v, want %q", tt.name, tt.args, trap, tt.want)
		}
	}
	if _, trap := wasm64Call(t, h, mod, "call_new", 0, 0, 0, 0, 1<<33, 1<<40+5, 7, 1<<63+9); trap != nil {
		t.Fatal(trap)
	}
	if c := h.pending; c.ReplyFn != 1<<32-1 || c.ReplyEnv != 1<<40+5 || c.RejectFn != 7 || c.RejectEnv != 1<<63+9 {
		t.Errorf("call_new kept fn %d env %d, fn %d env %d", c.ReplyFn, c.ReplyEnv, c.RejectFn, c.RejectEnv)
	}
	if _, trap := wasm64Call(t, h, mod, "call_on_cleanup", 3, 1<<50); trap != nil {
		t.Fatal(trap)
	}
	if c := h.pending; c.CleanupFn != 3 || c.CleanupEnv != 1<<50 {
		t.Errorf("call_on_cleanup kept fn %d env %d", c.CleanupFn, c.CleanupEnv)
	}
	// debug_print never traps: a wide range prints the replica's placeholder.
	if _, trap := wasm64Call(t, h, mod, "debug_print", 1<<32, 4); trap != nil {
		t.Fatal(trap)
	}
	if got := msg.DebugPrints[len(msg.DebugPrints)-1]; got != "(debug_print message out of memory bounds)" {
		t.Errorf("debug_print printed %q", got)
	}
}

// TestWasm64WideSizeCharged: a size of 2^32 or more is charged before the
// range check, as the replica's charge_for_cpu_and_mem does, so a size
// beyond the instructions left ends the message at the instruction limit.
func TestWasm64WideSizeCharged(t *testing.T) {
	h := NewHost(nil, nil)
	mod := onePage(t)
	m := &limitMeter{limit: 1 << 40}
	h.Begin(msgIn(Update), m, nil)
	defer h.End()
	_, trap := wasm64Call(t, h, mod, "msg_arg_data_copy", 0, 0, 1<<33)
	if trap == nil || !strings.Contains(trap.Error(), "exceeds the slice size") || m.used < 1<<33 {
		t.Fatalf("size 2^33 with room: trap %v after %d instructions, want the range check after charging it", trap, m.used)
	}
	_, trap = wasm64Call(t, h, mod, "msg_reply_data_append", 0, 1<<40)
	if trap == nil || trap.Code != CodeInstructionLimitExceeded {
		t.Fatalf("size 2^40 x 50 past the limit: trap %v, want the instruction limit", trap)
	}
}

// limitMeter is a Meter with a limit.
type limitMeter struct{ used, limit uint64 }

func (m *limitMeter) Charge(n uint64) bool {
	m.used = satAdd(m.used, n)
	return m.used <= m.limit
}
func (m *limitMeter) Used() uint64  { return m.used }
func (m *limitMeter) Limit() uint64 { return m.limit }
