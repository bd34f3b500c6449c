package wasm

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine/leb128"
)

// fixtures returns every committed .wasm and .wasm.gz under engine/, so the
// round-trip tests cover the fixtures of all engine packages.
func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte)
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".wasm") || strings.HasSuffix(path, ".wasm.gz")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[path] = b
		return nil
	})
	if err != nil {
		t.Fatalf("walk fixtures: %v", err)
	}
	if len(out) == 0 {
		t.Fatal("no fixtures found under engine/")
	}
	return out
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTripFixtures(t *testing.T) {
	for path, b := range fixtures(t) {
		t.Run(path, func(t *testing.T) {
			raw, err := Decompress(b)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Encode(); !bytes.Equal(got, raw) {
				t.Fatalf("Encode differs from input (%d vs %d bytes)", len(got), len(raw))
			}
			for i, c := range m.Code {
				if c.Offset <= 0 || c.Offset+len(c.Body) > len(raw) || !bytes.Equal(raw[c.Offset:c.Offset+len(c.Body)], c.Body) {
					t.Fatalf("code %d: Offset %d does not locate its %d-byte body", i, c.Offset, len(c.Body))
				}
			}
			// Re-encoding every decoded section from its fields must give
			// the same payloads for toolchain output (canonical LEB128
			// inside sections; section sizes may be padded, so compare
			// payloads).
			orig := slices.Clone(m.Sections)
			has := func(id SectionID) bool {
				return slices.ContainsFunc(orig, func(s Section) bool { return s.ID == id })
			}
			if has(SectionType) {
				m.SetTypes(m.Types)
			}
			if has(SectionImport) {
				if err := m.SetImports(m.Imports); err != nil {
					t.Fatal(err)
				}
			}
			if has(SectionFunction) {
				m.SetFunctions(m.Functions)
			}
			if has(SectionGlobal) {
				if err := m.SetGlobals(m.Globals); err != nil {
					t.Fatal(err)
				}
			}
			if has(SectionExport) {
				m.SetExports(m.Exports)
			}
			m.SetStart(m.Start)
			if has(SectionElement) {
				if err := m.SetElements(m.Elements); err != nil {
					t.Fatal(err)
				}
			}
			if has(SectionCode) {
				m.SetCode(m.Code)
			}
			for _, c := range slices.Clone(m.Customs) {
				m.SetCustom(c.Name, c.Data)
			}
			if len(m.Sections) != len(orig) {
				t.Fatalf("%d sections after re-encoding, want %d", len(m.Sections), len(orig))
			}
			for i, s := range m.Sections {
				if s.ID != orig[i].ID || !bytes.Equal(s.Payload, orig[i].Payload) {
					t.Errorf("section %d (%v) re-encodes differently", i, orig[i].ID)
				}
			}
		})
	}
}

