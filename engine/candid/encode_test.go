package candid

import (
	"encoding/hex"
	"strings"
	"testing"
)

func TestHash(t *testing.T) {
	tests := []struct {
		name string
		want uint32
	}{
		{"", 0},
		{"a", 97},
		{"foo", 5097222}, // 0x86 0x8e 0xb7 0x02 in the spec's vectors
		{"bar", 4895187},
		{"Ok", 17724},
		{"head", 1158359328},
		{"☃", 11272781},
	}
	for _, tt := range tests {
		if got := Hash(tt.name); got != tt.want {
			t.Errorf("Hash(%q) = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestEncodeGolden(t *testing.T) {
	tests := []struct {
		text, want string // want is hex
	}{
		{"()", "4449444c0000"},
		{"(42)", "4449444c00017d2a"},
		{"(-1)", "4449444c00017c7f"},
		{"(42 : nat8, 256 : nat16, 1 : nat32, 1 : nat64)", "4449444c00047b7a79782a000101000000" + "0100000000000000"},
		{"(-1 : int8, -2 : int16, -3 : int32, -4 : int64)", "4449444c00047776757" + "4ff" + "feff" + "fdffffff" + "fcffffffffffffff"},
		{"(0.5 : float32, 3.)", "4449444c000273720000003f0000000000000840"},
		{`("Motoko")`, "4449444c000171064d6f746f6b6f"},
		{"(true, null)", "4449444c00027e7f01"},
		{`(principal "w7x7r-cok77-xa")`, "4449444c0001680103caffee"},
		{`(opt (42 : int))`, "4449444c016e7c0100012a"},
		{`(vec { 1 : int; 2 : int })`, "4449444c016d7c0100020102"},
		{`(blob "\01\02")`, "4449444c016d7b0100020102"},
		{`(record { foo = 42 : int; bar = true })`, "4449444c016c02d3e3aa027e868eb7027c0100012a"},
		{`(record { 42 : int; true })`, "4449444c016c02007c017e01002a01"},
		{`(variant { Ok = "good" })`, "4449444c016b01bc8a01710100" + "0004676f6f64"},
		{`(func "w7x7r-cok77-xa".foo)`, "4449444c016a0000000100010103caffee03666f6f"},
		{`(service "w7x7r-cok77-xa")`, "4449444c016900010001" + "03caffee"},
		{`(60_000_000_000_000_000)`, "4449444c00017d8080" + "98f4e9b5ca6a"},
		{`(-60_000_000_000_000_000)`, "4449444c00017c8080e88b96cab5957f"},
		{`(0x10 : nat8)`, "4449444c00017b10"},
		{`(null : reserved)`, "4449444c000170"},
		{`(opt null)`, "4449444c016e7f010001"},
		{`(vec {})`, "4449444c016d6f010000"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := EncodeText(tt.text, nil)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != tt.want {
				t.Errorf("got  %x\nwant %s", got, tt.want)
			}
		})
	}
}

// TestRoundTrip checks decode(encode(x)) == x on every type: the text is
// already in the canonical form Format prints.
func TestRoundTrip(t *testing.T) {
	tests := []string{
		"()",
		"(null, true, false)",
		"(0, 1_234, 340_282_366_920_938_463_463_374_607_431_768_211_456)",
		"(0 : int, -1 : int, 1_000_000 : int, -340_282_366_920_938_463_463_374_607_431_768_211_457 : int)",
		"(255 : nat8, 65_535 : nat16, 4_294_967_295 : nat32, 18_446_744_073_709_551_615 : nat64)",
		"(-128 : int8, -32_768 : int16, -2_147_483_648 : int32, -9_223_372_036_854_775_808 : int64)",
		"(127 : int8, 32_767 : int16, 2_147_483_647 : int32, 9_223_372_036_854_775_807 : int64)",
		"(1.5 : float32, -0.25, 1e+100, 3.)",
		`("", "x", "snow ☃ \"quoted\" back\\slash\n", "\00\1f")`,
		`(principal "aaaaa-aa", principal "2chl6-4hpzw-vqaaa-aaaaa-c", principal "rrkah-fqaaa-aaaaa-aaaaq-cai")`,
		`(blob "", blob "hello\00\ff\"")`,
		"(null : reserved)",
		"(opt 1, opt opt (2 : nat8), opt null, opt vec {})",
		"(vec { 1; 2; 3 }, vec { vec { true }; vec { false } }, vec { opt (1 : int) })",
		`(record { 1_234 = "x"; name = opt blob "\01" }, variant { ok })`,
		`(record { "a"; 2; record { 3; vec { 4 } } })`,
		`(record {}, variant { err = record { code = 7 : nat16; message = "bad" } })`,
		`(record { "quoted name" = 1; "type" = 2 })`,
		`(variant { 4_294_967_295 = "max id" })`,
		`(func "aaaaa-aa".method, func "aaaaa-aa"."with space", service "w7x7r-cok77-xa")`,
	}
	for _, text := range tests {
		t.Run(text, func(t *testing.T) {
			vals, err := ParseArgs(text, nil)
			if err != nil {
				t.Fatalf("ParseArgs: %v", err)
			}
			blob, err := Encode(vals)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			// Names come back from the types, as when a method's
			// declared types are known.
			types := make([]*Type, len(vals))
			for i, v := range vals {
				types[i] = v.Type
			}
			got, err := DecodeText(blob, types)
			if err != nil {
				t.Fatalf("DecodeText(%x): %v", blob, err)
			}
			if got != text {
				t.Errorf("round trip changed the value:\nin  %s\nout %s", text, got)
			}
		})
	}
}

func TestParseArgsSyntax(t *testing.T) {
	tests := []struct{ in, want string }{
		{"42", "(42)"},
		{"  ( 1 , 2 , ) ", "(1, 2)"},
		{"(1_000_000)", "(1_000_000)"},
		{"(+5)", "(5 : int)"},
		{`("\u{2603}\t\41")`, `("☃\tA")`},
		{"(vec { 1; 2; })", "(vec { 1; 2 })"},
		{"(record { b = 1; a = 2 })", "(record { a = 2; b = 1 })"},
		{"(record { 0 = 1; 1 = 2 })", "(record { 1; 2 })"},
		{"(variant { 5 = null })", "(variant { 5 })"},
		{"((42 : nat8))", "(42 : nat8)"},
		{"(opt (vec {} : vec nat))", "(opt vec {})"},
		{"(vec { 1 : nat8; 2 })", `(blob "\01\02")`},
		{"/* comment */ (1) // trailing", "(1)"},
		{"(null : opt nat)", "(null)"},
		{"(record { a = null } : record { a : opt nat; b : opt text })", "(record { a = null; b = null })"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			vals, err := ParseArgs(tt.in, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := Format(vals); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"(", "want a value"},
		{"(1", `want ")"`},
		{"(1) 2", "after the end"},
		{"(256 : nat8)", "does not fit nat8"},
		{"(-1 : nat)", "does not fit nat"},
		{"(128 : int8)", "does not fit int8"},
		{"(1e400)", "does not fit float64"},
		{"(1e39 : float32)", "does not fit float32"},
		{`("abc" : nat)`, "text value where nat is expected"},
		{`(principal "aaaaa-ab")`, "canonical form"},
		{`(principal "w7x7r-cok76-xa")`, "checksum"},
		{`(principal "w7x7r!")`, "not base32"},
		{`("\u{d800}")`, "unicode escape"},
		{`("\q")`, "unknown escape"},
		{`("unterminated`, "unterminated string"},
		{"(variant { a = 1; b = 2 })", "exactly one alternative"},
		{"(record { a = 1; a = 2 })", "given twice"},
		{"(1 : nope)", "not defined"},
		{"(/* open", "unterminated comment"},
		{"(null : empty)", "type empty"},
		{"(#)", "unexpected character"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := EncodeText(tt.in, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		`(record { 1_234 = "x"; name = opt vec { 1 : nat8 } }, variant { ok })`,
		`(func "aaaaa-aa".m, blob "\00", principal "aaaaa-aa", -1.5e3 : float32)`,
		`("\u{2603}" : text, vec {} : vec record { a : nat })`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		vals, err := ParseArgs(text, nil)
		if err != nil {
			return
		}
		blob, err := Encode(vals)
		if err != nil {
			return // e.g. a value annotated with a type it cannot have on the wire
		}
		if _, err := Decode(blob); err != nil {
			t.Fatalf("%q encoded to %x, which does not decode: %v", text, blob, err)
		}
	})
}
