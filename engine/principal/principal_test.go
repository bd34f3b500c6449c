package principal

import (
	"bytes"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		text string
		id   []byte
	}{
		{"aaaaa-aa", []byte{}},
		{"2vxsx-fae", []byte{0x04}},
		{"rkp4c-7iaaa-aaaaa-aaaca-cai", []byte{0, 0, 0, 0, 0, 0, 0, 4, 1, 1}},
		{"w7x7r-cok77-xa", []byte{0xca, 0xff, 0xee}},
		{"2chl6-4hpzw-vqaaa-aaaaa-c", []byte{0xef, 0xcd, 0xab, 0, 0, 0, 0, 0, 1}},
		{"rrkah-fqaaa-aaaaa-aaaaq-cai", []byte{0, 0, 0, 0, 0, 0, 0, 1, 1, 1}},
		{"bkyz2-fmaaa-aaaaa-qaaaq-cai", []byte{0x80, 0, 0, 0, 0, 0x10, 0, 1, 1, 1}},
	} {
		if got := Text(tc.id); got != tc.text {
			t.Errorf("Text(%x) = %q, want %q", tc.id, got, tc.text)
		}
		id, err := Parse(tc.text)
		if err != nil || !bytes.Equal(id, tc.id) {
			t.Errorf("Parse(%q) = %x, %v; want %x", tc.text, id, err, tc.id)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for text, want := range map[string]string{
		"rrkah-fqaaa-aaaaa-aaaaq-cab":                 "checksum mismatch",
		"rrkah-fqaaa-aaaaa-aaaaq-ca!":                 "not base32",
		"aa":                                          "too short",
		"RRKAH-FQAAA-AAAAA-AAAAQ-CAI":                 "not in canonical form",
		strings.Repeat("a", 60):                       "at most 29",
		"rrkahfqaaaaaaaaaaaaqcai":                     "not in canonical form",
		"rrkah-fqaaa-aaaaa-aaaaq-cai-extra-bytes-zzz": "",
	} {
		_, err := Parse(text)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", text)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want it to mention %q", text, err, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("rrkah-fqaaa-aaaaa-aaaaq-cai")
	f.Add("aaaaa-aa")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err == nil && Text(id) != s {
			t.Fatalf("Parse(%q) accepted a non-canonical form", s)
		}
	})
}
