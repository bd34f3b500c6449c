package wasm

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// allBodies returns every function body of every fixture, keyed by
// fixture and function.
func allBodies(t testing.TB) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte)
	seen := make(map[string]bool) // .wasm and .wasm.gz fixtures repeat bodies
	for path, b := range fixtures(t) {
		raw, err := Decompress(b)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for i, c := range m.Code {
			if seen[string(c.Body)] {
				continue
			}
			seen[string(c.Body)] = true
			out[path+":"+m.FuncName(uint32(m.NumImportedFuncs()+i))+"#"+strconv.Itoa(i)] = c.Body
		}
	}
	return out
}

func TestAllOpsMatchWat(t *testing.T) {
	src := string(mustRead(t, "testdata/allops.wat"))
	region := src[strings.Index(src, ";; ops begin")+len(";; ops begin") : strings.Index(src, ";; ops end")]
	var want []string
	for _, line := range strings.Split(region, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			want = append(want, f[0])
		}
	}
	want = append(want, "end") // the function's own end
	m, err := Parse(mustRead(t, "testdata/allops.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := DecodeBody(m.Code[len(m.Code)-1].Body)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range body.Instrs {
		got = append(got, in.Op.String())
	}
	if len(got) != len(want) {
		t.Errorf("decoded %d instructions, wat lists %d", len(got), len(want))
		want = want[:min(len(want), len(got))]
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("instruction %d decodes as %s, wat has %s", i, got[i], want[i])
		}
	}
	for _, name := range want {
		if _, ok := OpcodeByName(name); !ok {
			t.Errorf("OpcodeByName(%q) not found", name)
		}
	}
}

// TestCodeRoundTripFixtures checks the byte-exact round trip of every body
// and that the canonical encoding built from the decoded fields decodes to
// the same instructions.
func TestCodeRoundTripFixtures(t *testing.T) {
	for name, b := range allBodies(t) {
		checkCodeRoundTrip(t, name, b)
	}
}

func checkCodeRoundTrip(t *testing.T, name string, b []byte) {
	t.Helper()
	body, err := DecodeBody(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if got := body.Encode(); !bytes.Equal(got, b) {
		t.Fatalf("%s: Encode differs from input", name)
	}
	for i := range body.Instrs {
		body.Instrs[i].Raw = nil
	}
	body.localsRaw = nil
	again, err := DecodeBody(body.Encode())
	if err != nil {
		t.Fatalf("%s: canonical encoding does not decode: %v", name, err)
	}
	if !reflect.DeepEqual(stripRaw(again.Instrs), body.Instrs) || !reflect.DeepEqual(again.Locals, body.Locals) {
		t.Fatalf("%s: canonical encoding decodes differently", name)
	}
}

func stripRaw(ins []Instr) []Instr {
	for i := range ins {
		ins[i].Raw = nil
	}
	return ins
}

func TestDecodeBody(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    []Opcode
		wantErr string
	}{
		{"empty", []byte{0, 0x0b}, []Opcode{OpEnd}, ""},
		{"tail calls", []byte{0, 0x12, 0x00, 0x13, 0x01, 0x00, 0x0b}, []Opcode{OpReturnCall, OpReturnCallIndirect, OpEnd}, ""},
		{"padded LEB", []byte{0, 0x41, 0x80, 0x80, 0x00, 0x1a, 0x0b}, []Opcode{OpI32Const, OpDrop, OpEnd}, ""},
		{"multi-value block", []byte{0, 0x02, 0x03, 0x0b, 0x0b}, []Opcode{OpBlock, OpEnd, OpEnd}, ""},
		{"memory.fill", []byte{0, 0xfc, 0x0b, 0x00, 0x0b}, []Opcode{OpMemoryFill, OpEnd}, ""},
		{"missing end", []byte{0, 0x01}, nil, "offset 2: missing end of function"},
		{"unclosed block", []byte{0, 0x02, 0x40, 0x0b}, nil, "missing end"},
		{"trailing", []byte{0, 0x0b, 0x01}, nil, "offset 2: 1 bytes after the function's final end"},
		{"try", []byte{0, 0x06, 0x40, 0x0b, 0x0b}, nil, "exception handling is not supported"},
		{"atomics", []byte{0, 0xfe, 0x00, 0x0b}, nil, "threads and atomics are not supported"},
		{"relaxed simd", []byte{0, 0xfd, 0x80, 0x02, 0x0b}, nil, "unsupported SIMD opcode 256"},
		{"bad block type", []byte{0, 0x02, 0x50, 0x0b, 0x0b}, nil, "invalid block type 0x50"},
		{"else outside if", []byte{0, 0x05, 0x0b}, nil, "else outside if"},
		{"too many locals", []byte{1, 0xff, 0xff, 0x03, 0x7f, 0x0b}, nil, "more than 50000 locals"},
		{"truncated memarg", []byte{0, 0x28, 0x02}, nil, "i32.load: unexpected end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := DecodeBody(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []Opcode
			for _, in := range body.Instrs {
				got = append(got, in.Op)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ops = %v, want %v", got, tt.want)
			}
			if !bytes.Equal(body.Encode(), tt.in) {
				t.Errorf("Encode = % x, want % x", body.Encode(), tt.in)
			}
		})
	}
}

func TestInstrAppendCanonical(t *testing.T) {
	tests := []struct {
		in   Instr
		want []byte
	}{
		{Instr{Op: OpI64Const, Value: -1}, []byte{0x42, 0x7f}},
		{Instr{Op: OpI32Const, Value: 1 << 31}, []byte{0x41, 0x80, 0x80, 0x80, 0x80, 0x78}},
		{Instr{Op: OpGlobalGet, Index: 300}, []byte{0x23, 0xac, 0x02}},
		{Instr{Op: OpIf, Block: BlockEmpty}, []byte{0x04, 0x40}},
		{Instr{Op: OpBlock, Block: BlockType(I64) - 0x80}, []byte{0x02, 0x7e}},
		{Instr{Op: OpMemoryCopy}, []byte{0xfc, 0x0a, 0x00, 0x00}},
		{Instr{Op: OpI64Load, Mem: MemArg{Align: 3, Memory: 1, Offset: 16}}, []byte{0x29, 0x43, 0x01, 0x10}},
		{Instr{Op: OpBrTable, Labels: []uint32{1, 2}, Index: 0}, []byte{0x0e, 0x02, 0x01, 0x02, 0x00}},
	}
	for _, tt := range tests {
		if got := tt.in.Append(nil); !bytes.Equal(got, tt.want) {
			t.Errorf("%v: Append = % x, want % x", tt.in.Op, got, tt.want)
		}
	}
}

func TestDecodeExpr(t *testing.T) {
	ins, err := DecodeExpr([]byte{0xd2, 0x05, 0x0b})
	if err != nil || len(ins) != 2 || ins[0].Op != OpRefFunc || ins[0].Index != 5 {
		t.Fatalf("DecodeExpr = %+v, %v", ins, err)
	}
	if _, err := DecodeExpr([]byte{0x41, 0x00, 0x0b, 0x00}); err == nil {
		t.Fatal("DecodeExpr accepted trailing bytes")
	}
}

func FuzzCodeRoundTrip(f *testing.F) {
	for _, b := range allBodies(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := DecodeBody(b); err != nil {
			return
		}
		checkCodeRoundTrip(t, "fuzz input", b)
	})
}
