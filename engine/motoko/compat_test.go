package motoko

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func sig(defs, body string) string {
	return "// Version: 1.0.0\n" + defs + "actor {\n" + body + "\n};\n"
}

// pairs are hand-written upgrades with the verdicts of the runtime's
// check (rts: "" passes, else a fragment of the reason) and of moc's
// static check (moc: the codes it reports, in order).
var pairs = []struct {
	name     string
	old, new string
	rts      string // "" = compatible; otherwise the variable that fails
	moc      []string
}{
	{"fixture v2 adds a variable",
		sig("", "  stable var count : Nat;\n  stable var upgrades : Nat"),
		sig("", "  stable var count : Nat;\n  stable var note : Text;\n  stable var upgrades : Nat"), "", nil},
	{"fixture bad changes a type",
		sig("", "  stable var count : Nat;\n  stable var upgrades : Nat"),
		sig("", "  stable var count : Text;\n  stable var upgrades : Nat"), "count", []string{"M0170"}},
	{"Nat widens to Int", sig("", "stable var x : Nat"), sig("", "stable var x : Int"), "", nil},
	{"Int does not narrow to Nat", sig("", "stable var x : Int"), sig("", "stable var x : Nat"), "x", []string{"M0170"}},
	{"sized Nat8 is not Nat", sig("", "stable x : Nat8"), sig("", "stable x : Nat"), "x", []string{"M0170"}},
	{"let becomes var", sig("", "stable x : [Nat]"), sig("", "stable var x : [Int]"), "", nil},
	{"dropped variable with a larger hash", sig("", "stable a : Nat; stable b : Nat"), sig("", "stable a : Nat"), "b", []string{"M0169"}},
	// idl.rs's main actor loop returns true when the new fields run out
	// while an old one with a larger hash is unmatched: the runtime
	// discards it; moc's static check refuses.
	{"dropped variable past the new ones", sig("", "stable z : Nat"), sig("", "stable a : Nat"), "", []string{"M0169"}},
	{"nested record adds a field",
		sig("", "stable r : {a : Nat}"), sig("", "stable r : {a : Nat; b : Text}"), "r", []string{"M0170"}},
	{"nested record drops a field",
		sig("", "stable r : {a : Nat; b : Text}"), sig("", "stable r : {a : Nat}"), "r", []string{"M0216"}},
	{"variant adds a case", sig("", "stable v : {#a; #b : Nat}"), sig("", "stable v : {#a; #b : Nat; #c : Text}"), "", nil},
	{"variant loses a case", sig("", "stable v : {#a; #b : Nat}"), sig("", "stable v : {#a}"), "v", []string{"M0170"}},
	{"value becomes an option", sig("", "stable x : Nat"), sig("", "stable x : ?Nat"), "x", []string{"M0170"}},
	{"Null becomes an option", sig("", "stable x : Null"), sig("", "stable x : ?Nat"), "", nil},
	{"option widens", sig("", "stable x : ?Nat"), sig("", "stable x : ?Int"), "", nil},
	{"mutable field stays invariant",
		sig("", "stable r : {var x : Nat}"), sig("", "stable r : {var x : Int}"), "r", []string{"M0170"}},
	{"mutable array of the same type", sig("", "stable a : [var Nat]"), sig("", "stable a : [var Nat]"), "", nil},
	{"array becomes mutable", sig("", "stable a : [Nat]"), sig("", "stable a : [var Nat]"), "a", []string{"M0170"}},
	{"tuple component widens", sig("", "stable t : (Nat, Text)"), sig("", "stable t : (Int, Text)"), "", nil},
	{"tuple grows", sig("", "stable t : (Nat, Text)"), sig("", "stable t : (Nat, Text, Bool)"), "t", []string{"M0170"}},
	// type_desc lays Char and Nat32 out alike (IDL nat32): the runtime
	// accepts, moc's subtyping does not.
	{"Char to Nat32", sig("", "stable c : Char"), sig("", "stable c : Nat32"), "", []string{"M0170"}},
	{"promotion to Any", sig("", "stable x : Nat"), sig("", "stable x : Any"), "x", []string{"M0216"}},
	{"Blob is not [Nat8]", sig("", "stable b : Blob"), sig("", "stable b : [Nat8]"), "b", []string{"M0170"}},
	{"primitives stay", sig("", "stable p : Principal; stable f : Float; stable b : Blob; stable i : Int64"),
		sig("", "stable p : Principal; stable f : Float; stable b : Blob; stable i : Int64"), "", nil},
	{"recursive generic list widens",
		sig("type List<T> = ?(T, List<T>);\n", "stable var l : List<Nat>"),
		sig("type List<T> = ?(T, List<T>);\n", "stable var l : List<Int>"), "", nil},
	{"recursive list renamed",
		sig("type List<T> = ?(T, List<T>);\n", "stable var l : List<Nat>"),
		sig("type Stack<X> = ?(X, Stack<X>);\n", "stable var l : Stack<Nat>"), "", nil},
	{"recursive list changes its element",
		sig("type List<T> = ?(T, List<T>);\n", "stable var l : List<Nat>"),
		sig("type List<T> = ?(T, List<T>);\n", "stable var l : List<Text>"), "l", []string{"M0170"}},
	{"shared function argument narrows",
		sig("", "stable f : shared Int -> ()"), sig("", "stable f : shared Nat -> ()"), "", nil},
	{"shared function argument widens",
		sig("", "stable f : shared Nat -> ()"), sig("", "stable f : shared Int -> ()"), "f", []string{"M0170"}},
	{"query becomes update",
		sig("", "stable f : shared query () -> async Nat"), sig("", "stable f : shared () -> async Nat"), "f", []string{"M0170"}},
	// The runtime lets a service reference lose methods (idl.rs, the
	// service case); stable_sub refuses the dropped field.
	{"actor reference loses a method",
		sig("", "stable a : actor {get : shared query () -> async Nat; put : shared Nat -> ()}"),
		sig("", "stable a : actor {get : shared query () -> async Nat}"), "", []string{"M0216"}},
	{"record of records with a definition",
		sig("type Account = {owner : Principal; var balance : Nat};\n", "stable accounts : [Account]"),
		sig("type Account = {owner : Principal; var balance : Nat};\n", "stable accounts : [Account]; stable fee : Nat"), "", nil},
}

