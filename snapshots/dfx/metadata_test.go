package dfx

import (
	"bytes"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx/dfxtest"
)

// The example is a metadata.json as dfx writes it; re-encoding the parsed
// document must give the same bytes, which pins the serde formatting.
func TestMetadataEncodeIsDfxFormat(t *testing.T) {
	example, err := os.ReadFile("testdata/example-metadata.json")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{
		"example":     example,
		"generated":   dfxtest.Metadata(dfxtest.Spec{HeapPages: 3, Seed: 4}, nil),
		"old globals": dfxtest.Metadata(dfxtest.Spec{HeapPages: 3, OldGlobals: true}, [][32]byte{{1, 2}}),
		"unknown key": dfxtest.Metadata(dfxtest.Spec{StablePages: 9, UnknownKey: true}, [][32]byte{{3}, {4}}),
	}
	for name, doc := range docs {
		md, err := ParseMetadata(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := md.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, doc) {
			t.Errorf("%s: Encode differs from dfx's bytes:\n%s\n--- want ---\n%s", name, got, doc)
		}
	}
	md, _ := ParseMetadata(example)
	want := []snapshots.Global{
		{Kind: snapshots.KindI32, Bits: 65536},
		{Kind: snapshots.KindI64, Bits: uint64(math.MaxUint64 - 4)}, // -5
		{Kind: snapshots.KindNull},
		{Kind: snapshots.KindF64, Bits: math.Float64bits(1.5)},
	}
	if !reflect.DeepEqual(md.Globals, want) || md.HeapSize != 8388608 || md.StableSize != 104857600 ||
		len(md.Chunks) != 2 || md.Chunks[0][0] != 178 || md.CanisterVersion != 43 || len(md.CertifiedData) != 32 ||
		md.Timer != (snapshots.TimerState{Active: true, Deadline: 1764000000000000000}) || md.LowWasmHook != "condition_not_satisfied" ||
		md.TakenAt != 1764000000000000001 {
		t.Errorf("parsed example = %+v", md)
	}
}

