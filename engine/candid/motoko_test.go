package candid

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecodeMotokoStable(t *testing.T) {
	scratch := "\x00\x00\x00\x00\x00\x00\x00\x00"
	tests := []struct {
		name, msg, want string
	}{
		{"mutable array shared twice",
			"DIDL\x02\x01\x01\x6d\x7d\x02\x00\x00" + "\x00" + scratch + "\x02\x01\x02" + "\x01\xf4\xff\xff\xff",
			"(vec { 1; 2 }, <same var as 12 bytes back>)"},
		{"mutable field",
			"DIDL\x02\x6c\x01\x00\x01\x01\x71\x01\x00" + "\x00" + scratch + "\x02hi",
			`(record { "hi" })`},
		{"region",
			"DIDL\x00\x01\x80\x7f" + "\x00" + scratch + "\x10\x00\x00\x00\x00\x00\x00\x00" + "\x01\x00\x00\x00" + "\x02\x01\x00",
			"(region { id = 16 : nat64; page_count = 1 : nat32 })"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := []byte(tt.msg)
			vals, n, err := DecodeMotokoStable(append(msg, "after"...))
			if err != nil {
				t.Fatal(err)
			}
			if n != len(msg) {
				t.Errorf("length %d, want %d", n, len(msg))
			}
			if got := Format(vals); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			again, err := Encode(vals)
			if err != nil || !bytes.Equal(again, msg) {
				t.Errorf("re-encoded %q, %v; want the original %q", again, err, msg)
			}
			if _, err := Decode(msg); !errors.Is(err, ErrNotCandid) {
				t.Errorf("plain Decode accepted Motoko's extension: %v", err)
			}
		})
	}
	for _, bad := range []string{
		"DIDL\x02\x01\x01\x6d\x7d\x01\x00\x02",                // alias tag 2
		"DIDL\x02\x01\x01\x6d\x7d\x01\x00\x00\x00",            // scratch cut short
		"DIDL\x00\x01\x80\x7f\x00" + scratch + "\x10\x00\x00", // region cut short
	} {
		if _, _, err := DecodeMotokoStable([]byte(bad)); !errors.Is(err, ErrNotCandid) {
			t.Errorf("%q: error %v, want ErrNotCandid", bad, err)
		}
	}
}

func FuzzDecodeMotokoStable(f *testing.F) {
	f.Add([]byte("DIDL\x02\x01\x01\x6d\x7d\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x01\x02\x01\xf4\xff\xff\xff"))
	f.Add([]byte("DIDL\x00\x01\x80\x7f\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02\x01\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, n, err := DecodeMotokoStable(b)
		if err != nil {
			return
		}
		again, err := Encode(vals)
		if err != nil {
			t.Fatalf("re-encode %s: %v", Format(vals), err)
		}
		back, _, err := DecodeMotokoStable(again)
		if err != nil || Format(back) != Format(vals) {
			t.Fatalf("re-encoded %q (from %q, %d bytes) decodes to %v, %v", again, b, n, back, err)
		}
	})
}
