// Package validation holds the replica's rules for which wasm modules the
// IC accepts (dfinity/ic rs/embedders/src/wasm_utils/validation.rs,
// validate_wasm_binary, with the limits of rs/config/src/embedders.rs and
// the error texts of rs/types/wasm_types/src/errors.rs). The engine applies
// them when it loads a module and `canscope check` when it replays a
// snapshot load, so both refuse the same modules with the replica's words.
package validation

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/wasm"
)

// The replica's limits (rs/config/src/embedders.rs and validation.rs).
const (
	MaxGlobals                   = 1000
	MaxFunctions                 = 50000
	MaxCustomSections            = 16
	MaxCustomSectionsSize        = 1 << 20
	MaxNumberExportedFunctions   = 1000
	MaxSumExportedFunctionNames  = 20000
	FunctionComplexityLimit      = 1_000_000
	FunctionSizeLimit            = 1_000_000
	MaxCodeSectionSize           = 10 << 20
	ModuleMaxSize                = 100 << 20 // WASM_MAX_SIZE, uncompressed
	reservedSystemFunctionPrefix = "canister_"
)

// reservedSymbols cannot be exported: the replica's instrumentation uses
// these names (validation.rs RESERVED_SYMBOLS).
var reservedSymbols = []string{
	"canister counter_instructions",
	"canister_start",
	"canister counter_dirty_pages",
	"canister counter_accessed_pages",
	"stable_memory",
	"stable_bytemap_memory",
}

// systemFunctions are the `canister_` exports the interface spec allows
// besides the canister_update/query/composite_query methods; all take and
// return nothing.
var systemFunctions = []string{
	"canister_init", "canister_pre_upgrade", "canister_post_upgrade",
	"canister_inspect_message", "canister_heartbeat", "canister_global_timer",
	"canister_on_low_wasm_memory",
}

// Error is a module the replica refuses, with the replica's text
// (WasmValidationError's Display).
type Error struct{ Text string }

// Error returns the replica's text.
func (e *Error) Error() string { return e.Text }

func fail(format string, args ...any) error { return &Error{Text: fmt.Sprintf(format, args...)} }

// Validate applies the replica's validate_wasm_binary rules to m (parsed
// from its decompressed bytes), in the replica's order: code section size,
// imports, exports, data, globals, functions, code, custom sections. It
// returns the first violation as an *Error.
func Validate(m *wasm.Module) error {
	for _, s := range m.Sections {
		if s.ID == wasm.SectionCode && len(s.Payload) > MaxCodeSectionSize {
			return fail("Wasm module code section size of %d exceeds the maximum allowed size of %d.", len(s.Payload), MaxCodeSectionSize)
		}
	}
	for _, check := range []func(*wasm.Module) error{imports, exports, data, globals, functions, code, customSections} {
		if err := check(m); err != nil {
			return err
		}
	}
	return nil
}

// imports: functions only from ic0 with the System API's signatures,
// memory and table only from env, no globals or tags.
func imports(m *wasm.Module) error {
	const invalid = "Wasm module has an invalid import section. "
	memory64 := m.IsMemory64()
	for _, im := range m.Imports {
		switch im.Kind {
		case wasm.KindFunc:
			// A wasm64 module imports the wasm64 signatures (I = i64)
			// and not the wasm32-only functions (ic0.LookupMode).
			f, known := ic0.LookupMode(im.Name, memory64)
			if !known {
				return fail(invalid+"Module imports function '%s' from '%s' that is not exported by the runtime.", im.Name, im.Module)
			}
			if im.Module != ic0.ModuleName {
				return fail(invalid+"Module imports function %q from %q, expected to be imported from one of [%q] instead.", im.Name, im.Module, ic0.ModuleName)
			}
			if int(im.TypeIndex) >= len(m.Types) {
				return fail("Failed to decode wasm module: function import %s has type index %d out of range", im.Name, im.TypeIndex)
			}
			params, results := apiTypes(f.Params), apiTypes(f.Results)
			if err := signature(im.Name, m.Types[im.TypeIndex], params, results); err != nil {
				return err
			}
		case wasm.KindTable:
			if im.Name == "table" && im.Module != "env" {
				return fail(invalid + "Only tables imported from env.table are allowed.")
			}
		case wasm.KindMemory:
			if im.Name == "memory" && im.Module != "env" {
				return fail(invalid + "Only memory imported from env.memory is allowed.")
			}
		case wasm.KindGlobal:
			return fail(invalid + "Importing globals is not allowed.")
		default:
			return fail(invalid + "Importing tags is not allowed.")
		}
	}
	return nil
}

