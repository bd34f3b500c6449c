package candid

import (
	"errors"
	"strings"
	"testing"
)

// Vectors below follow the Candid specification's test suite
// (dfinity/candid test/prim.test.did, construct.test.did,
// reference.test.did): the blobs are the spec's, the expected text is how
// this package prints them.
func TestDecodeGolden(t *testing.T) {
	tests := []struct {
		name, blob, want string
	}{
		{"nullary", "DIDL\x00\x00", "()"},
		{"null", "DIDL\x00\x01\x7f", "(null)"},
		{"bool", "DIDL\x00\x02\x7e\x7e\x00\x01", "(false, true)"},
		{"nat", "DIDL\x00\x01\x7d\xff\x7f", "(16_383)"},
		{"nat overlong", "DIDL\x00\x01\x7d\x80\x00", "(0)"},
		{"nat big", "DIDL\x00\x01\x7d\x80\x80\x98\xf4\xe9\xb5\xca\x6a", "(60_000_000_000_000_000)"},
		{"nat beyond 64 bits", "DIDL\x00\x01\x7d\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", "(151_115_727_451_828_646_838_272)"},
		{"int -1", "DIDL\x00\x01\x7c\x7f", "(-1 : int)"},
		{"int -64", "DIDL\x00\x01\x7c\x40", "(-64 : int)"},
		{"int overlong ones", "DIDL\x00\x01\x7c\xff\x7f", "(-1 : int)"},
		{"int 127", "DIDL\x00\x01\x7c\xff\x00", "(127 : int)"},
		{"int -128", "DIDL\x00\x01\x7c\x80\x7f", "(-128 : int)"},
		{"int big", "DIDL\x00\x01\x7c\x80\x80\x98\xf4\xe9\xb5\xca\xea\x00", "(60_000_000_000_000_000 : int)"},
		{"int negative big", "DIDL\x00\x01\x7c\x80\x80\xe8\x8b\x96\xca\xb5\x95\x7f", "(-60_000_000_000_000_000 : int)"},
		{"nat8", "DIDL\x00\x01\x7b\xff", "(255 : nat8)"},
		{"nat16", "DIDL\x00\x01\x7a\x00\x01", "(256 : nat16)"},
		{"nat32", "DIDL\x00\x01\x79\xff\xff\xff\xff", "(4_294_967_295 : nat32)"},
		{"nat64", "DIDL\x00\x01\x78\xff\xff\xff\xff\xff\xff\xff\xff", "(18_446_744_073_709_551_615 : nat64)"},
		{"int8", "DIDL\x00\x01\x77\xff", "(-1 : int8)"},
		{"int16", "DIDL\x00\x01\x76\xff\x00", "(255 : int16)"},
		{"int32", "DIDL\x00\x01\x75\xff\xff\xff\xff", "(-1 : int32)"},
		{"int64", "DIDL\x00\x01\x74\xff\xff\xff\xff\x00\x00\x00\x00", "(4_294_967_295 : int64)"},
		{"float32", "DIDL\x00\x01\x73\x00\x00\x00\xbf", "(-0.5 : float32)"},
		{"float64", "DIDL\x00\x01\x72\x00\x00\x00\x00\x00\x00\x08\x40", "(3.)"},
		{"text", "DIDL\x00\x01\x71\x06Motoko", `("Motoko")`},
		{"text unicode", "DIDL\x00\x01\x71\x03\xe2\x98\x83", `("☃")`},
		{"text escapes", "DIDL\x00\x01\x71\x06\x09\x0A\x0D\x22\x27\x5C", `("\t\n\r\"'\\")`},
		{"text overlong length", "DIDL\x00\x01\x71\x86\x00Motoko", `("Motoko")`},
		{"reserved", "DIDL\x00\x01\x70", "(null : reserved)"},
		{"multiple", "DIDL\x00\x0a\x7f\x7e\x7d\x7c\x7f\x70\x7f\x7b\x7a\x79\x01\x2a\x2a\x2a\x2a\x00\x2a\x00\x00\x00",
			"(null, true, 42, 42 : int, null, null : reserved, null, 42 : nat8, 42 : nat16, 42 : nat32)"},
		{"opt null", "DIDL\x01\x6e\x7c\x01\x00\x00", "(null)"},
		{"opt 42", "DIDL\x01\x6e\x7c\x01\x00\x01\x2a", "(opt (42 : int))"},
		{"opt nested", "DIDL\x02\x6e\x01\x6e\x7c\x01\x00\x01\x01\x2a", "(opt opt (42 : int))"},
		{"opt recursive", "DIDL\x01\x6e\x00\x01\x00\x01\x01\x00", "(opt opt null)"},
		{"unused type", "DIDL\x01\x6e\x6f\x00", "()"},
		{"vec empty", "DIDL\x01\x6d\x7c\x01\x00\x00", "(vec {})"},
		{"vec", "DIDL\x01\x6d\x7c\x01\x00\x02\x01\x02", "(vec { 1 : int; 2 : int })"},
		{"blob", "DIDL\x01\x6d\x7b\x01\x00\x02\x01\x02", `(blob "\01\02")`},
		{"vec tree", "DIDL\x01\x6d\x00\x01\x00\x02\x00\x00", "(vec { vec {}; vec {} })"},
		{"vec space bomb within budget", "DIDL\x01\x6d\x7f\x01\x00\x03", "(vec { null; null; null })"},
		{"record empty", "DIDL\x01\x6c\x00\x03\x00\x00\x00", "(record {}, record {}, record {})"},
		{"record numbered", "DIDL\x01\x6c\x01\x01\x7c\x01\x00\x2a", "(record { 1 = 42 : int })"},
		{"record tuple", "DIDL\x01\x6c\x02\x00\x7c\x01\x7e\x01\x00\x2a\x01", "(record { 42 : int; true })"},
		{"record hashed", "DIDL\x01\x6c\x02\xd3\xe3\xaa\x02\x7e\x86\x8e\xb7\x02\x7c\x01\x00\x01\x2a",
			"(record { 4_895_187 = true; 5_097_222 = 42 : int })"},
		{"record nested", "DIDL\x04\x6c\x01\x00\x01\x6c\x01\x00\x02\x6c\x01\x00\x03\x6c\x00\x01\x00",
			"(record { record { record { record {} } } })"},
		{"variant numbered", "DIDL\x01\x6b\x01\x00\x7f\x01\x00\x00", "(variant { 0 })"},
		{"variant result", "DIDL\x01\x6b\x02\xbc\x8a\x01\x71\xc5\xfe\xd2\x01\x71\x01\x00\x00\x04good", `(variant { Ok = "good" })`},
		{"variant ok with empty err", "DIDL\x01\x6b\x02\x9c\xc2\x01\x71\xe5\x8e\xb4\x02\x6f\x01\x00\x00\x04good", `(variant { ok = "good" })`},
		{"variant max id", "DIDL\x01\x6b\x03\x00\x7f\x01\x7f\xff\xff\xff\xff\x0f\x7f\x01\x00\x02", "(variant { 4_294_967_295 })"},
		{"list", "DIDL\x02\x6e\x01\x6c\x02\xa0\xd2\xac\xa8\x04\x7c\x90\xed\xda\xe7\x04\x00\x01\x00\x01\x01\x01\x02\x00",
			"(opt record { 1_158_359_328 = 1 : int; 1_291_237_008 = opt record { 1_158_359_328 = 2 : int; 1_291_237_008 = null } })"},
		{"principal management", "DIDL\x00\x01\x68\x01\x00", `(principal "aaaaa-aa")`},
		{"principal", "DIDL\x00\x01\x68\x01\x03\xca\xff\xee", `(principal "w7x7r-cok77-xa")`},
		{"principal long", "DIDL\x00\x01\x68\x01\x09\xef\xcd\xab\x00\x00\x00\x00\x00\x01", `(principal "2chl6-4hpzw-vqaaa-aaaaa-c")`},
		{"service", "DIDL\x01\x69\x00\x01\x00\x01\x03\xca\xff\xee", `(service "w7x7r-cok77-xa")`},
		{"service with methods", "DIDL\x02\x6a\x01\x71\x01\x7d\x00\x69\x02\x03foo\x00\x04foo2\x00\x01\x01\x01\x03\xca\xff\xee", `(service "w7x7r-cok77-xa")`},
		{"func", "DIDL\x01\x6a\x01\x71\x01\x7d\x01\x01\x01\x00\x01\x01\x03\xca\xff\xee\x03foo", `(func "w7x7r-cok77-xa".foo)`},
		{"func unicode name", "DIDL\x02j\x02|}\x01\x01\x01\x01i\x00\x01\x00\x01\x01\x00\x04\xf0\x9f\x90\x82", `(func "aaaaa-aa"."🐂")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeText([]byte(tt.blob), nil)
			if err != nil {
				t.Fatalf("DecodeText: %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name, blob, wantErr string
	}{
		{"empty", "", "empty blob"},
		{"no magic", "\x00\x00", "no DIDL magic"},
		{"wrong magic", "DADL\x00\x00", "no DIDL magic"},
		{"nullary too long", "DIDL\x00\x00\x00", "trailing bytes"},
		{"not a primitive", "DIDL\x00\x01\x6e", "not a primitive"},
		{"out of range type", "DIDL\x00\x01\x5e", "not a primitive"},
		{"null too long", "DIDL\x00\x01\x7f\x00", "trailing bytes"},
		{"bool out of range", "DIDL\x00\x01\x7e\x02", "bool byte 2"},
		{"nat leb too short", "DIDL\x00\x01\x7d\x80", "end of message"},
		{"nat8 too short", "DIDL\x00\x01\x7b", "need 1 bytes"},
		{"nat64 too short", "DIDL\x00\x01\x78\x00\x00\x00", "need 8 bytes"},
		{"text too long", "DIDL\x00\x01\x71\x05Motoko", "trailing bytes"},
		{"text too short", "DIDL\x00\x01\x71\x07Motoko", "text length 7"},
		{"text invalid utf8", "DIDL\x00\x01\x71\x03\xe2\x28\xa1", "UTF-8"},
		{"empty value", "DIDL\x00\x01\x6f", "type empty"},
		{"vacuous type", "DIDL\x01\x00\x00", "not a constructor"},
		{"table entry out of range", "DIDL\x01\x6e\x01\x00", "out of range"},
		{"arg entry out of range", "DIDL\x00\x01\x00", "out of range"},
		{"primitive in table", "DIDL\x01\x7f\x00", "not a constructor"},
		{"principal in table", "DIDL\x01\x68\x00", "not a constructor"},
		{"opt tag", "DIDL\x01\x6e\x7c\x01\x00\x02\x2a", "opt tag 2"},
		{"vec too short", "DIDL\x01\x6d\x7c\x01\x00\x02\x01", "vec length 2 exceeds"},
		{"record unsorted", "DIDL\x01\x6c\x02\x01\x7c\x00\x7e\x01\x00\x2a\x01", "strictly increasing"},
		{"record duplicate", "DIDL\x01\x6c\x02\x00\x7c\x00\x7e\x01\x00\x2a\x01", "strictly increasing"},
		{"record hash beyond u32", "DIDL\x01\x6c\x01\x80\xe4\x97\xd0\x12\x7c\x01\x00\x2a", "overflows 32 bits"},
		{"record empty recursion", "DIDL\x01\x6c\x01\x00\x00\x01\x00", "nested deeper"},
		{"variant empty", "DIDL\x01\x6b\x00\x01\x00\x00", "out of range"},
		{"variant index", "DIDL\x01\x6b\x01\x00\x7f\x01\x00\x01", "out of range"},
		{"variant empty recursion", "DIDL\x01\x6b\x01\x00\x00\x01\x00\x00\x00\x00\x00", "end of message"},
		{"principal no tag", "DIDL\x00\x01\x68\x03\xca\xff\xee", "reference tag 3"},
		{"principal too short", "DIDL\x00\x01\x68\x01\x03\xca\xff", "need 3 bytes"},
		{"principal too long", "DIDL\x00\x01\x68\x01\x1e" + strings.Repeat("\x00", 30), "longer than 29"},
		{"service unsorted", "DIDL\x02\x6a\x01\x71\x01\x7d\x00\x69\x02\x04foo2\x00\x03foo\x00\x01\x01\x01\x03\xca\xff\xee", "not sorted"},
		{"service duplicate", "DIDL\x02\x6a\x01\x71\x01\x7d\x00\x69\x02\x03foo\x00\x03foo\x00\x01\x01\x01\x03\xca\xff\xee", "not sorted"},
		{"func wrong tag", "DIDL\x01\x6a\x00\x00\x00\x01\x00\x01\x00\x03\xca\xff\xee\x01\x61", "opaque principal"},
		{"func unknown annotation", "DIDL\x01\x6a\x01\x71\x01\x7d\x01\x80\x01\x01\x00\x01\x01\x03\xca\xff\xee\x03foo", "annotation"},
		{"vec of nulls beyond budget", "DIDL\x01\x6d\x7f\x01\x00\xff\xff\xff\xff\x0f", "vec length"},
		{"huge type table", "DIDL\xff\xff\xff\xff\x0f", "type table length"},
		{"sleb overflow", "DIDL\x00\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7e", "overflows 64 bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, err := Decode([]byte(tt.blob))
			if err == nil {
				t.Fatalf("decoded %s, want an error", Format(vals))
			}
			if !errors.Is(err, ErrNotCandid) || !strings.HasPrefix(err.Error(), "not a Candid message: ") {
				t.Errorf("error %q does not say it is not a Candid message", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeGuessesCommonLabels(t *testing.T) {
	blob, err := EncodeText(`(variant { ok = record { owner = principal "aaaaa-aa"; 7 = 1 } })`, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeText(blob, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `(variant { ok = record { 7 = 1; owner = principal "aaaaa-aa" } })`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	seeds := []string{
		"DIDL\x00\x00",
		"DIDL\x00\x0a\x7f\x7e\x7d\x7c\x7f\x70\x7f\x7b\x7a\x79\x01\x2a\x2a\x2a\x2a\x00\x2a\x00\x00\x00",
		"DIDL\x02\x6e\x01\x6c\x02\xa0\xd2\xac\xa8\x04\x7c\x90\xed\xda\xe7\x04\x00\x01\x00\x01\x01\x01\x02\x00",
		"DIDL\x01\x6b\x02\x9c\xc2\x01\x71\xe5\x8e\xb4\x02\x6f\x01\x00\x00\x04good",
		"DIDL\x02j\x02|}\x01\x01\x01\x01i\x00\x01\x00\x01\x01\x00\x04\xf0\x9f\x90\x82",
		"DIDL\x01\x6d\x7f\x01\x00\xe8\x07",
		"DIDL\x01\x6c\x01\x00\x00\x01\x00",
		"not candid at all",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		vals, err := Decode(blob)
		if err != nil {
			if !errors.Is(err, ErrNotCandid) {
				t.Fatalf("error %v does not wrap ErrNotCandid", err)
			}
			return
		}
		// Whatever decodes re-encodes, and decodes again to the same text.
		text := Format(vals)
		again, err := Encode(vals)
		if err != nil {
			t.Fatalf("re-encode %s: %v", text, err)
		}
		got, err := DecodeText(again, nil)
		if err != nil {
			t.Fatalf("decode re-encoded %s: %v", text, err)
		}
		if got != text {
			t.Fatalf("re-encoded value changed:\n%s\n%s", text, got)
		}
	})
}

func TestDecodePrefix(t *testing.T) {
	msg, err := EncodeText(`(record { a = 1; b = "x" })`, nil)
	if err != nil {
		t.Fatal(err)
	}
	vals, n, err := DecodePrefix(append(msg, "trailing junk"...), nil)
	if err != nil || n != len(msg) || len(vals) != 1 {
		t.Fatalf("DecodePrefix = %v, %d, %v; want 1 value, %d bytes", vals, n, err, len(msg))
	}
	// The record's value bytes: LEB128 1, then length 1 and "x".
	b, err := EncodeValue(vals[0])
	if err != nil || string(b) != "\x01\x01x" {
		t.Errorf("EncodeValue = %q, %v", b, err)
	}
	if _, _, err := DecodePrefix([]byte("DIDL\x00\x01\x71\x05ab"), nil); !errors.Is(err, ErrNotCandid) {
		t.Errorf("truncated prefix: %v", err)
	}
}
