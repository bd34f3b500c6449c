package validation

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/canscope/canscope/engine/wasm"
)

// TestFixturesPass: every canister fixture the engine runs is a module the
// IC accepts.
func TestFixturesPass(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*.wasm")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := wasm.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := Validate(m); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// base returns a fresh parse of the globals fixture (imports of ic0, four
// globals, canister methods, a memory export).
func base(t *testing.T) *wasm.Module {
	t.Helper()
	b, err := os.ReadFile("../testdata/globals.wasm")
	if err != nil {
		t.Fatal(err)
	}
	m, err := wasm.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// body encodes a function body without locals: n copies of instr, then end.
func body(instr []byte, n int) wasm.Code {
	b := []byte{0}
	for range n {
		b = append(b, instr...)
	}
	return wasm.Code{Body: append(b, 0x0b)}
}

// TestRules: one violating module per rule gets the replica's text.
func TestRules(t *testing.T) {
	voidType := func(m *wasm.Module) uint32 { return m.AddType(wasm.FuncType{}) }
	addFunc := func(m *wasm.Module, c wasm.Code) uint32 {
		m.SetFunctions(append(m.Functions, voidType(m)))
		m.SetCode(append(m.Code, c))
		return uint32(m.NumImportedFuncs() + len(m.Functions) - 1)
	}
	addImport := func(t *testing.T, m *wasm.Module, im wasm.Import) {
		if err := m.SetImports(append(m.Imports, im)); err != nil {
			t.Fatal(err)
		}
	}
	export := func(m *wasm.Module, name string, idx uint32) {
		m.SetExports(append(m.Exports, wasm.Export{Name: name, Kind: wasm.KindFunc, Index: idx}))
	}
	for _, tt := range []struct {
		name string
		edit func(t *testing.T, m *wasm.Module)
		want string
	}{
		{"unknown import", func(t *testing.T, m *wasm.Module) {
			addImport(t, m, wasm.Import{Module: "ic0", Name: "no_such_call", Kind: wasm.KindFunc, TypeIndex: voidType(m)})
		}, "Wasm module has an invalid import section. Module imports function 'no_such_call' from 'ic0' that is not exported by the runtime."},
		{"import from another module", func(t *testing.T, m *wasm.Module) {
			addImport(t, m, wasm.Import{Module: "env", Name: "msg_reply", Kind: wasm.KindFunc, TypeIndex: voidType(m)})
		}, `Wasm module has an invalid import section. Module imports function "msg_reply" from "env", expected to be imported from one of ["ic0"] instead.`},
		{"import signature", func(t *testing.T, m *wasm.Module) {
			addImport(t, m, wasm.Import{Module: "ic0", Name: "time", Kind: wasm.KindFunc, TypeIndex: m.AddType(wasm.FuncType{Results: []wasm.ValueType{wasm.I32}})})
		}, "Wasm module has an invalid function signature. Expected return type [I64] for 'time', got [I32]."},
		{"global import", func(t *testing.T, m *wasm.Module) {
			addImport(t, m, wasm.Import{Module: "env", Name: "g", Kind: wasm.KindGlobal, Global: wasm.GlobalType{Type: wasm.I32}})
		}, "Wasm module has an invalid import section. Importing globals is not allowed."},
		{"memory import", func(t *testing.T, m *wasm.Module) {
			addImport(t, m, wasm.Import{Module: "ic0", Name: "memory", Kind: wasm.KindMemory, Memory: wasm.Limits{Min: 1}})
		}, "Wasm module has an invalid import section. Only memory imported from env.memory is allowed."},
		{"reserved symbol", func(t *testing.T, m *wasm.Module) { export(m, "canister_start", 4) },
			"Wasm module has an invalid export section. Exporting reserved symbol canister_start not allowed."},
		{"reserved canister_ prefix", func(t *testing.T, m *wasm.Module) { export(m, "canister_foo", 4) },
			`Wasm module has an invalid export section. Exporting reserved function 'canister_foo' with "canister_" prefix`},
		{"duplicate method", func(t *testing.T, m *wasm.Module) { export(m, "canister_update get", 4) },
			"Duplicate function 'get' exported multiple times with different call types: update, query, or composite_query."},
		{"method signature", func(t *testing.T, m *wasm.Module) {
			m.SetFunctions(append(m.Functions, m.AddType(wasm.FuncType{Params: []wasm.ValueType{wasm.I32}})))
			m.SetCode(append(m.Code, wasm.Code{Body: []byte{0, 0x0b}}))
			export(m, "canister_update bad", uint32(m.NumImportedFuncs()+len(m.Functions)-1))
		}, "Wasm module has an invalid function signature. Expected input params [] for 'canister_update bad', got [I32]."},
		{"too many methods", func(t *testing.T, m *wasm.Module) {
			for i := range MaxNumberExportedFunctions {
				export(m, "canister_query q"+itoa(i), 4)
			}
		}, "The number of exported functions called `canister_update <name>`, `canister_query <name>`, or `canister_composite_query <name>` is 1002 which exceeds 1000."},
		{"method names too long", func(t *testing.T, m *wasm.Module) {
			for i := range 3 {
				export(m, "canister_query "+itoa(i)+string(make([]byte, 7000)), 4)
			}
		}, "The sum of `<name>` lengths in exported functions called `canister_update <name>`, `canister_query <name>`, or `canister_composite_query <name>` is 21015 which exceeds the allowed limit of 20000."},
		{"data offset not constant", func(t *testing.T, m *wasm.Module) {
			m.Data = append(m.Data, wasm.Data{Mode: wasm.ModeActive, Offset: []byte{0x23, 0, 0x0b}}) // no setter: checked as parsed
		}, "Wasm module has an invalid data section. Invalid offset expression in data segment: GlobalGet { global_index: 0 }"},
		{"too many globals", func(t *testing.T, m *wasm.Module) {
			gs := m.Globals
			for len(gs) <= MaxGlobals {
				gs = append(gs, wasm.Global{Type: wasm.GlobalType{Type: wasm.I32}, Init: []byte{0x41, 0, 0x0b}})
			}
			if err := m.SetGlobals(gs); err != nil {
				t.Fatal(err)
			}
		}, "Wasm module defined 1001 globals which exceeds the maximum number allowed 1000."},
		{"reference global", func(t *testing.T, m *wasm.Module) {
			if err := m.SetGlobals(append(m.Globals, wasm.Global{Type: wasm.GlobalType{Type: wasm.FuncRef}, Init: []byte{0xd0, 0x70, 0x0b}})); err != nil {
				t.Fatal(err)
			}
		}, "Wasm module has an invalid global section. Unsupported global type: Ref(funcref)"},
		{"too many functions", func(t *testing.T, m *wasm.Module) {
			ty := voidType(m)
			fs, cs := m.Functions, m.Code
			for len(fs) <= MaxFunctions {
				fs, cs = append(fs, ty), append(cs, wasm.Code{Body: []byte{0, 0x0b}})
			}
			m.SetFunctions(fs)
			m.SetCode(cs)
		}, "Wasm module defined 50001 functions which exceeds the maximum number allowed 50000."},
		{"function complexity", func(t *testing.T, m *wasm.Module) {
			addFunc(m, body([]byte{0x10, 0}, 20001)) // call 0: 50 each
		}, "Wasm module contains a function at index 5 with complexity 1000051 which exceeds the maximum complexity allowed 1000000."},
		// Every instruction weighs at least 1, so with both limits at 1M the
		// replica's complexity check always fires before its size check.
		{"function size", func(t *testing.T, m *wasm.Module) { addFunc(m, body([]byte{0x01}, FunctionSizeLimit)) },
			"Wasm module contains a function at index 5 with complexity 1000001 which exceeds the maximum complexity allowed 1000000."},
		{"code section size", func(t *testing.T, m *wasm.Module) {
			addFunc(m, body([]byte{0x41, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a}, MaxCodeSectionSize/7+1))
		},
			"Wasm module code section size of 10485863 exceeds the maximum allowed size of 10485760."},
		{"icp section without scope", func(t *testing.T, m *wasm.Module) { m.SetCustom("icp:secret x", nil) },
			"Wasm module has an invalid custom section. Invalid custom section: Custom section 'icp:secret x' has no public/private scope defined."},
		{"icp section without space", func(t *testing.T, m *wasm.Module) { m.SetCustom("icp:public", nil) },
			"Wasm module has an invalid custom section. 'icp:' section names must have a space after the public/private scope"},
		{"custom sections too large", func(t *testing.T, m *wasm.Module) { m.SetCustom("icp:public big", make([]byte, MaxCustomSectionsSize)) },
			"Wasm module has an invalid custom section. Invalid custom sections: total size of the custom sections exceeds the maximum allowed: size 1048579 bytes, allowed 1048576 bytes"},
		{"too many custom sections", func(t *testing.T, m *wasm.Module) {
			for i := range MaxCustomSections + 1 {
				m.SetCustom("icp:private s"+itoa(i), nil)
			}
		}, "Wasm module defined 17 custom sections which exceeds the maximum number allowed 16."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := base(t)
			if err := Validate(m); err != nil {
				t.Fatalf("healthy module refused: %v", err)
			}
			tt.edit(t, m)
			// Round-trip through the encoder so the rule sees what a
			// module file would hold.
			m2, err := wasm.Parse(m.Encode())
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Data) != len(m2.Data) {
				m2 = m
			}
			err = Validate(m2)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func itoa(i int) string {
	return string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
}

// TestReadModuleCap: a file past the IC's 100 MiB module limit is refused
// after reading just past the limit (a sparse 3 GiB file reads 100 MiB).
func TestReadModuleCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.wasm")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(3 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := ReadModule(path); err == nil || err.Error() != path+" is larger than 100 MiB, the largest module the IC accepts" {
		t.Fatalf("ReadModule of a 3 GiB file: %v", err)
	}
	ok := filepath.Join(t.TempDir(), "ok.wasm")
	os.WriteFile(ok, []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	if b, err := ReadModule(ok); err != nil || len(b) != 8 {
		t.Fatalf("ReadModule of a small file: %d bytes, %v", len(b), err)
	}
}

// TestWasm64Imports: in wasm64 mode (a 64-bit memory) addresses and sizes
// are i64 and the 32-bit-only functions do not exist, as the replica's
// wasm64 import table has them; the eop_* fixtures (moc 4.x) pass
// TestFixturesPass.
func TestWasm64Imports(t *testing.T) {
	m := base(t) // globals.wasm: wasm32 imports
	if len(m.Memories) == 0 {
		t.Fatal("globals.wasm has no memory")
	}
	m.Memories[0].Is64 = true
	want := "Wasm module has an invalid function signature. Expected return type [I64] for 'msg_arg_data_size', got [I32]."
	if err := Validate(m); err == nil || err.Error() != want {
		t.Fatalf("wasm32 imports in a wasm64 module: %v\nwant %s", err, want)
	}
}
