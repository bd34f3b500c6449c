package workbench

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/snapshots/fsstore"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func u64(n uint64) []byte { return binary.LittleEndian.AppendUint64(nil, n) }

// newBench returns a bench over a fresh store and engine.
func newBench(t testing.TB) (*Bench, *fsstore.Store) {
	t.Helper()
	ctx := context.Background()
	store, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	eng, err := engine.New(engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(ctx) })
	return New(store, eng), store
}

func mustOK(t testing.TB, res engine.Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err("test"); err != nil {
		t.Fatal(err)
	}
}

// stateOf reads everything a snapshot must reproduce.
func stateOf(t *testing.T, c *engine.Canister) (heap, stable []byte, globals []engine.Global) {
	t.Helper()
	heap = make([]byte, c.HeapSize())
	if err := c.ReadHeap(heap, 0); err != nil {
		t.Fatal(err)
	}
	stable = make([]byte, c.StableSize())
	if err := c.ReadStable(stable, 0); err != nil {
		t.Fatal(err)
	}
	return heap, stable, c.Globals()
}

func TestCommitAndReopen(t *testing.T) {
	ctx := context.Background()
	b, store := newBench(t)
	run, res, err := b.Install(ctx, fixture(t, "incident.wasm"), nil, "bkyz2-fmaaa-aaaaa-qaaaq-cai")
	mustOK(t, res, err)
	defer run.Close(ctx)
	res, err = run.Canister.Update(ctx, "add_chunks", u64(3))
	mustOK(t, res, err)
	root, err := run.Commit(ctx, CommitOptions{Name: "c", MadeBy: snapshots.MadeByInstall})
	if err != nil {
		t.Fatal(err)
	}
	if root.Parent != nil || root.CanisterID != "bkyz2-fmaaa-aaaaa-qaaaq-cai" || root.Seq != 1 {
		t.Errorf("root snapshot %+v", root)
	}

	res, err = run.Canister.Update(ctx, "add", u64(100))
	mustOK(t, res, err)
	res, err = run.Canister.Update(ctx, "grow_stable", u64(4))
	mustOK(t, res, err)
	child, err := run.Commit(ctx, CommitOptions{Name: "c", MadeBy: snapshots.MadeByCall, Note: "add"})
	if err != nil {
		t.Fatal(err)
	}
	if child.Parent == nil || *child.Parent != root.ID || child.Seq != 2 {
		t.Fatalf("child %s: parent %v, seq %d; want child of %s at seq 2", child.ID.Short(), child.Parent, child.Seq, root.ID.Short())
	}

	// The child reproduces the live canister exactly.
	wantHeap, wantStable, wantGlobals := stateOf(t, run.Canister)
	reopened, err := b.Open(ctx, child.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close(ctx)
	// Stable memory comes from the store on first use, not at restore.
	if n := reopened.Canister.StableAllocated(); n != 0 {
		t.Errorf("restore read %d stable pages before any was used", n)
	}
	heap, stable, globals := stateOf(t, reopened.Canister)
	if !bytes.Equal(heap, wantHeap) || !bytes.Equal(stable, wantStable) {
		t.Error("reopened heap or stable memory differs from the committed canister")
	}
	if len(globals) != len(wantGlobals) {
		t.Fatalf("reopened globals %v, want %v", globals, wantGlobals)
	}
	for i := range globals {
		if globals[i] != wantGlobals[i] {
			t.Errorf("global %d: %v, want %v", i, globals[i], wantGlobals[i])
		}
	}
	res, err = reopened.Canister.Query(ctx, "verify", nil)
	mustOK(t, res, err)

	// The three 64 KiB entries written before the root snapshot are
	// untouched since: the child shares their pages.
	pm, err := store.Manifest(root.ID)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := store.Manifest(child.ID)
	if err != nil {
		t.Fatal(err)
	}
	shared := 0
	for _, p := range pm.Heap.Pages {
		if cm.Heap.Lookup(p.Index) == p.Hash {
			shared++
		}
	}
	if shared < 3 {
		t.Errorf("child shares %d heap pages with its parent, want at least the 3 data pages", shared)
	}
	if cm.Stable.Size != 4*snapshots.PageSize || len(cm.Stable.Pages) != 1 {
		t.Errorf("stable table %d bytes, %d pages; want 4 pages with one written", cm.Stable.Size, len(cm.Stable.Pages))
	}
}

func TestGlobalConversionRoundTrip(t *testing.T) {
	for _, g := range []engine.Global{engine.I32(-1), engine.I32(7), engine.I64(-5), engine.F32(1.5), engine.F64(-2.25), {Type: wasm.V128, Bits: 1, High: 2}} {
		s := SnapshotGlobal(g)
		back, err := engineGlobal(s)
		if err != nil || back != g {
			t.Errorf("%v → %+v → %v (%v)", g, s, back, err)
		}
	}
	// The store keeps i32 sign-extended, as dfx prints them.
	if s := SnapshotGlobal(engine.I32(-1)); s.Bits != ^uint64(0) {
		t.Errorf("i32 -1 stored as %#x, want sign-extended", s.Bits)
	}
	if _, err := engineGlobal(snapshots.Global{Kind: snapshots.KindNull}); !errors.Is(err, errNullGlobal) {
		t.Errorf("null global: %v", err)
	}
}

func TestCompat(t *testing.T) {
	ctx := context.Background()
	b, _ := newBench(t)
	load := func(name string) *engine.Module {
		m, err := b.eng.Load(ctx, fixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close(ctx) })
		return m
	}
	incident, fixed, counter := load("incident.wasm"), load("incident_fixed.wasm"), load("counter.wasm")
	run, res, err := b.Install(ctx, fixture(t, "incident.wasm"), nil, "")
	mustOK(t, res, err)
	defer run.Close(ctx)
	snap, err := run.Commit(ctx, CommitOptions{Name: "i", MadeBy: snapshots.MadeByInstall})
	if err != nil {
		t.Fatal(err)
	}
	m, err := b.store.Manifest(snap.ID)
	if err != nil {
		t.Fatal(err)
	}

	if r := Compat(m, incident, fixed); !r.OK() || len(r.RemovedExports) != 0 {
		t.Errorf("fixed module refused: %+v", r)
	}
	r := Compat(m, incident, counter)
	if r.OK() || !strings.Contains(strings.Join(r.Failed(), ";"), "globals: snapshot has 5 globals, module has 1") {
		t.Errorf("counter accepted or wrong reason: %v", r.Failed())
	}
	if len(r.RemovedExports) == 0 {
		t.Error("counter drops the incident's methods, none reported")
	}

	tiny := m.Clone()
	tiny.Heap = snapshots.PageTable{}
	if r := Compat(tiny, incident, fixed); r.OK() || !strings.Contains(strings.Join(r.Failed(), ";"), "needs at least") {
		t.Errorf("an empty heap under a module with 17 initial pages: %v", r.Failed())
	}

	rep, err := b.CheckTransplant(ctx, snap.ID, fixture(t, "counter.wasm"))
	if err != nil || rep.OK() {
		t.Errorf("CheckTransplant(counter) = %+v, %v; want a failing report", rep, err)
	}
	if _, _, err := b.Transplant(ctx, snap.ID, fixture(t, "counter.wasm"), TransplantOptions{Name: "bad"}); !errors.As(err, new(*TransplantError)) {
		t.Errorf("Transplant(counter) = %v, want a TransplantError", err)
	}
	if _, err := b.store.(*fsstore.Store).Resolve("bad"); err == nil {
		t.Error("a refused transplant wrote a snapshot")
	}
}

