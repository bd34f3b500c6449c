package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx/dfxtest"
	"github.com/canscope/canscope/snapshots/fsstore"
)

// mkdfxMain is the `mkdfx DIR [key=value|flag]...` testscript command: it
// writes a realistic dfx snapshot directory (see dfxtest.Spec). Keys:
// heap=PAGES data=I,J,.. stable=PAGES sdata=I,J,.. seed=N changed=I,..
// chunks=N version=N; flags: old-globals, unknown-key.
func mkdfxMain() {
	if err := mkdfx(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkdfx:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func mkdfx(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: mkdfx DIR [heap=N data=I,J stable=N sdata=I,J seed=N changed=I,J chunks=N version=N old-globals unknown-key]")
	}
	var spec dfxtest.Spec
	list := func(v string) ([]uint64, error) {
		var out []uint64
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, nil
	}
	for _, arg := range args[1:] {
		k, v, _ := strings.Cut(arg, "=")
		var err error
		var n uint64
		switch k {
		case "heap", "stable", "seed", "chunks", "version":
			n, err = strconv.ParseUint(v, 10, 64)
		}
		switch k {
		case "heap":
			spec.HeapPages = n
		case "stable":
			spec.StablePages = n
		case "seed":
			spec.Seed = n
		case "chunks":
			spec.Chunks = int(n)
		case "version":
			spec.Version = n
		case "data":
			spec.HeapData, err = list(v)
		case "sdata":
			spec.StableData, err = list(v)
		case "changed":
			spec.Changed, err = list(v)
		case "old-globals":
			spec.OldGlobals = true
		case "unknown-key":
			spec.UnknownKey = true
		default:
			return fmt.Errorf("unknown argument %q", arg)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", arg, err)
		}
	}
	return dfxtest.Write(args[0], spec)
}

// storeJSON runs the CLI against store and decodes its stdout as JSON.
func storeJSON(t *testing.T, store string, args ...string) map[string]any {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), append([]string{"--store", store}, args...), &out, &errOut); code != 0 {
		t.Fatalf("canscope %v: exit %d: %s", args, code, errOut.String())
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("canscope %v: not one JSON document: %v\n%s", args, err, out.String())
	}
	return doc
}

// hasKeys checks that obj has at least the keys the CLI contract names.
func hasKeys(t *testing.T, what string, obj any, keys ...string) map[string]any {
	t.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, want an object", what, obj)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s lacks %q: %v", what, k, m)
		}
	}
	return m
}

var snapshotKeys = []string{"id", "name", "seq", "parent", "made_by", "created_at", "canister_id", "taken_at",
	"canister_version", "module_hash", "heap_bytes", "stable_bytes", "heap_pages_stored", "stable_pages_stored"}

// TestStoreJSONShapes pins the JSON documents of the CLI contract
// (README.md, "Commands").
func TestStoreJSONShapes(t *testing.T) {
	tmp := t.TempDir()
	store := filepath.Join(tmp, "store")
	for i, spec := range []dfxtest.Spec{
		{HeapPages: 4, HeapData: []uint64{1}, StablePages: 2, StableData: []uint64{0}, Seed: 1},
		{HeapPages: 5, HeapData: []uint64{1, 4}, StablePages: 1, StableData: []uint64{0}, Seed: 1, Changed: []uint64{1}, Version: 3},
	} {
		dir := filepath.Join(tmp, fmt.Sprint("snap", i))
		if err := dfxtest.Write(dir, spec); err != nil {
			t.Fatal(err)
		}
		doc := storeJSON(t, store, "import", dir, "--name", "prod", "--canister-id", "aaaaa-aa", "--json")
		snap := hasKeys(t, "import --json snapshot", doc["snapshot"], snapshotKeys...)
		// The second download of prod follows the first in the lineage.
		if snap["seq"] != float64(i+1) || snap["canister_id"] != "aaaaa-aa" || (snap["parent"] == nil) != (i == 0) {
			t.Errorf("import %d: %v", i, snap)
		}
		if _, err := time.Parse(time.RFC3339, snap["created_at"].(string)); err != nil {
			t.Errorf("created_at is not RFC 3339: %v", err)
		}
	}

	ls := storeJSON(t, store, "ls", "--json")
	list, ok := ls["snapshots"].([]any)
	if damaged, isList := ls["damaged"].([]any); !ok || len(ls) != 2 || len(list) != 2 || !isList || len(damaged) != 0 {
		t.Fatalf(`ls --json = %v, want {"snapshots": [2 snapshots], "damaged": []}`, ls)
	}
	for _, s := range list {
		hasKeys(t, "ls snapshot", s, snapshotKeys...)
	}
	if list[0].(map[string]any)["seq"] != 1.0 {
		t.Error("ls --json is not oldest first")
	}

	show := storeJSON(t, store, "show", "prod", "--json")
	hasKeys(t, "show --json", show, append(snapshotKeys, "globals", "exports", "candid", "lineage")...)

	d := storeJSON(t, store, "diff", "prod@1", "prod@2", "--json", "--bytes")
	hasKeys(t, "diff --json", d, "a", "b", "heap", "stable", "globals", "metadata")
	heap := hasKeys(t, "heap memdiff", d["heap"], "page_size", "size_a", "size_b", "changed_pages", "ranges")
	stable := hasKeys(t, "stable memdiff", d["stable"], "page_size", "size_a", "size_b", "changed_pages", "ranges")
	if heap["page_size"] != 65536.0 || heap["changed_pages"] != 2.0 || stable["changed_pages"] != 1.0 {
		t.Errorf("memdiffs = %v / %v", heap, stable)
	}
	for _, r := range append(heap["ranges"].([]any), stable["ranges"].([]any)...) {
		rm := hasKeys(t, "range", r, "start", "end", "kind", "bytes")
		for _, br := range rm["bytes"].([]any) {
			hasKeys(t, "byte range", br, "start", "end")
		}
	}
	kinds := map[any]bool{}
	for _, r := range append(heap["ranges"].([]any), stable["ranges"].([]any)...) {
		kinds[r.(map[string]any)["kind"]] = true
	}
	if !kinds["changed"] || !kinds["added"] || !kinds["removed"] {
		t.Errorf("range kinds = %v, want changed, added and removed", kinds)
	}
	meta := d["metadata"].([]any)
	if len(meta) != 1 {
		t.Fatalf("metadata changes = %v, want canister_version only", meta)
	}
	mc := hasKeys(t, "metadata change", meta[0], "key", "a", "b")
	if mc["key"] != "canister_version" || mc["a"] != 0.0 || mc["b"] != 3.0 {
		t.Errorf("metadata change = %v", mc)
	}
	if g := d["globals"].([]any); len(g) != 0 {
		t.Errorf("globals changes = %v, want none", g)
	}

	fsck := storeJSON(t, store, "fsck", "--json")
	hasKeys(t, "fsck --json", fsck, "ok", "blobs_checked", "snapshots_checked", "problems")
	if fsck["ok"] != true || fsck["snapshots_checked"] != 2.0 {
		t.Errorf("fsck = %v", fsck)
	}
}