func TestCompatibilityRules(t *testing.T) {
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			old, err := Parse(p.old)
			if err != nil {
				t.Fatalf("parse old: %v", err)
			}
			next, err := Parse(p.new)
			if err != nil {
				t.Fatalf("parse new: %v", err)
			}
			err = MemoryCompatible(old, next)
			var inc *Incompatibility
			switch {
			case p.rts == "" && err != nil:
				t.Errorf("MemoryCompatible = %v, want compatible", err)
			case p.rts != "" && !errors.As(err, &inc):
				t.Errorf("MemoryCompatible = %v, want an incompatibility of %s", err, p.rts)
			case p.rts != "" && inc.Variable != p.rts:
				t.Errorf("MemoryCompatible names %s (%v), want %s", inc.Variable, err, p.rts)
			}
			var codes []string
			for _, i := range StableCompatible(old, next) {
				codes = append(codes, i.Code)
			}
			if strings.Join(codes, ",") != strings.Join(p.moc, ",") {
				t.Errorf("StableCompatible codes = %v, want %v", codes, p.moc)
			}
		})
	}
}

func TestIncompatibilityNamesFieldAndTypes(t *testing.T) {
	old, _ := Parse(pairs[1].old)
	next, _ := Parse(pairs[1].new)
	err := MemoryCompatible(old, next)
	for _, want := range []string{"count", "Nat", "Text"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("MemoryCompatible = %v, want it to name %s", err, want)
		}
	}
}

// TestMocOracle compares StableCompatible's codes with moc.js's
// stableCompatible on every pair. It runs only where MOTOKO_MOC_JS names
// motoko 4.x's versions/latest/moc.min.js (engine/testdata/regen.sh
// installs it); the committed tests need no node.
func TestMocOracle(t *testing.T) {
	mocJS := os.Getenv("MOTOKO_MOC_JS")
	if mocJS == "" {
		t.Skip("MOTOKO_MOC_JS not set")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "sc.js")
	os.WriteFile(script, []byte(`const m = require(process.argv[2]); const c = m.Motoko || m;
const fs = require('fs');
c.saveFile('old.most', fs.readFileSync(process.argv[3], 'utf8'));
c.saveFile('new.most', fs.readFileSync(process.argv[4], 'utf8'));
console.log(c.stableCompatible('old.most', 'new.most').diagnostics.map(d => d.code).join(','));`), 0o644)
	for i, p := range pairs {
		a, b := filepath.Join(dir, "a.most"), filepath.Join(dir, "b.most")
		os.WriteFile(a, []byte(p.old), 0o644)
		os.WriteFile(b, []byte(p.new), 0o644)
		out, err := exec.Command("node", script, mocJS, a, b).CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v: %s", err, out)
		}
		if got, want := strings.TrimSpace(string(out)), strings.Join(p.moc, ","); got != want {
			t.Errorf("pair %d %q: moc.js reports %q, the table %q", i, p.name, got, want)
		}
	}
}
