package trace

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
)

// TestCheckpointExportImport keeps the incident's pre_upgrade right after
// it wrote the heap into stable memory, checks the checkpoint restores to
// exactly what the session showed, and round-trips it through a dfx
// snapshot directory.
func TestCheckpointExportImport(t *testing.T) {
	f := newFixture(t)
	base := f.incident(t)
	ctx := context.Background()
	s := f.open(t, base.ID, Request{Upgrade: true})
	at := -1
	for _, e := range events(t, s) {
		if e.Kind == Syscall && e.Name == "stable64_write" {
			at = e.Index
		}
	}
	if at < 0 {
		t.Fatal("no stable64_write in the incident's pre_upgrade")
	}
	snap, err := s.Checkpoint(ctx, at, "saved")
	if err != nil {
		t.Fatal(err)
	}
	if snap.MadeBy != snapshots.MadeByCheckpoint || snap.Parent == nil || *snap.Parent != base.ID || snap.Name != "saved" {
		t.Fatalf("checkpoint = %+v, want made by checkpoint with parent %s", snap, base.ID)
	}
	if want := "checkpoint of upgrade at event 6: ic0.stable64_write(64, 0x110000, 0x100080)"; snap.Note != want {
		t.Errorf("note %q, want %q", snap.Note, want)
	}
	v, err := s.Seek(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	data := events(t, s)[at].Args[2]
	want := make([]byte, 64+data)
	if err := v.ReadStable(want, 0); err != nil {
		t.Fatal(err)
	}
	wantGlobals, err := v.Globals()
	if err != nil {
		t.Fatal(err)
	}
	wantHeap := bytes.Clone(v.heapBytes())

	run, err := f.bench.Open(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close(ctx)
	got := make([]byte, len(want))
	if err := run.Canister.ReadStable(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("the checkpoint's stable memory differs from the session's at the event")
	}
	gotHeap := make([]byte, run.Canister.HeapSize())
	if err := run.Canister.ReadHeap(gotHeap, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotHeap, wantHeap) {
		t.Error("the checkpoint's heap differs from the session's at the event")
	}
	if g := run.Canister.Globals(); !reflect.DeepEqual(g, wantGlobals) {
		t.Errorf("checkpoint globals = %v, want %v", g, wantGlobals)
	}

	m, err := f.store.Manifest(snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "export")
	if err := dfx.Export(ctx, f.store, m, dir); err != nil {
		t.Fatal(err)
	}
	imported, err := dfx.Import(ctx, f.store, dir, dfx.ImportOptions{Name: "back", CanisterID: m.CanisterID})
	if err != nil {
		t.Fatal(err)
	}
	im, err := f.store.Manifest(imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"heap", im.Heap, m.Heap},
		{"stable memory", im.Stable, m.Stable},
		{"globals", im.Globals, m.Globals},
		{"module", im.ModuleHash, m.ModuleHash},
		{"certified data", string(im.CertifiedData), string(m.CertifiedData)},
		{"timer", im.GlobalTimer, m.GlobalTimer},
		{"canister version", im.CanisterVersion, m.CanisterVersion},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s after export and import = %v, want %v", c.what, c.got, c.want)
		}
	}
	if m.Stable.Size != 65537*engine.PageSize {
		t.Errorf("checkpoint stable size = %d pages", m.Stable.Size/engine.PageSize)
	}
}
