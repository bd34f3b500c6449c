package layout

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// A stable signature with a generic definition and a migration's
// pre-signature (version 3.0.0) is described variable by variable, with
// its definitions and the migration's inputs, in text, JSON and the
// detail screen's lines.
func TestMotokoSignatureDescribed(t *testing.T) {
	types := `// Version: 3.0.0
type List<T> = ?(T, List<T>);
actor ({
  in var log : List<Text>;
  stable owner : Principal
}, {
  stable var entries : List<{at : Int; what : Text}>;
  stable owner : Principal
});
`
	l, err := Detect(bytes.NewReader(nil), 0, types)
	if err != nil {
		t.Fatal(err)
	}
	mo := l.Motoko
	if mo == nil || mo.SignatureVersion != "3.0.0" || len(mo.Variables) != 2 || len(mo.MigrationInputs) != 2 {
		t.Fatalf("Motoko = %+v", mo)
	}
	if v := mo.Variables[0]; v.Name != "entries" || v.Type != "List<{at : Int; what : Text}>" || !v.Mutable {
		t.Errorf("first variable = %+v", v)
	}
	if d := mo.TypeDefinitions; len(d) != 1 || d[0].Name != "List<T>" || d[0].Definition != "?(T, List<T>)" {
		t.Errorf("TypeDefinitions = %+v", d)
	}
	if in := mo.MigrationInputs[0]; in.Name != "log" || !in.Required {
		t.Errorf("first migration input = %+v", in)
	}
	lines := l.MotokoLines()
	for _, want := range []string{"stable var entries : List<{at : Int; what : Text}>", "stable owner : Principal", "type List<T> = ?(T, List<T>)", "  in log : List<Text>"} {
		if !slices.Contains(lines, want) {
			t.Errorf("MotokoLines = %q, want %q", lines, want)
		}
	}
	text := l.String()
	if !strings.Contains(text, "type List<T> = ?(T, List<T>)") || !strings.Contains(text, "migration function reads") {
		t.Errorf("Render:\n%s", text)
	}
	js, _ := json.Marshal(l)
	for _, want := range []string{`"signature_version":"3.0.0"`, `"type_definitions":[{"name":"List\u003cT\u003e"`, `"mutable":true`, `"required":true`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON %s lacks %s", js, want)
		}
	}
	// Field names deep in the types name nested Candid fields.
	labels := labelsIn(types)
	for _, want := range []string{"at", "what", "entries", "log"} {
		found := false
		for _, name := range labels {
			found = found || name == want
		}
		if !found {
			t.Errorf("labelsIn lacks %s: %v", want, labels)
		}
	}
}

func TestMotokoSignatureError(t *testing.T) {
	l, err := Detect(bytes.NewReader(nil), 0, "actor { stable x : Mystery }")
	if err != nil {
		t.Fatal(err)
	}
	if l.Motoko == nil || !strings.Contains(l.Motoko.StableTypesError, "unknown type Mystery") || len(l.Motoko.Variables) != 0 {
		t.Fatalf("Motoko = %+v", l.Motoko)
	}
	if !strings.Contains(l.String(), "motoko:stable-types does not parse") {
		t.Errorf("Render:\n%s", l)
	}
}
