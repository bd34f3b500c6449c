package workbench

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
)

func TestVerificationSame(t *testing.T) {
	five, err := candid.EncodeText("(5 : nat64)", nil)
	if err != nil {
		t.Fatal(err)
	}
	six, _ := candid.EncodeText("(6 : nat64)", nil)
	ok := func(b []byte) Reply { return Reply{Status: engine.StatusOK, Reply: b} }
	// The same record with a different (but equivalent) type table: a
	// record type defined twice in the table, referenced by its second
	// entry.
	r1 := []byte("DIDL\x01\x6c\x01\x00\x78\x01\x00\x05\x00\x00\x00\x00\x00\x00\x00")
	r2 := []byte("DIDL\x02\x6c\x01\x00\x78\x6c\x01\x00\x78\x01\x01\x05\x00\x00\x00\x00\x00\x00\x00")
	tests := []struct {
		name string
		v    Verification
		same bool
	}{
		{"same bytes", Verification{Before: ok(five), After: []Reply{ok(five), ok(five)}}, true},
		{"same value, other type table", Verification{Before: ok(r1), After: []Reply{ok(r2)}}, true},
		{"differs after the second step", Verification{Before: ok(five), After: []Reply{ok(five), ok(six)}}, false},
		{"traps after", Verification{Before: ok(five), After: []Reply{{Status: engine.StatusTrapped}}}, false},
		{"traps before", Verification{Before: Reply{Status: engine.StatusTrapped}, After: []Reply{ok(five)}}, false},
	}
	for _, tt := range tests {
		if got := tt.v.Same(); got != tt.same {
			t.Errorf("%s: Same = %v", tt.name, got)
		}
		tt.v.Query.Ignore = true
		if tt.v.Failed() {
			t.Errorf("%s: an ignored query failed the check", tt.name)
		}
	}
}

func TestShortDiff(t *testing.T) {
	if got := ShortDiff("(1 : nat)", "(2 : nat)", 40); got != "(1 : nat) → (2 : nat)" {
		t.Errorf("short texts: %q", got)
	}
	a := "(vec {" + strings.Repeat("1; ", 100) + "7; " + strings.Repeat("2; ", 100) + "})"
	b := "(vec {" + strings.Repeat("1; ", 100) + "8; " + strings.Repeat("2; ", 100) + "})"
	got := ShortDiff(a, b, 40)
	if !strings.HasPrefix(got, "at character 306: …") || !strings.Contains(got, "1; 7; 2;") || !strings.Contains(got, "1; 8; 2;") || utf8.RuneCountInString(got) > 80 {
		t.Errorf("long texts: %q", got)
	}
}
