package motoko

import (
	"errors"
	"strings"
	"testing"
)

func TestParseFixtureSignature(t *testing.T) {
	s, err := Parse("// Version: 1.0.0\nactor {\n  stable var count : Nat;\n  stable var note : Text;\n  stable var upgrades : Nat\n};\n")
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != "1.0.0" || s.Pre != nil || len(s.Post) != 3 {
		t.Fatalf("signature = %+v", s)
	}
	if v := s.Post[1]; v.Name != "note" || !v.Mutable || v.Type.String() != "Text" {
		t.Errorf("second variable = %+v", v)
	}
}

func TestParsePrintsTypesBack(t *testing.T) {
	for _, typ := range []string{
		"?(Nat, List<Nat>)",
		"[var Nat8]",
		"{#active; #frozen : {var reason : Text; since : Int}}",
		"{owner : Principal; subaccount : ?Blob}",
		"(Nat,)",
		"()",
		"shared query () -> async Nat",
		"shared (Nat, Text) -> ()",
		"shared composite query Nat -> async (Nat, Text)",
		"shared ((Nat, Text)) -> async ((Nat, Text))",
		"actor {get : shared query () -> async Nat}",
		"weak {x : Nat}",
		"{#}",
		"<T>T -> T",
	} {
		s, err := Parse("type List<T> = ?(T, List<T>);\nactor { stable x : " + typ + " };")
		if err != nil {
			t.Errorf("%s: %v", typ, err)
			continue
		}
		if got := s.Post[0].Type.String(); got != typ {
			t.Errorf("printed %q as %q", typ, got)
		}
	}
}

func TestParseSequences(t *testing.T) {
	s, err := Parse("actor { stable f : shared (Nat, Text) -> async ((Nat, Text)); stable g : shared (x : Nat) -> () }")
	if err != nil {
		t.Fatal(err)
	}
	f := s.Post[0].Type.Func
	if len(f.Args) != 2 || len(f.Results) != 1 || f.Results[0].Kind != KindTuple || !f.Async {
		t.Errorf("f = %+v", f)
	}
	g := s.Post[1].Type.Func
	if len(g.Args) != 1 || g.Args[0].String() != "Nat" || !g.Oneway {
		t.Errorf("g = %+v", g)
	}
}

func TestParseMigrationSignature(t *testing.T) {
	s, err := Parse("// Version: 3.0.0\nactor ({\n  in a : Nat;\n  stable b : Text\n}, {\n  stable var c : Nat\n}) ;\n")
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != "3.0.0" || len(s.Pre) != 2 || !s.Pre[0].Required || s.Pre[1].Required || len(s.Post) != 1 {
		t.Fatalf("signature = %+v", s)
	}
	old, _ := Parse("actor { stable b : Text }")
	got := StableCompatible(old, s)
	if len(got) != 1 || got[0].Code != "M0169" || got[0].Variable != "a" {
		t.Errorf("StableCompatible = %+v, want M0169 for the required a", got)
	}
	if err := MemoryCompatible(old, s); err != nil {
		t.Errorf("MemoryCompatible = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for text, want := range map[string]string{
		"actor { stable x : Foo }":                 "unknown type Foo",
		"type L<T> = ?T; actor { stable x : L }":   "takes 1 type arguments",
		"actor { stable x : Nat; stable x : Int }": "declared twice",
		"actor { stable x : {a : Nat; a : Int} }":  "appears twice",
		"actor { stable x : Nat ":                  "want \"}\"",
		"actor { x : Nat }":                        "want `stable`",
		"actor { in x : Nat }":                     "only declares a migration",
		"actor { stable x : Nat } trailing":        "text after the actor",
		"type A <: Nat; actor { }":                 "abstract type",
		"actor { stable x : async* Nat }":          "unexpected",
		"":                                         "want \"actor\"",
		"type A = A; actor { stable x : A }":       "",
	} {
		s, err := Parse(text)
		if want == "" {
			// Parses; expanding it must fail, not loop.
			if err != nil {
				t.Errorf("%q: %v", text, err)
				continue
			}
			if err := MemoryCompatible(s, s); err == nil || errors.As(err, new(*Incompatibility)) {
				t.Errorf("%q: MemoryCompatible = %v, want an expansion error", text, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
}
