package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/canscope/canscope/engine/certify"
	"github.com/canscope/canscope/engine/principal"
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
			"cmpfile":     cmpFile,
			"verifyasset": verifyAsset,
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

// verifyAsset is the `verifyasset OUT.json CANISTER PATH` testscript
// command: OUT.json is `call ... http_request --query --json`'s output; its
// reply must be a 200 HttpResponse whose IC-Certificate header verifies as
// a boundary node checks it (certify.VerifyAssetReply) against the root
// key the output names, for canister CANISTER and asset PATH.
func verifyAsset(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: verifyasset OUT.json CANISTER PATH")
	}
	var out struct {
		ReplyHex        string `json:"reply_hex"`
		DataCertificate *struct {
			RootKeyHex string `json:"root_key_hex"`
		} `json:"data_certificate"`
	}
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &out))
	if out.DataCertificate == nil {
		ts.Fatalf("%s: no data_certificate", args[0])
	}
	reply, err := hex.DecodeString(out.ReplyHex)
	ts.Check(err)
	rootKey, err := hex.DecodeString(out.DataCertificate.RootKeyHex)
	ts.Check(err)
	id, err := principal.Parse(args[1])
	ts.Check(err)
	r, err := certify.VerifyAssetReply(reply, rootKey, id, args[2])
	if err == nil && r.StatusCode != 200 {
		err = fmt.Errorf("status %d", r.StatusCode)
	}
	if (err == nil) == neg {
		ts.Fatalf("verifyasset %s: %v", args[2], err)
	}
	if err != nil {
		ts.Logf("verifyasset %s: %v", args[2], err)
	}
}