func TestLineDiff(t *testing.T) {
	got := lineDiff("service : {\n  a : () -> ();\n  b : () -> ();\n}", "service : {\n  a : () -> ();\n  c : () -> ();\n}")
	want := []string{"- b : () -> ();", "+ c : () -> ();"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lineDiff = %q, want %q", got, want)
	}
}

// TestPatch: a changed page that became zero (or reads as nil) leaves the
// table, a changed data page is stored and listed, an unchanged page is
// kept and a page past the new size is dropped.
func TestPatch(t *testing.T) {
	_, store := newBench(t)
	page := func(c byte) []byte { return bytes.Repeat([]byte{c}, snapshots.PageSize) }
	var old []snapshots.Page
	for i, c := range []byte{1, 2, 3, 4} {
		h, err := store.PutPage(page(c))
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, snapshots.Page{Index: uint64(i), Hash: h})
	}
	base := snapshots.PageTable{Size: 4 * snapshots.PageSize, Pages: old}
	current := map[uint64][]byte{0: make([]byte, snapshots.PageSize), 1: nil, 2: page(9), 3: page(8)}
	read := func(i uint64, buf []byte) error { copy(buf, current[i]); return nil }
	got, err := patch(store, base, 3*snapshots.PageSize, []uint64{0, 1, 2, 3}, read)
	if err != nil {
		t.Fatal(err)
	}
	want := snapshots.HashOf(page(9))
	if got.Size != 3*snapshots.PageSize || len(got.Pages) != 1 || got.Pages[0].Index != 2 || got.Pages[0].Hash != want {
		t.Fatalf("patched table %+v, want only page 2 with hash %s", got, want.Short())
	}
	buf := make([]byte, snapshots.PageSize)
	if err := store.ReadPage(want, buf); err != nil || !bytes.Equal(buf, page(9)) {
		t.Fatalf("page 2 not stored: %v", err)
	}

	// Unchanged pages stay as they were.
	got, err = patch(store, base, base.Size, []uint64{1}, func(_ uint64, buf []byte) error { copy(buf, page(7)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Pages) != 4 || got.Pages[0] != old[0] || got.Pages[2] != old[2] || got.Pages[3] != old[3] || got.Pages[1].Hash != snapshots.HashOf(page(7)) {
		t.Fatalf("patched table %+v, want pages 0, 2, 3 unchanged and page 1 replaced", got.Pages)
	}
}

// TestCommitKeepsDownloadMetadata runs a message on an imported download
// and exports the result: the download's metadata.json document survives
// (its unknown keys included) with the fields the run changed rewritten.
func TestCommitKeepsDownloadMetadata(t *testing.T) {
	ctx := context.Background()
	b, store := newBench(t)
	run, res, err := b.Install(ctx, fixture(t, "counter.wasm"), nil, "")
	mustOK(t, res, err)
	defer run.Close(ctx)
	snap, err := run.Commit(ctx, CommitOptions{Name: "c", MadeBy: snapshots.MadeByInstall})
	if err != nil {
		t.Fatal(err)
	}
	m, err := store.Manifest(snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A download from a newer dfx, with a key canscope does not know.
	download := filepath.Join(t.TempDir(), "download")
	if err := dfx.Export(ctx, store, m, download); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(download, dfx.MetadataFile)
	doc, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	doc = bytes.Replace(doc, []byte("{\n"), []byte("{\n  \"future_field\": 7,\n"), 1)
	if err := os.WriteFile(meta, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	imported, err := dfx.Import(ctx, store, download, dfx.ImportOptions{Name: "imported"})
	if err != nil {
		t.Fatal(err)
	}

	r, err := b.Open(ctx, imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	res, err = r.Canister.Update(ctx, "inc", nil)
	mustOK(t, res, err)
	child, err := r.Commit(ctx, CommitOptions{Name: "imported", MadeBy: snapshots.MadeByCall})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := store.Manifest(child.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "upload")
	if err := dfx.Export(ctx, store, cm, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, dfx.MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(`"future_field": 7`)) {
		t.Errorf("the unknown key was lost:\n%s", got)
	}
	if !bytes.Contains(got, []byte(fmt.Sprintf(`"canister_version": %d`, child.CanisterVersion))) || child.CanisterVersion == imported.CanisterVersion {
		t.Errorf("canister_version not rewritten (imported %d, child %d):\n%s", imported.CanisterVersion, child.CanisterVersion, got)
	}
}

// A run on a snapshot whose stable page was lost (restored lazily, so the
// run itself never notices) must not commit a child sharing the hole.
func TestCommitRefusesADamagedBase(t *testing.T) {
	ctx := context.Background()
	b, store := newBench(t)
	run, res, err := b.Install(ctx, fixture(t, "incident.wasm"), nil, "bkyz2-fmaaa-aaaaa-qaaaq-cai")
	mustOK(t, res, err)
	res, err = run.Canister.Update(ctx, "grow_stable", u64(4))
	mustOK(t, res, err)
	base, err := run.Commit(ctx, CommitOptions{Name: "c", MadeBy: snapshots.MadeByInstall})
	run.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := store.Manifest(base.ID)
	if err != nil || len(m.Stable.Pages) == 0 {
		t.Fatalf("base has %d stable pages (%v), want some", len(m.Stable.Pages), err)
	}
	if err := fsstore.Lose(store.Dir(), m.Stable.Pages[0].Hash); err != nil {
		t.Fatal(err)
	}
	r, err := b.Open(ctx, base.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	res, err = r.Canister.Update(ctx, "add", u64(1))
	mustOK(t, res, err)
	if _, err := r.Commit(ctx, CommitOptions{Name: "c", MadeBy: snapshots.MadeByCall}); !errors.Is(err, snapshots.ErrDamaged) || !strings.Contains(err.Error(), "stable memory page") {
		t.Errorf("commit on a damaged base: %v, want it refused as damaged", err)
	}
	if all, _ := store.List(); len(all) != 1 {
		t.Errorf("store holds %d snapshots after the refusal, want 1", len(all))
	}
}
