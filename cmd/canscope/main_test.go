package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the real canscope entry point as a command
// inside scripts, so the CLI is tested end to end, exit codes included.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"canscope": main,
		"mkdfx":    mkdfxMain,
	})
}

// TestScripts runs every testdata/script/*.txtar: each is one operator
// session against a fresh store in $WORK.
func TestScripts(t *testing.T) {
	fixtures, err := filepath.Abs("../../engine/testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("CANSCOPE_STORE", env.WorkDir+"/store")
			env.Setenv("FIXTURES", fixtures)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"cmpfile": cmpFile,
		},
	})
}

// cmpFile is the `cmpfile GOT WANT` testscript command: cmp, except that a
// WANT from the archive may end in the one newline txtar adds. dfx and
// icp-cli write metadata.json without a final newline (serde_json's
// to_string_pretty), and a golden file must say so byte for byte.
func cmpFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: cmpfile GOT WANT")
	}
	got, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	same := bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n")))
	if same == neg {
		ts.Fatalf("%s and %s (without its final newline): same=%v\n%s", args[0], args[1], same, got)
	}
}