func apiTypes(ts []api.ValueType) []wasm.ValueType {
	out := make([]wasm.ValueType, len(ts))
	for i, t := range ts {
		out[i] = wasm.ValueType(t)
	}
	return out
}

// signature compares a function's type with the expected one, as the
// replica's validate_function_signature words it (wasmparser's ValType
// names, Debug-printed lists).
func signature(field string, got wasm.FuncType, params, results []wasm.ValueType) error {
	if !slices.Equal(got.Params, params) {
		return fail("Wasm module has an invalid function signature. Expected input params %s for '%s', got %s.", typeList(params), field, typeList(got.Params))
	}
	if !slices.Equal(got.Results, results) {
		return fail("Wasm module has an invalid function signature. Expected return type %s for '%s', got %s.", typeList(results), field, typeList(got.Results))
	}
	return nil
}

// typeList prints value types as Rust's Debug prints wasmparser's ValType
// list: [I32, I64].
func typeList(ts []wasm.ValueType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = valType(t)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func valType(t wasm.ValueType) string {
	switch t {
	case wasm.FuncRef:
		return "Ref(funcref)"
	case wasm.ExternRef:
		return "Ref(externref)"
	}
	return strings.ToUpper(t.String())
}

// exports: no reserved symbols, `canister_` functions only as the spec
// allows and with () -> () signatures, each method name under one call
// type, and at most 1000 methods whose names total at most 20000 bytes.
func exports(m *wasm.Module) error {
	seen := map[string]bool{}
	methods, nameBytes := 0, 0
	for _, e := range m.Exports {
		if slices.Contains(reservedSymbols, e.Name) {
			return fail("Wasm module has an invalid export section. Exporting reserved symbol %s not allowed.", e.Name)
		}
		if e.Kind != wasm.KindFunc {
			continue
		}
		fn := e.Name
		if kind, name, ok := strings.Cut(e.Name, " "); ok && (kind == "canister_query" || kind == "canister_composite_query" || kind == "canister_update") {
			if seen[name] {
				return fail("Duplicate function '%s' exported multiple times with different call types: update, query, or composite_query.", name)
			}
			seen[name] = true
			methods++
			nameBytes += len(name)
			fn = kind
		} else if strings.HasPrefix(e.Name, reservedSystemFunctionPrefix) && !slices.Contains(systemFunctions, e.Name) {
			return fail("Wasm module has an invalid export section. Exporting reserved function '%s' with \"canister_\" prefix", e.Name)
		}
		if fn == "canister_query" || fn == "canister_composite_query" || fn == "canister_update" || slices.Contains(systemFunctions, fn) {
			t, err := m.FuncType(e.Index)
			if err != nil {
				return fail("Wasm module has an invalid export section. Function export doesn't have a function type. %v", err)
			}
			if err := signature(e.Name, t, nil, nil); err != nil {
				return err
			}
		}
	}
	if methods > MaxNumberExportedFunctions {
		return fail("The number of exported functions called `canister_update <name>`, `canister_query <name>`, or `canister_composite_query <name>` is %d which exceeds %d.", methods, MaxNumberExportedFunctions)
	}
	if nameBytes > MaxSumExportedFunctionNames {
		return fail("The sum of `<name>` lengths in exported functions called `canister_update <name>`, `canister_query <name>`, or `canister_composite_query <name>` is %d which exceeds the allowed limit of %d.", nameBytes, MaxSumExportedFunctionNames)
	}
	return nil
}

// data: an active segment's offset is a single i32.const (orthogonal
// persistence needs it constant).
func data(m *wasm.Module) error {
	for _, d := range m.Data {
		if d.Mode != wasm.ModeActive {
			continue
		}
		ins, err := wasm.DecodeExpr(d.Offset)
		if err != nil {
			return fail("Failed to decode wasm module: data segment offset: %v", err)
		}
		if len(ins) != 2 || ins[0].Op != wasm.OpI32Const {
			return fail("Wasm module has an invalid data section. Invalid offset expression in data segment: %s", operator(ins))
		}
	}
	return nil
}

// operator names the offending offset expression the way the replica
// Debug-prints a wasmparser Operator (e.g. GlobalGet { global_index: 0 }).
func operator(ins []wasm.Instr) string {
	if len(ins) == 0 {
		return "End"
	}
	switch op := ins[0]; op.Op {
	case wasm.OpGlobalGet:
		return fmt.Sprintf("GlobalGet { global_index: %d }", op.Index)
	case wasm.OpI64Const:
		return fmt.Sprintf("I64Const { value: %d }", op.Value)
	default:
		return op.Op.String()
	}
}

// globals: at most 1000, of value types (no references).
func globals(m *wasm.Module) error {
	if n := len(m.Globals); n > MaxGlobals {
		return fail("Wasm module defined %d globals which exceeds the maximum number allowed %d.", n, MaxGlobals)
	}
	for _, g := range m.Globals {
		switch g.Type.Type {
		case wasm.I32, wasm.I64, wasm.F32, wasm.F64, wasm.V128:
		default:
			return fail("Wasm module has an invalid global section. Unsupported global type: %s", valType(g.Type.Type))
		}
	}
	return nil
}

func functions(m *wasm.Module) error {
	if n := len(m.Functions); n > MaxFunctions {
		return fail("Wasm module defined %d functions which exceeds the maximum number allowed %d.", n, MaxFunctions)
	}
	return nil
}

// code: each function's complexity (instructions weighted by how long
// they take to compile) and its instruction count within the limits; the
// index is the function's position in the code section, as the replica
// reports it.
func code(m *wasm.Module) error {
	for i, c := range m.Code {
		body, err := wasm.DecodeBody(c.Body)
		if err != nil {
			return fail("Failed to decode wasm module: function %d: %v", i, err)
		}
		complexity := 0
		for _, in := range body.Instrs {
			complexity += instructionComplexity(in.Op)
		}
		if complexity > FunctionComplexityLimit {
			return fail("Wasm module contains a function at index %d with complexity %d which exceeds the maximum complexity allowed %d.", i, complexity, FunctionComplexityLimit)
		}
		if n := len(body.Instrs); n > FunctionSizeLimit {
			return fail("Wasm module contains a function at index %d of size %d that exceeds the maximum allowed size of %d.", i, n, FunctionSizeLimit)
		}
	}
	return nil
}

// customSections: `icp:` sections are `icp:public <name>` or
// `icp:private <name>`, unique, at most 16, at most 1 MiB together.
func customSections(m *wasm.Module) error {
	seen := map[string]bool{}
	total := 0
	for _, c := range m.Customs {
		if !strings.HasPrefix(c.Name, "icp:") {
			continue
		}
		name, ok := strings.CutPrefix(c.Name, "icp:public ")
		if !ok {
			name, ok = strings.CutPrefix(c.Name, "icp:private ")
		}
		if !ok {
			if c.Name == "icp:public" || c.Name == "icp:private" {
				return fail("Wasm module has an invalid custom section. 'icp:' section names must have a space after the public/private scope")
			}
			return fail("Wasm module has an invalid custom section. Invalid custom section: Custom section '%s' has no public/private scope defined.", c.Name)
		}
		if seen[name] {
			return fail("Wasm module has an invalid custom section. Invalid custom section: name %s already exists", name)
		}
		seen[name] = true
		if total += len(c.Data) + len(name); total > MaxCustomSectionsSize {
			return fail("Wasm module has an invalid custom section. Invalid custom sections: total size of the custom sections exceeds the maximum allowed: size %d bytes, allowed %d bytes", total, MaxCustomSectionsSize)
		}
		if len(seen) > MaxCustomSections {
			return fail("Wasm module defined %d custom sections which exceeds the maximum number allowed %d.", len(seen), MaxCustomSections)
		}
	}
	return nil
}

// ReadModule reads a module file, at most ModuleMaxSize bytes (the IC's
// wasm_module_size limit): a huge file (or /dev/zero) is refused after
// reading just past the limit instead of filling memory first.
func ReadModule(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, ModuleMaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > ModuleMaxSize {
		return nil, fmt.Errorf("%s is larger than %d MiB, the largest module the IC accepts", path, ModuleMaxSize>>20)
	}
	return b, nil
}
