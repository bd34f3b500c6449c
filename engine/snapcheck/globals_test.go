package snapcheck

import (
	"os"
	"reflect"
	"testing"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/fsstore"
)

// globalsModule is engine/testdata/globals.wat: four globals in the
// replica's list, the last an i64.
func globalsModule(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/globals.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newStore(t testing.TB) *fsstore.Store {
	t.Helper()
	st, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestForExportDropsAnOldCounter: a manifest written by an older canscope
// lists the replica's instruction counter last (one i64 more than the
// module's globals); the export drops exactly that entry and nothing when
// the list already matches, even though its last entry is an i64 too.
func TestForExportDropsAnOldCounter(t *testing.T) {
	st := newStore(t)
	h, err := st.PutBlob(globalsModule(t))
	if err != nil {
		t.Fatal(err)
	}
	replica := []snapshots.Global{{Kind: snapshots.KindF64, Bits: 0x3ff8000000000000}, {Kind: snapshots.KindI32, Bits: 3}, {Kind: snapshots.KindI32}, {Kind: snapshots.KindI64, Bits: 5}}
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "g"}, Module: h}
	m.Globals = append(append([]snapshots.Global(nil), replica...), snapshots.Global{Kind: snapshots.KindI64})
	got := ForExport(st, m)
	if !reflect.DeepEqual(got.Globals, replica) {
		t.Fatalf("globals %v, want %v", got.Globals, replica)
	}
	if len(m.Globals) != 5 {
		t.Fatal("ForExport changed its argument")
	}
	m.Globals = replica
	if got = ForExport(st, m); !reflect.DeepEqual(got.Globals, replica) {
		t.Fatalf("globals %v, want %v unchanged", got.Globals, replica)
	}
}
