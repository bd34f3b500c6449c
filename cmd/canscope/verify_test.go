package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// canscopeCode runs the CLI against store and returns its exit code,
// stdout and stderr.
func canscopeCode(store string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"--store", store}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestUpgradeVerify is upgrade --verify on real canisters: data that
// survives (same, exit 0), data an upgrade loses (the incident with
// skip_pre_upgrade: differs, exit 3) and a query that traps after the
// upgrade (counter_half's post_upgrade restores half the state: exit 3).
func TestUpgradeVerify(t *testing.T) {
	tmp := t.TempDir()
	store := filepath.Join(tmp, "store")
	fx := func(name string) string { return filepath.Join("..", "..", "engine", "testdata", name) }
	must := func(args ...string) {
		t.Helper()
		if code, _, stderr := canscopeCode(store, args...); code != 0 {
			t.Fatalf("canscope %v: exit %d: %s", args, code, stderr)
		}
	}
	verify := func(t *testing.T, wantCode int, args ...string) []verifyJSON {
		t.Helper()
		code, stdout, stderr := canscopeCode(store, append(args, "--json")...)
		if code != wantCode {
			t.Fatalf("canscope %v: exit %d, want %d: %s", args, code, wantCode, stderr)
		}
		var doc struct{ Verify []verifyJSON }
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, stdout)
		}
		if wantCode == exitTrapped && !strings.Contains(stderr, "verify: ") {
			t.Errorf("stderr %q does not say the verification failed", stderr)
		}
		return doc.Verify
	}

	t.Run("same", func(t *testing.T) {
		must("install", fx("rust_ledger.wasm"), "--name", "led")
		must("call", "led", "insert", "--arg", "(5 : nat64)", "--commit")
		vs := verify(t, 0, "upgrade", "led", "--rehearse", "--verify")
		// --verify alone: the argument-less queries of candid:service.
		if len(vs) != 2 || vs[0].Method != "checksum" || vs[1].Method != "count" {
			t.Fatalf("verified %+v, want checksum and count", vs)
		}
		for _, v := range vs {
			if !v.Same || len(v.After) != 2 || v.Arg != "()" || v.Before.Status != "ok" {
				t.Errorf("%s: %+v, want the same reply before and after both steps", v.Method, v)
			}
		}
		if vs[1].Before.Candid != "(5 : nat64)" {
			t.Errorf("count before = %q", vs[1].Before.Candid)
		}
		// A changed checksum function: differs, unless ignored.
		vs = verify(t, exitTrapped, "upgrade", "led", "--wasm", fx("rust_ledger_changed.wasm"), "--verify")
		if vs[0].Same || !vs[1].Same {
			t.Errorf("changed checksum: %+v", vs)
		}
		verify(t, 0, "upgrade", "led", "--wasm", fx("rust_ledger_changed.wasm"), "--verify", "--verify-ignore", "checksum")
	})

	t.Run("lost", func(t *testing.T) {
		must("install", fx("incident.wasm"), "--name", "prod")
		must("call", "prod", "add_chunks", "--arg-hex", "0300000000000000", "--commit")
		list := filepath.Join(tmp, "queries")
		if err := os.WriteFile(list, []byte("# the incident's state\nstats\n\nverify\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		vs := verify(t, exitTrapped, "upgrade", "prod", "--skip-pre-upgrade", "--verify-file", list)
		if len(vs) != 2 {
			t.Fatalf("verified %+v", vs)
		}
		for _, v := range vs {
			if v.Same || v.Before.Hex == v.After[0].Hex || v.After[0].Status != "ok" {
				t.Errorf("%s after skip_pre_upgrade: %+v, want different replies", v.Method, v)
			}
		}
		// The real pre_upgrade keeps them.
		verify(t, 0, "upgrade", "prod", "--verify-query", "stats")
	})

	t.Run("traps", func(t *testing.T) {
		must("install", fx("counter.wasm"), "--name", "c")
		must("call", "c", "inc", "--arg-hex", "0500000000000000", "--commit")
		vs := verify(t, exitTrapped, "upgrade", "c", "--wasm", fx("counter_half.wasm"), "--verify-query", "get")
		if len(vs) != 1 || vs[0].Before.Status != "ok" || len(vs[0].After) != 1 ||
			vs[0].After[0].Status != "trapped" || !strings.Contains(vs[0].After[0].Error, "counter: global and heap disagree") {
			t.Fatalf("counter_half: %+v, want get to trap after the upgrade", vs)
		}
		code, stdout, _ := canscopeCode(store, "upgrade", "c", "--wasm", fx("counter_half.wasm"), "--verify-query", "get")
		if code != exitTrapped || !strings.Contains(stdout, "traps after upgrade: trapped:") {
			t.Errorf("text output (exit %d):\n%s", code, stdout)
		}
	})

	t.Run("bad flags", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"upgrade", "c", "--verify"}, "declares no query without arguments"},
			{[]string{"upgrade", "c", "--verify-query", "inc"}, `exports no query "inc"`},
			{[]string{"upgrade", "c", "--verify-ignore", "get"}, "--verify-ignore needs --verify"},
			{[]string{"upgrade", "led", "--verify-query", "count (1, 2"}, `--verify-query "count (1, 2"`},
		} {
			if code, _, stderr := canscopeCode(store, tt.args...); code != exitError || !strings.Contains(stderr, tt.want) {
				t.Errorf("%v: exit %d, %q; want exit 1 and %q", tt.args, code, stderr, tt.want)
			}
		}
	})
}
