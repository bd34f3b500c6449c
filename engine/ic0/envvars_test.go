package ic0

import (
	"strings"
	"testing"
)

func TestEnvVars(t *testing.T) {
	h := newHarness(t)
	h.env.EnvVars = []EnvVar{{"ZONE", "eu"}, {"API", "https://x"}} // served in name order
	msg := msgIn(Update)
	if got := h.ok(msg, "env_var_count"); got[0] != 2 {
		t.Fatalf("count = %d", got[0])
	}
	if got := h.ok(msg, "env_var_name_size", 0); got[0] != 3 {
		t.Fatalf("name 0 size = %d, want 3 (API sorts first)", got[0])
	}
	h.ok(msg, "env_var_name_copy", 1, 0, 0, 4)
	if got := h.read(0, 4); string(got) != "ZONE" {
		t.Fatalf("name 1 = %q", got)
	}
	h.write(100, []byte("APIZONEnope\xff"))
	if got := h.ok(msg, "env_var_name_exists", 100, 3); got[0] != 1 {
		t.Fatal("API does not exist")
	}
	if got := h.ok(msg, "env_var_name_exists", 107, 4); got[0] != 0 {
		t.Fatal("nope exists")
	}
	if got := h.ok(msg, "env_var_value_size", 103, 4); got[0] != 2 {
		t.Fatalf("value size of ZONE = %d", got[0])
	}
	h.ok(msg, "env_var_value_copy", 100, 3, 200, 8, 1)
	if got := h.read(200, 1); string(got) != "x" {
		t.Fatalf("value copy = %q", got)
	}

	tests := []struct {
		fn     string
		args   []uint64
		reason string
	}{
		{"env_var_name_size", []uint64{2}, "Environment variable index out of bounds: index 2, length 2."},
		{"env_var_name_copy", []uint64{0, 0, 2, 2}, "ic0.env_var_name_copy name: src=2 + length=2 exceeds the slice size=3"},
		{"env_var_name_copy", []uint64{0, heapEnd, 0, 1}, "ic0.env_var_name_copy heap"},
		{"env_var_name_exists", []uint64{0, 129}, "ic0.env_var_name_exists: Variable name is too large."},
		{"env_var_name_exists", []uint64{110, 2}, "Variable name is not a valid UTF-8 string."},
		{"env_var_value_size", []uint64{107, 4}, `Environment variable "nope" not found.`},
		{"env_var_value_copy", []uint64{103, 4, 0, 1, 2}, "ic0.env_var_value_copy value: src=1 + length=2 exceeds the slice size=2"},
		{"env_var_value_copy", []uint64{heapEnd, 1, 0, 0, 0}, "ic0.env_var_value_copy heap"},
	}
	for _, tt := range tests {
		tr := h.trap(msg, CodeCanisterContractViolation, tt.reason, tt.fn, tt.args...)
		if !strings.Contains(tr.Error(), "Canister violated contract: ") {
			t.Errorf("%s: Error() = %q", tt.fn, tr.Error())
		}
	}
	if h.env.EnvVars[0].Name != "ZONE" {
		t.Fatal("serving env vars reordered Env.EnvVars")
	}
}