func TestParseFeatures(t *testing.T) {
	m, err := Parse(mustRead(t, "testdata/features.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.NumImportedFuncs(); got != 2 {
		t.Errorf("NumImportedFuncs = %d, want 2", got)
	}
	if m.Imports[1].Module != "ic0" || m.Imports[1].Name != "msg_reply_data_append" || m.Imports[1].Kind != KindFunc {
		t.Errorf("import 1 = %+v", m.Imports[1])
	}
	ft, err := m.FuncType(1)
	if err != nil || !ft.Equal(FuncType{Params: []ValueType{I32, I32}}) {
		t.Errorf("FuncType(1) = %v, %v; want (i32 i32) -> ()", ft, err)
	}
	wantExports := []string{"canister_update inc", "canister_query get"}
	if got := m.ExportedFunctions(); !slices.Equal(got, wantExports) {
		t.Errorf("ExportedFunctions = %q, want %q", got, wantExports)
	}
	if l, ok := m.Memory(); !ok || l.Min != 1 || !l.HasMax || l.Max != 16 || m.IsMemory64() {
		t.Errorf("Memory = %+v, %v", l, ok)
	}
	if len(m.Tables) != 1 || m.Tables[0].Elem != FuncRef || m.Tables[0].Limits.Min != 4 {
		t.Errorf("Tables = %+v", m.Tables)
	}
	wantGlobals := []GlobalType{{I32, true}, {I32, false}, {I64, true}, {I32, true}, {FuncRef, true}}
	for i, g := range m.Globals {
		if g.Type != wantGlobals[i] {
			t.Errorf("global %d type = %+v, want %+v", i, g.Type, wantGlobals[i])
		}
	}
	if !bytes.Equal(m.Globals[0].Init, []byte{0x41, 0x80, 0x80, 0x04, 0x0b}) {
		t.Errorf("global 0 init = % x", m.Globals[0].Init)
	}
	if m.Start == nil || *m.Start != 2 || m.FuncName(*m.Start) != "init" {
		t.Errorf("start = %v (%q), want 2 (init)", m.Start, m.FuncName(2))
	}
	if len(m.Elements) != 3 || m.Elements[0].Mode() != ModeActive || !slices.Equal(m.Elements[0].Funcs, []uint32{4, 5}) ||
		m.Elements[1].Mode() != ModePassive || len(m.Elements[1].Exprs) != 2 || m.Elements[2].Mode() != ModeDeclarative {
		t.Errorf("Elements = %+v", m.Elements)
	}
	if m.DataCount == nil || *m.DataCount != 2 || len(m.Data) != 2 || string(m.Data[0].Init) != "hello" ||
		m.Data[1].Mode != ModePassive || string(m.Data[1].Init) != "world" {
		t.Errorf("data = %+v (count %v)", m.Data, m.DataCount)
	}
	if len(m.Code) != 4 {
		t.Errorf("len(Code) = %d, want 4", len(m.Code))
	}
	for idx, want := range map[uint32]string{0: "msg_reply", 3: "helper", 4: "inc", 5: "get", 9: ""} {
		if got := m.FuncName(idx); got != want {
			t.Errorf("FuncName(%d) = %q, want %q", idx, got, want)
		}
	}
}

func TestMetadata(t *testing.T) {
	m, err := Parse(mustRead(t, "testdata/features.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	m.SetCustom("icp:public candid:service", []byte("service : {}"))
	m.SetCustom("icp:private git", []byte("abc"))
	m, err = Parse(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		data       string
		public, ok bool
	}{
		{"candid:service", "service : {}", true, true},
		{"git", "abc", false, true},
		{"missing", "", false, false},
	}
	for _, tt := range tests {
		data, public, ok := m.Metadata(tt.name)
		if string(data) != tt.data || public != tt.public || ok != tt.ok {
			t.Errorf("Metadata(%q) = %q, %v, %v; want %q, %v, %v", tt.name, data, public, ok, tt.data, tt.public, tt.ok)
		}
	}
	if got := m.MetadataNames(); !slices.Equal(got, []string{"candid:service", "git"}) {
		t.Errorf("MetadataNames = %q", got)
	}
	// The name section must still be decoded after appending sections.
	if m.FuncName(4) != "inc" {
		t.Errorf("FuncName(4) = %q after SetCustom", m.FuncName(4))
	}
}

func TestDecompress(t *testing.T) {
	raw := mustRead(t, "testdata/features.wasm")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	var gzText bytes.Buffer
	zw = gzip.NewWriter(&gzText)
	zw.Write([]byte("not wasm at all"))
	zw.Close()

	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"raw", raw, ""},
		{"gzip", gz.Bytes(), ""},
		{"text", []byte("hello"), "not a wasm module (bad magic)"},
		{"empty", nil, "not a wasm module (bad magic)"},
		{"gzip of text", gzText.Bytes(), "gzip content is not a wasm module"},
		{"truncated gzip", gz.Bytes()[:20], "decompress wasm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decompress(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, raw) {
				t.Fatalf("Decompress = %d bytes, %v", len(got), err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	h := header[:]
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"bad magic", []byte("\x00asn\x01\x00\x00\x00"), "bad magic"},
		{"version 2", []byte("\x00asm\x02\x00\x00\x00"), "unsupported binary version"},
		{"section too long", cat(h, []byte{1, 10, 0}), "type section at offset 8: size 10 exceeds"},
		{"unknown section", cat(h, []byte{14, 0}), "section(14) section at offset 8: unknown section id"},
		{"out of order", cat(h, []byte{3, 1, 0, 1, 1, 0}), "type section at offset 11: section out of order"},
		{"bad type form", cat(h, []byte{1, 2, 1, 0x5f}), "type section at offset 12: entry 0: type form 0x5f"},
		{"bad value type", cat(h, []byte{1, 4, 1, 0x60, 1, 0x11}), "unknown value type 0x11"},
		{"trailing bytes", cat(h, []byte{1, 2, 0, 0}), "type section at offset 11: 1 trailing bytes"},
		{"huge count", cat(h, []byte{1, 5, 0xff, 0xff, 0xff, 0xff, 0x0f}), "vector length 4294967295 exceeds"},
		{"leb too long", cat(h, []byte{1, 6, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}), "integer too large"},
		{"bad import kind", cat(h, []byte{2, 6, 1, 1, 'a', 1, 'b', 9}), "import a.b has unknown kind 0x09"},
		{"bad const expr", cat(h, []byte{6, 5, 1, 0x7f, 0, 0x20, 0}), "opcode 0x20 at offset 13 is not allowed"},
		{"missing bodies", cat(h, []byte{1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0}), "1 functions declared but 0 bodies"},
		{"bad name utf8", cat(h, []byte{0, 2, 1, 0xff}), "not valid UTF-8"},
		{"bad limits", cat(h, []byte{5, 3, 1, 9, 0}), "unknown limits flags 0x09"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestLEB(t *testing.T) {
	tests := []struct {
		in     []byte
		bits   uint
		signed bool
		want   int64
		ok     bool
	}{
		{[]byte{0x7f}, 32, false, 127, true},
		{[]byte{0xff, 0x00}, 32, false, 127, true}, // non-canonical but valid
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 32, false, 0xffffffff, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x1f}, 32, false, 0, false},
		{[]byte{0x7f}, 32, true, -1, true},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x78}, 32, true, -1 << 31, true},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x08}, 32, true, 0, false}, // 2^31 overflows i32
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x07}, 32, true, 1<<31 - 1, true},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}, 64, true, -1 << 63, true},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 64, true, 0, false},
		{[]byte{0x80}, 32, false, 0, false},
	}
	for _, tt := range tests {
		r := newReader(tt.in, 0)
		var got int64
		var err error
		if tt.signed {
			got, err = r.sleb(tt.bits)
		} else {
			var u uint64
			u, err = r.uleb(tt.bits)
			got = int64(u)
		}
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("leb(% x, %d, signed=%v) = %d, %v; want %d ok=%v", tt.in, tt.bits, tt.signed, got, err, tt.want, tt.ok)
		}
	}
	for _, v := range []int64{0, 1, -1, 63, 64, -64, -65, 1 << 40, -1 << 63, 1<<63 - 1} {
		got, err := newReader(leb128.AppendInt(nil, v), 0).sleb(64)
		if err != nil || got != v {
			t.Errorf("sleb round trip %d = %d, %v", v, got, err)
		}
	}
}