// TestFsckReportsDamage corrupts one stored page: fsck must exit 1 and
// name the snapshot and the page, in text and JSON.
func TestFsckReportsDamage(t *testing.T) {
	tmp := t.TempDir()
	store := filepath.Join(tmp, "store")
	dir := filepath.Join(tmp, "snap")
	if err := dfxtest.Write(dir, dfxtest.Spec{HeapPages: 4, HeapData: []uint64{2}, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	storeJSON(t, store, "import", dir, "--name", "prod", "--json")
	var page [dfxtest.PageSize]byte
	dfxtest.FillPage(page[:], 5, 2)
	h := sha256.Sum256(page[:])
	x := hex.EncodeToString(h[:])
	if err := fsstore.Damage(store, h, []byte("rotten")); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--store", store, "fsck"}, &out, &errOut); code != 1 {
		t.Fatalf("fsck exit %d on a damaged store; stdout %s", code, out.String())
	}
	if !strings.Contains(out.String(), "prod@1 heap page 2: corrupt_blob: heap page 2 (offset 0x20000): blob "+x[:12]) {
		t.Errorf("fsck output does not name the snapshot and page:\n%s", out.String())
	}
	if !strings.HasPrefix(errOut.String(), "canscope: fsck found 1 problems in store ") {
		t.Errorf("stderr = %q", errOut.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"--store", store, "fsck", "--json"}, &out, &errOut); code != 1 {
		t.Fatalf("fsck --json exit %d", code)
	}
	var rep struct {
		OK       bool `json:"ok"`
		Problems []struct {
			Snapshot, What, Detail string
		} `json:"problems"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.OK || len(rep.Problems) != 1 || rep.Problems[0].What != "corrupt_blob" || len(rep.Problems[0].Snapshot) != 64 {
		t.Errorf("fsck --json = %s (%v)", out.String(), err)
	}
	// Reading the damaged snapshot fails loudly instead of using bad bytes.
	if code := run(context.Background(), []string{"--store", store, "export", "prod", filepath.Join(tmp, "out"), "--force"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "corrupt") {
		t.Errorf("export of a damaged snapshot: exit %d, %s", code, errOut.String())
	}
}

func TestGlobalText(t *testing.T) {
	tests := []struct {
		g    *snapshots.Global
		want string
	}{
		{nil, "(none)"},
		{&snapshots.Global{Kind: snapshots.KindI32, Bits: 0xffffffff}, "i32 -1 (0xffffffff)"},
		{&snapshots.Global{Kind: snapshots.KindI64, Bits: 1 << 40}, "i64 1099511627776 (0x10000000000)"},
		{&snapshots.Global{Kind: snapshots.KindF32, Bits: 0x3fc00000}, "f32 1.5"},
		{&snapshots.Global{Kind: snapshots.KindNull}, "null"},
		{&snapshots.Global{Kind: snapshots.KindF64, Bits: 0x3ff8000000000000}, "f64 1.5"},
		{&snapshots.Global{Kind: snapshots.KindV128, Hi: 1, Bits: 2}, "v128 0x00000000000000010000000000000002"},
	}
	for _, tt := range tests {
		if got := globalText(tt.g); got != tt.want {
			t.Errorf("globalText(%+v) = %q, want %q", tt.g, got, tt.want)
		}
	}
}
