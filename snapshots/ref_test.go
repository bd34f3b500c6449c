package snapshots

import (
	"errors"
	"strings"
	"testing"
)

func TestResolveRef(t *testing.T) {
	id := func(prefix string) ID {
		h, err := ParseHash(prefix + strings.Repeat("0", 64-len(prefix)))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	all := []Snapshot{
		{ID: id("aaaa11"), Name: "prod", Seq: 1},
		{ID: id("aaaa22"), Name: "prod", Seq: 2},
		{ID: id("bbbb33"), Name: "fix", Seq: 1},
		{ID: id("cccc44"), Name: "beef", Seq: 1}, // a name that is also hex
		{ID: id("beef55"), Name: "other", Seq: 1},
	}
	tests := []struct {
		ref, want, err string
	}{
		{ref: "prod", want: "prod@2"},
		{ref: "prod@1", want: "prod@1"},
		{ref: "prod@3", err: "not found"},
		{ref: "prod@x", err: "want NAME@N"},
		{ref: "prod@latest", want: "prod@2"},
		{ref: "nope@latest", err: "not found"},
		{ref: "fix", want: "fix@1"},
		{ref: "bbbb", want: "fix@1"},
		{ref: "BBBB33", want: "fix@1"},
		{ref: id("aaaa22").String(), want: "prod@2"},
		{ref: "aaaa", err: "ambiguous: matches aaaa11000000 (prod@1), aaaa22000000 (prod@2)"},
		{ref: "beef", want: "beef@1"},  // names win over prefixes
		{ref: "aaa", err: "not found"}, // prefixes need 4 digits
		{ref: "nope", err: "not found"},
		{ref: "", err: "empty"},
	}
	for _, tt := range tests {
		got, err := ResolveRef(all, tt.ref)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ResolveRef(%q) error = %v, want containing %q", tt.ref, err, tt.err)
			}
			continue
		}
		if err != nil || got.Ref() != tt.want {
			t.Errorf("ResolveRef(%q) = %s, %v; want %s", tt.ref, got.Ref(), err, tt.want)
		}
	}
	if _, err := ResolveRef(all, "zzz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown ref error %v does not wrap ErrNotFound", err)
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"prod", "prod-2026.11.26", "a_b", "X"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", "a@1", "a b", "a/b", strings.Repeat("a", 65)} {
		if err := ValidateName(bad); err == nil {
			t.Errorf("ValidateName(%q) accepted", bad)
		}
	}
}
