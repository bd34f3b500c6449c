package ic0

import (
	"slices"
	"testing"

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
