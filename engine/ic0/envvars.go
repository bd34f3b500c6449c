package ic0

import (
	"cmp"
	"slices"
	"unicode/utf8"

	"github.com/tetratelabs/wazero/api"
)

// maxEnvVarNameSize is the longest environment variable name in bytes.
const maxEnvVarNameSize = 128

// envVars returns the variables in name order, as the replica serves them
// (it keeps them in a sorted map).
func (h *Host) envVars() []EnvVar {
	vs := h.env.EnvVars
	if slices.IsSortedFunc(vs, func(a, b EnvVar) int { return cmp.Compare(a.Name, b.Name) }) {
		return vs
	}
	vs = slices.Clone(vs)
	slices.SortStableFunc(vs, func(a, b EnvVar) int { return cmp.Compare(a.Name, b.Name) })
	return vs
}

// envVarAt returns variable index or traps.
func (h *Host) envVarAt(index uint32) EnvVar {
	vs := h.envVars()
	if uint64(index) >= uint64(len(vs)) {
		panic(ContractViolation("Environment variable index out of bounds: index %d, length %d.", index, len(vs)))
	}
	return vs[index]
}

// envVarName reads a variable name from the heap, checking size and UTF-8.
func envVarName(mod api.Module, name string, src, size uint32) string {
	if size > maxEnvVarNameSize {
		panic(ContractViolation("ic0.%s: Variable name is too large.", name))
	}
	b := readHeap(mod, name, "heap", src, size)
	if !utf8.Valid(b) {
		panic(ContractViolation("ic0.%s: Variable name is not a valid UTF-8 string.", name))
	}
	return string(b)
}

// lookupEnvVar returns the value of the variable called name.
func (h *Host) lookupEnvVar(name string) (string, bool) {
	for _, v := range h.env.EnvVars {
		if v.Name == name {
			return v.Value, true
		}
	}
	return "", false
}

// envVarCount: env_var_count() -> i32.
func (h *Host) envVarCount(_ api.Module, s []uint64) {
	s[0] = uint64(len(h.env.EnvVars))
}

// envVarNameSize: env_var_name_size(index) -> i32.
func (h *Host) envVarNameSize(_ api.Module, s []uint64) {
	s[0] = uint64(len(h.envVarAt(uint32(s[0])).Name))
}

// envVarNameCopy: env_var_name_copy(index, dst, offset, size).
func (h *Host) envVarNameCopy(mod api.Module, s []uint64) {
	h.charge(uint64(uint32(s[3])))
	v := h.envVarAt(uint32(s[0]))
	copyOut(mod, "env_var_name_copy", "name", uint32(s[1]), uint32(s[2]), uint32(s[3]), []byte(v.Name))
}

// envVarNameExists: env_var_name_exists(name_src, name_size) -> i32.
func (h *Host) envVarNameExists(mod api.Module, s []uint64) {
	name := envVarName(mod, "env_var_name_exists", uint32(s[0]), uint32(s[1]))
	_, ok := h.lookupEnvVar(name)
	s[0] = 0
	if ok {
		s[0] = 1
	}
}

// envVarValue returns the value of the variable named on the heap or traps.
func (h *Host) envVarValue(mod api.Module, fn string, src, size uint32) string {
	name := envVarName(mod, fn, src, size)
	v, ok := h.lookupEnvVar(name)
	if !ok {
		panic(ContractViolation("Environment variable %q not found.", name))
	}
	return v
}

// envVarValueSize: env_var_value_size(name_src, name_size) -> i32.
func (h *Host) envVarValueSize(mod api.Module, s []uint64) {
	s[0] = uint64(len(h.envVarValue(mod, "env_var_value_size", uint32(s[0]), uint32(s[1]))))
}

// envVarValueCopy: env_var_value_copy(name_src, name_size, dst, offset, size).
func (h *Host) envVarValueCopy(mod api.Module, s []uint64) {
	h.charge(uint64(uint32(s[4])))
	v := h.envVarValue(mod, "env_var_value_copy", uint32(s[0]), uint32(s[1]))
	copyOut(mod, "env_var_value_copy", "value", uint32(s[2]), uint32(s[3]), uint32(s[4]), []byte(v))
}