func TestExportMutableGlobals(t *testing.T) {
	m, err := Parse(mustRead(t, "testdata/features.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	want := []SnapshotGlobal{
		{"count", 2, GlobalType{I64, true}},
		{"__persistent_mutable_global_0", 0, GlobalType{I32, true}},
		{"__persistent_mutable_global_3", 3, GlobalType{I32, true}},
		{"__persistent_mutable_global_4", 4, GlobalType{FuncRef, true}},
	}
	if got := SnapshotGlobals(m); !slices.Equal(got, want) {
		t.Errorf("SnapshotGlobals before rewrite = %+v\nwant %+v", got, want)
	}
	ExportMutableGlobals(m)
	m2, err := Parse(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range m2.Exports {
		names = append(names, e.Name)
	}
	wantNames := []string{"count", "canister_update inc", "canister_query get", "memory",
		"__persistent_mutable_global_0", "__persistent_mutable_global_3", "__persistent_mutable_global_4"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("exports = %q\nwant %q", names, wantNames)
	}
	if got := SnapshotGlobals(m2); !slices.Equal(got, want) {
		t.Errorf("SnapshotGlobals after rewrite = %+v\nwant %+v", got, want)
	}
	// A second rewrite finds nothing left to export.
	before := m2.Encode()
	ExportMutableGlobals(m2)
	if !bytes.Equal(m2.Encode(), before) {
		t.Error("ExportMutableGlobals is not idempotent")
	}
}

func FuzzParse(f *testing.F) {
	for _, b := range fixtures(f) {
		if raw, err := Decompress(b); err == nil {
			f.Add(raw)
		}
	}
	f.Add(append(header[:], 1, 4, 1, 0x60, 0, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Encode(), b) {
			t.Fatal("parsed module does not re-encode to its input")
		}
		for i := range m.Functions {
			m.FuncType(uint32(m.NumImportedFuncs() + i))
		}
		SnapshotGlobals(m)
		ExportMutableGlobals(m)
		if _, err := Parse(m.Encode()); err != nil {
			t.Fatalf("module after ExportMutableGlobals does not parse: %v", err)
		}
	})
}
