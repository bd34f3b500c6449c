package candid

import (
	"os"
	"strings"
	"testing"
)

func loadLedger(t *testing.T) *Interface {
	t.Helper()
	did, err := os.ReadFile("testdata/ledger.did")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseInterface(string(did))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseInterface(t *testing.T) {
	s := loadLedger(t)
	var names []string
	for _, m := range s.Methods {
		names = append(names, m.Name)
	}
	if got := strings.Join(names, ","); got != "archives,icrc1_balance_of,icrc1_transfer,method,notify,tree_sum,weird name" {
		t.Errorf("methods %s", got)
	}
	tests := []struct{ method, want string }{
		{"icrc1_balance_of", "(Account) -> (Tokens) query"},
		{"icrc1_transfer", "(TransferArg) -> (Result)"},
		{"weird name", "(nat8, opt text) -> ()"},
		{"tree_sum", "(Tree) -> (int64) composite_query"},
		{"notify", "(text) -> () oneway"},
		{"archives", "(Empty, Display) -> (vec Archived) query"},
		{"method", "(principal, principal) -> ()"},
	}
	for _, tt := range tests {
		f, ok := s.Method(tt.method)
		if !ok {
			t.Errorf("method %s missing", tt.method)
			continue
		}
		var b strings.Builder
		writeFuncType(&b, f, 0)
		if b.String() != tt.want {
			t.Errorf("%s: %s, want %s", tt.method, b.String(), tt.want)
		}
	}
	if got := s.Types["Amount"].String(); got != "nat" {
		t.Errorf("alias Amount = %s, want nat", got)
	}
	if got := s.Types["Account"].String(); got != "record { owner : principal; subaccount : opt Subaccount }" {
		t.Errorf("Account = %s", got)
	}
	if got := s.Types["Tree"].String(); got != "variant { leaf : int64; node : record { Tree; Tree } }" {
		t.Errorf("Tree = %s", got)
	}
	if got := s.Types["ArchiveFn"].String(); got != "func (GetBlocksArgs) -> (variant { Ok : vec blob; Err : record {} }) query" {
		t.Errorf("ArchiveFn = %s", got)
	}
	if got := s.Types["Display"].String(); got != "opt variant { Lines : record { lines : nat16; per_line : nat16 }; Generic }" {
		t.Errorf("Display = %s", got)
	}
	if len(s.Init) != 1 || s.Init[0].Name != "InitArgs" {
		t.Errorf("init args %v", s.Init)
	}
	if _, ok := s.Method("missing"); ok {
		t.Error("found a method that does not exist")
	}
	var none *Interface
	if none.Args("x") != nil || none.Results("x") != nil {
		t.Error("a nil interface has methods")
	}
}

func TestParseInterfaceErrors(t *testing.T) {
	tests := []struct{ did, wantErr string }{
		{"service : { m : (Missing) -> () }", "Missing is used but not defined"},
		{"type A = B; type B = A; service : {}", "alias cycle"},
		{"type A = nat; type A = int;", "defined twice"},
		{"type A = record { a : nat; a : int };", "used twice"},
		{"service : { m : () -> () ", "want \"}\""},
		{"type T = opt;", "want a type"},
		{"type S = nat; service : S", "is a nat, not a service"},
		{"bogus", "want type, import or service"},
	}
	for _, tt := range tests {
		_, err := ParseInterface(tt.did)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%q: error %v, want one mentioning %q", tt.did, err, tt.wantErr)
		}
	}
}

