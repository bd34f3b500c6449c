package layout

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/canscope/canscope/snapshots"
)

// blobs is an in-memory snapshot store: pages and blobs by hash.
type blobs map[snapshots.Hash][]byte

func (b blobs) ReadPage(h snapshots.Hash, buf []byte) error {
	p, ok := b[h]
	if !ok {
		return errors.New("no such page")
	}
	copy(buf, p)
	return nil
}

func (b blobs) ReadBlob(h snapshots.Hash) ([]byte, error) {
	p, ok := b[h]
	if !ok {
		return nil, errors.New("no such blob")
	}
	return p, nil
}

// put stores mem as the stable memory of m.
func (b blobs) put(m *snapshots.Manifest, mem []byte) {
	m.Stable.Size = uint64(len(mem))
	for i := 0; i*snapshots.PageSize < len(mem); i++ {
		page := make([]byte, snapshots.PageSize)
		copy(page, mem[i*snapshots.PageSize:])
		h := snapshots.HashOf(page)
		b[h] = page
		m.Stable.Pages = append(m.Stable.Pages, snapshots.Page{Index: uint64(i), Hash: h})
	}
}

// TestRead reads a stored snapshot's layout both ways, names the snapshot
// when a page is missing, and passes the module's motoko:stable-types on.
func TestRead(t *testing.T) {
	st := blobs{}
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "ss"}}
	st.put(m, managerFixture())
	for _, d := range []Depth{Deep, Shallow} {
		l, err := Read(st, m, d)
		if err != nil {
			t.Fatal(err)
		}
		if l.Kind != KindMemoryManager || l.Describe(0) != "memory-manager header" {
			t.Errorf("depth %d: kind %s, offset 0 is %q", d, l.Kind, l.Describe(0))
		}
	}
	// A module that cannot be read only loses the Motoko names.
	m.Module = snapshots.HashOf([]byte("absent"))
	if _, err := Read(st, m, Deep); err != nil {
		t.Errorf("unreadable module: %v", err)
	}
	delete(st, m.Stable.Pages[0].Hash)
	if _, err := Read(st, m, Shallow); err == nil || !strings.Contains(err.Error(), "ss") {
		t.Errorf("missing page: %v, want an error naming the snapshot", err)
	}

	// A Motoko module's stable-variable types reach the detector.
	code, err := os.ReadFile("../testdata/motoko_v1.wasm")
	if err != nil {
		t.Fatal(err)
	}
	mo := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "mo"}, Module: snapshots.HashOf(code)}
	st[mo.Module] = code
	if got, eop := stableTypes(st, mo); !strings.Contains(got, "actor") || eop {
		t.Errorf("stable types of motoko_v1 = %q, enhanced orthogonal persistence %v", got, eop)
	}
}

// TestReadEOP: a moc 4.x canister (enhanced orthogonal persistence) keeps
// its stable variables in the heap; its empty stable memory is described
// as that, not as "none serialised".
func TestReadEOP(t *testing.T) {
	code, err := os.ReadFile("../testdata/eop_counter_v2.wasm")
	if err != nil {
		t.Fatal(err)
	}
	st := blobs{}
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "eop"}, Module: snapshots.HashOf(code)}
	st[m.Module] = code
	l, err := Read(st, m, Deep)
	if err != nil {
		t.Fatal(err)
	}
	const want = "Motoko (enhanced orthogonal persistence): 3 stable variables (count, note, upgrades), kept in the heap"
	if l.Kind != KindMotoko || l.Summary != want || l.Motoko.Persistence != "enhanced" || !strings.Contains(l.Motoko.Note, "wasm_memory_persistence keep") {
		t.Fatalf("layout %+v\nsummary %q\nwant    %q", l, l.Summary, want)
	}
	if v := l.Motoko.Variables; len(v) != 3 || v[1].Name != "note" || v[1].Type != "Text" {
		t.Errorf("variables %+v", v)
	}
}
