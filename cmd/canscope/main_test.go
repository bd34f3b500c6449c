package main

import (
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
	})
}