// TestTypedArgs encodes with a method's declared types: literals take the
// declared widths, missing opt fields become null, and decoding with the
// result types names fields the wire only knows by hash.
func TestTypedArgs(t *testing.T) {
	s := loadLedger(t)
	tests := []struct {
		method, args, want string
	}{
		{"weird name", "(42)", "(42 : nat8, null)"},
		{"weird name", `(7, opt "x")`, `(7 : nat8, opt "x")`},
		{"icrc1_balance_of", `(record { owner = principal "aaaaa-aa" })`, `(record { owner = principal "aaaaa-aa"; subaccount = null })`},
		{"icrc1_transfer", `(record { to = record { owner = principal "aaaaa-aa"; subaccount = opt blob "\01" }; amount = 1_000; created_at_time = opt 5 })`,
			`(record { to = record { owner = principal "aaaaa-aa"; subaccount = opt blob "\01" }; fee = null; memo = null; from_subaccount = null; created_at_time = opt (5 : nat64); amount = 1_000 })`},
		{"tree_sum", `(variant { node = record { variant { leaf = 1 }; variant { leaf = -2 } } })`,
			`(variant { node = record { variant { leaf = 1 : int64 }; variant { leaf = -2 : int64 } } })`},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.args, func(t *testing.T) {
			blob, err := EncodeText(tt.args, s.Args(tt.method))
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeText(blob, s.Args(tt.method))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestTypedArgsErrors(t *testing.T) {
	s := loadLedger(t)
	tests := []struct{ method, args, wantErr string }{
		{"weird name", "(256)", "does not fit nat8"},
		{"weird name", "(1, 2, 3)", "3 values given, the method takes 2"},
		{"icrc1_balance_of", "()", "argument 0 of type Account is missing"},
		{"icrc1_balance_of", "(record { owner = 1 })", "number value where principal is expected"},
		{"icrc1_balance_of", `(record { owner = principal "aaaaa-aa"; extra = 1 })`, "field extra is not in"},
		{"icrc1_transfer", `(record { amount = 1 })`, "field to of"},
		{"tree_sum", "(variant { branch = 1 })", "alternative branch is not in"},
		{"tree_sum", "(variant { leaf = 1 : nat8 })", "annotated nat8 where int64 is expected"},
	}
	for _, tt := range tests {
		_, err := EncodeText(tt.args, s.Args(tt.method))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s%s: error %v, want one mentioning %q", tt.method, tt.args, err, tt.wantErr)
		}
	}
}

// TestDecodeReplyNames decodes a reply encoded from plain text (so the
// wire has only hashes) with the method's result types.
func TestDecodeReplyNames(t *testing.T) {
	s := loadLedger(t)
	blob, err := EncodeText(`(variant { Err = variant { GenericError = record { error_code = 3; message = "no" } } })`, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := DecodeText(blob, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `(variant { Err = variant { 260_448_849 = record { message = "no"; 3_601_615_940 = 3 } } })`; plain != want {
		t.Errorf("type-table-only:\ngot  %s\nwant %s", plain, want)
	}
	named, err := DecodeText(blob, s.Results("icrc1_transfer"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `(variant { Err = variant { GenericError = record { message = "no"; error_code = 3 } } })`; named != want {
		t.Errorf("with types:\ngot  %s\nwant %s", named, want)
	}
}

func TestParseType(t *testing.T) {
	for _, text := range []string{"opt vec nat8", "record { a : nat; 1 : text }", "variant { x; y : bool }", "func (nat) -> () query", "service { m : () -> () }"} {
		typ, err := ParseType(text)
		if err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		want := map[string]string{"opt vec nat8": "opt blob", "record { a : nat; 1 : text }": "record { 1 : text; a : nat }"}[text]
		if want == "" {
			want = text
		}
		if typ.String() != want {
			t.Errorf("%s printed as %s", text, typ)
		}
	}
	if _, err := ParseType("opt"); err == nil {
		t.Error("accepted an incomplete type")
	}
}

// TestFixtureInterface decodes a reply of the engine's Motoko fixture
// (recorded in engine/testdata/README.md) with the interface moc wrote.
func TestFixtureInterface(t *testing.T) {
	did, err := os.ReadFile("../testdata/motoko_v2.did")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseInterface(string(did))
	if err != nil {
		t.Fatal(err)
	}
	reply := []byte("DIDL\x01\x6d\x7d\x04\x7d\x71\x00\x7d\x0c\x01b\x02\x05\x07\x01")
	got, err := DecodeText(reply, s.Results("get"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `(12, "b", vec { 5; 7 }, 1)`; got != want {
		t.Errorf("get reply %s, want %s", got, want)
	}
	arg, err := EncodeText(`(5, "a")`, s.Args("add"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "DIDL\x00\x02\x7d\x71\x05\x01a"; string(arg) != want {
		t.Errorf("add argument %q, want %q", arg, want)
	}
}

func TestDecodeNamesThroughOpt(t *testing.T) {
	blob, err := EncodeText("(record { a = 1 })", nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParseType("opt record { a : nat }")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		types []*Type
		text  string
	}{
		{nil, "(record { 97 = 1 })"},
		{[]*Type{want}, "(record { a = 1 })"},
		{[]*Type{Prim(Text)}, "(record { 97 = 1 })"},
	} {
		got, err := DecodeText(blob, tt.types)
		if err != nil || got != tt.text {
			t.Errorf("DecodeText with %v = %s, %v; want %s", tt.types, got, err, tt.text)
		}
	}
}