func TestMetadataGlobalsKinds(t *testing.T) {
	doc := dfxtest.Metadata(dfxtest.Spec{}, nil)
	md, err := ParseMetadata(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []snapshots.Global{
		{Kind: snapshots.KindI32, Bits: uint64(math.MaxUint64 - 6)},
		{Kind: snapshots.KindI64, Bits: uint64(math.MaxUint64 - 8)},
		{Kind: snapshots.KindF32, Bits: uint64(math.Float32bits(0.5))},
		{Kind: snapshots.KindF64, Bits: math.Float64bits(1e-7)},
		{Kind: snapshots.KindV128, Bits: math.MaxUint64, Hi: math.MaxUint64},
		{Kind: snapshots.KindNull},
		{Kind: snapshots.KindI64, Bits: 123456789},
	}
	if !reflect.DeepEqual(md.Globals, want) {
		t.Errorf("globals = %+v\nwant %+v", md.Globals, want)
	}
}

func TestFormatFloatLikeSerde(t *testing.T) {
	tests := []struct {
		f    float64
		bits int
		want string
	}{
		{1.5, 64, "1.5"}, {100, 64, "100.0"}, {0, 64, "0.0"}, {math.Copysign(0, -1), 64, "-0.0"},
		{1e15, 64, "1000000000000000.0"}, {1e16, 64, "1e16"}, {1.2345678901234568e16, 64, "1.2345678901234568e16"},
		{123456.789, 64, "123456.789"}, {0.0001, 64, "0.0001"}, {1e-5, 64, "0.00001"}, {1e-6, 64, "1e-6"},
		{1.5e-7, 64, "1.5e-7"}, {-2.5e300, 64, "-2.5e300"}, {math.Inf(1), 64, "null"}, {math.NaN(), 64, "null"},
		{16777216, 32, "16777216.0"}, {1e13, 32, "1e13"}, {float64(float32(0.1)), 32, "0.1"}, {5e-324, 64, "5e-324"},
	}
	for _, tt := range tests {
		if got := formatFloat(tt.f, tt.bits); got != tt.want {
			t.Errorf("formatFloat(%v, %d) = %s, want %s", tt.f, tt.bits, got, tt.want)
		}
	}
}

func TestParseMetadataRejects(t *testing.T) {
	good := string(dfxtest.Metadata(dfxtest.Spec{HeapPages: 1}, nil))
	v128 := "\"v128\": [\n        4294967295,\n        4294967295,\n        4294967295,\n        4294967295\n      ]"
	tests := map[string]struct{ doc, err string }{
		"invalid json":     {`{"wasm_memory_size": 1,`, "invalid JSON"},
		"not an object":    {`[1, 2]`, "want an object"},
		"trailing data":    {good + "{}", "after the object"},
		"unknown kind":     {strings.Replace(good, `"i32": -7`, `"i16": -7`, 1), `unknown globals kind "i16"`},
		"two kinds":        {strings.Replace(good, `"i32": -7`, `"i32": -7, "i64": 1`, 1), "global 0"},
		"i32 out of range": {strings.Replace(good, `"i32": -7`, `"i32": 4294967296`, 1), "out of range"},
		"negative size":    {strings.Replace(good, `"wasm_memory_size": 65536`, `"wasm_memory_size": -1`, 1), "wasm_memory_size"},
		"float size":       {strings.Replace(good, `"wasm_memory_size": 65536`, `"wasm_memory_size": 1.5`, 1), "wasm_memory_size"},
		"missing size":     {strings.Replace(good, `"stable_memory_size"`, `"x_stable"`, 1), "missing"},
		"duplicate key":    {strings.Replace(good, `"canister_version": 0`, `"canister_version": 0, "canister_version": 1`, 1), "twice"},
		"both spellings":   {strings.Replace(good, `"canister_version": 0`, `"canister_version": 0, "exported_globals": []`, 1), "twice"},
		"base64 bytes":     {strings.Replace(good, `"certified_data": [`, `"certified_data": "AAE=", "x": [`, 1), "certified_data"},
		"byte over 255":    {strings.Replace(good, "\n    222,", "\n    256,", 1), "certified_data"},
		"short chunk hash": {strings.Replace(good, `"wasm_chunk_store": []`, `"wasm_chunk_store": [{"hash": [1, 2]}]`, 1), "chunk 0"},
		"bad timer":        {strings.Replace(good, `"active": 1764000000000000000`, `"paused": 1`, 1), "global_timer"},
		"negative v128":    {strings.Replace(good, v128, `"v128": -1`, 1), "v128"},
		"v128 too large":   {strings.Replace(good, v128, `"v128": "340282366920938463463374607431768211456"`, 1), "v128"},
		"v128 5 digits":    {strings.Replace(good, v128, `"v128": [1, 0, 0, 0, 1]`, 1), "v128"},
		"v128 digit > u32": {strings.Replace(good, v128, `"v128": [4294967296]`, 1), "v128"},
	}
	for name, tt := range tests {
		if tt.doc == good {
			t.Fatalf("%s: replacement did not apply", name)
		}
		_, err := ParseMetadata([]byte(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: error %v, want containing %q", name, err, tt.err)
		}
	}
}

// FuzzParseMetadata: garbage never panics, and whatever parses encodes to
// a document that parses to the same metadata.
func FuzzParseMetadata(f *testing.F) {
	example, _ := os.ReadFile("testdata/example-metadata.json")
	f.Add(example)
	f.Add(dfxtest.Metadata(dfxtest.Spec{HeapPages: 2, OldGlobals: true, UnknownKey: true}, [][32]byte{{1}}))
	f.Add([]byte(`{"wasm_module_size":0,"wasm_memory_size":0,"stable_memory_size":0,"globals":[null]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := ParseMetadata(b)
		if err != nil {
			return
		}
		enc, err := md.Encode()
		if err != nil {
			t.Fatalf("parsed metadata does not encode: %v", err)
		}
		again, err := ParseMetadata(enc)
		if err != nil {
			t.Fatalf("encoded metadata does not parse: %v\n%s", err, enc)
		}
		if !sameState(md, again) {
			t.Fatalf("re-parse differs:\n%+v\n%+v", md, again)
		}
	})
}

// TestGlobalEncodings: dfx's exact spellings of globals. v128 is a candid
// Nat through num-bigint's serde (u32 digits, least significant first,
// zero is []), also read from a number or a decimal string; f32/f64 NaN and
// ±Inf are null (serde_json), read back as NaN; a null global stays null.
func TestGlobalEncodings(t *testing.T) {
	doc := func(globals string) string {
		return `{"wasm_module_size": 1, "wasm_memory_size": 0, "stable_memory_size": 0, "globals": [` + globals + `]}`
	}
	for _, tt := range []struct {
		in   string
		want snapshots.Global
		out  string // as Encode writes it (compact)
	}{
		{`{"v128": []}`, snapshots.Global{Kind: snapshots.KindV128}, `{"v128":[]}`},
		{`{"v128": [1, 2]}`, snapshots.Global{Kind: snapshots.KindV128, Bits: 2<<32 | 1}, `{"v128":[1,2]}`},
		{`{"v128": [0, 0, 7]}`, snapshots.Global{Kind: snapshots.KindV128, Hi: 7}, `{"v128":[0,0,7]}`},
		{`{"v128": 4294967298}`, snapshots.Global{Kind: snapshots.KindV128, Bits: 1<<32 | 2}, `{"v128":[2,1]}`},
		{`{"v128": "18446744073709551616"}`, snapshots.Global{Kind: snapshots.KindV128, Hi: 1}, `{"v128":[0,0,1]}`},
		{`{"f64": null}`, snapshots.Global{Kind: snapshots.KindF64, Bits: math.Float64bits(math.NaN())}, `{"f64":null}`},
		{`{"f32": null}`, snapshots.Global{Kind: snapshots.KindF32, Bits: uint64(math.Float32bits(float32(math.NaN())))}, `{"f32":null}`},
		{`null`, snapshots.Global{Kind: snapshots.KindNull}, `null`},
	} {
		md, err := ParseMetadata([]byte(doc(tt.in)))
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if len(md.Globals) != 1 || md.Globals[0] != tt.want {
			t.Fatalf("%s: parsed %+v, want %+v", tt.in, md.Globals, tt.want)
		}
		var b bytes.Buffer
		writeGlobal(&b, md.Globals[0])
		if b.String() != tt.out {
			t.Fatalf("%s: written as %s, want %s", tt.in, b.String(), tt.out)
		}
	}
}
