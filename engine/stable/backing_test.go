package stable

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// mapBacking is a Backing over pages in a map that counts its reads.
type mapBacking struct {
	pages map[uint64][]byte
	reads int
	fail  error
}

func (b *mapBacking) BackedPages() []uint64 {
	var out []uint64
	for idx := range b.pages {
		out = append(out, idx)
	}
	slices.Sort(out)
	return out
}

func (b *mapBacking) ReadPage(idx uint64, dst []byte) error {
	if b.fail != nil {
		return b.fail
	}
	b.reads++
	clear(dst)
	copy(dst, b.pages[idx])
	return nil
}

func newBacked(t testing.TB, pages uint64, b *mapBacking, cache int) *Memory {
	t.Helper()
	m, err := New(pages, Options{Backing: b, CachePages: cache})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBackingReadsOnDemand(t *testing.T) {
	b := &mapBacking{pages: map[uint64][]byte{1: []byte("one"), 5: []byte("five")}}
	m := newBacked(t, 8, b, 0)
	if m.Allocated() != 0 || b.reads != 0 {
		t.Fatalf("new backed memory holds %d pages after %d reads, want nothing read", m.Allocated(), b.reads)
	}
	if got := read(t, m, 5*PageSize, 4); string(got) != "five" {
		t.Fatalf("page 5 reads %q", got)
	}
	if got := read(t, m, 2*PageSize, 4); !bytes.Equal(got, make([]byte, 4)) {
		t.Fatalf("unbacked page 2 reads %q", got)
	}
	read(t, m, 5*PageSize, 4)
	if b.reads != 1 || m.Allocated() != 1 {
		t.Fatalf("%d backing reads, %d pages held; want 1 and 1 (the second read is cached)", b.reads, m.Allocated())
	}
	if got := m.Indices(); !slices.Equal(got, []uint64{1, 5}) {
		t.Fatalf("Indices = %v, want [1 5]", got)
	}
	if len(m.Changed()) != 0 {
		t.Fatalf("reading reported changes %v", m.Changed())
	}
}

func TestBackingWriteRollbackCommit(t *testing.T) {
	b := &mapBacking{pages: map[uint64][]byte{1: []byte("one"), 5: []byte("five")}}
	m := newBacked(t, 8, b, 1)

	// A write lands on the backed contents; rollback restores them.
	m.Begin()
	if err := m.Write(PageSize+1, []byte("NE!")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, m, PageSize, 4); string(got) != "oNE!" {
		t.Fatalf("after the write page 1 reads %q", got)
	}
	m.Rollback()
	if got := read(t, m, PageSize, 3); string(got) != "one" {
		t.Fatalf("after rollback page 1 reads %q", got)
	}

	// Zeroing a backed page makes it zero for good, not the backing's
	// contents again once it leaves memory.
	m.Begin()
	if err := m.Write(5*PageSize, make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	m.Commit()
	if !slices.Equal(m.LastChanged(), []uint64{5}) {
		t.Fatalf("LastChanged = %v, want [5]", m.LastChanged())
	}
	read(t, m, PageSize, 1) // evicts what the one-page cache may hold
	if p, err := m.Page(5); p != nil || err != nil {
		t.Fatalf("zeroed backed page 5 = %q, %v; want zero", p, err)
	}
	if got := m.Indices(); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("Indices = %v, want [1]", got)
	}
}

func TestBackingCacheIsBounded(t *testing.T) {
	b := &mapBacking{pages: map[uint64][]byte{}}
	for i := range uint64(32) {
		b.pages[i] = []byte{byte(i + 1)}
	}
	m := newBacked(t, 32, b, 4)
	for range 2 {
		for i := range uint64(32) {
			if got := read(t, m, i*PageSize, 1); got[0] != byte(i+1) {
				t.Fatalf("page %d reads %d", i, got[0])
			}
			if m.Allocated() > 4 {
				t.Fatalf("%d pages held with a cache of 4", m.Allocated())
			}
		}
	}
	// Written pages stay whatever the cache holds.
	for i := range uint64(8) {
		if err := m.Write(i*PageSize+1, []byte{0xee}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range uint64(32) {
		read(t, m, i*PageSize, 1)
	}
	for i := range uint64(8) {
		if got := read(t, m, i*PageSize, 2); got[0] != byte(i+1) || got[1] != 0xee {
			t.Fatalf("written page %d reads %x", i, got)
		}
	}
}

func TestBackingErrors(t *testing.T) {
	broken := errors.New("blob corrupt")
	b := &mapBacking{pages: map[uint64][]byte{2: []byte("x")}, fail: broken}
	m := newBacked(t, 4, b, 0)
	if err := m.Read(make([]byte, 1), 2*PageSize); !errors.Is(err, broken) {
		t.Fatalf("Read = %v, want the backing's error", err)
	}
	// A write across a backed page that cannot be read writes nothing.
	if err := m.Write(2*PageSize-2, []byte("abcd")); !errors.Is(err, broken) {
		t.Fatalf("Write = %v, want the backing's error", err)
	}
	b.fail = nil
	if got := read(t, m, 2*PageSize-2, 3); string(got) != "\x00\x00x" {
		t.Fatalf("after the failed write: %q", got)
	}
	if _, err := New(2, Options{Backing: b}); err == nil {
		t.Fatal("a backing page past the end was accepted")
	}
}

// TestBackingDifferential runs random messages on a backed memory with a
// tiny cache and on a flat byte slice: they must always read the same.
func TestBackingDifferential(t *testing.T) {
	const pages = 16
	rng := rand.New(rand.NewPCG(1, 2))
	b := &mapBacking{pages: map[uint64][]byte{}}
	flat := make([]byte, pages*PageSize)
	for _, i := range []uint64{0, 3, 4, 9, 15} {
		data := make([]byte, PageSize)
		for j := range data {
			data[j] = byte(rng.IntN(256))
		}
		b.pages[i] = data
		copy(flat[i*PageSize:], data)
	}
	m := newBacked(t, pages, b, 2)
	for round := range 300 {
		m.Begin()
		committed := slices.Clone(flat)
		for range 1 + rng.IntN(4) {
			off := rng.Uint64N(pages*PageSize - 300)
			n := rng.IntN(300)
			src := make([]byte, n)
			if rng.IntN(3) > 0 {
				for j := range src {
					src[j] = byte(rng.IntN(256))
				}
			}
			if err := m.Write(off, src); err != nil {
				t.Fatal(err)
			}
			copy(flat[off:], src)
		}
		if rng.IntN(2) == 0 {
			m.Rollback()
			flat = committed
		} else {
			m.Commit()
		}
		for range 4 {
			off := rng.Uint64N(pages*PageSize - 500)
			if got := read(t, m, off, 500); !bytes.Equal(got, flat[off:off+500]) {
				t.Fatalf("round %d: read at %d differs from the model", round, off)
			}
		}
	}
	if err := m.Pages(func(idx uint64, data []byte) bool {
		if !bytes.Equal(data, flat[idx*PageSize:(idx+1)*PageSize]) {
			t.Errorf("Pages: page %d differs from the model", idx)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
}

// A message overwriting backed pages whole does not read them (the
// backing is their committed copy): rollback returns to the backing and
// commit reports only the pages whose bytes changed.
func TestWholePageOverwriteLeavesBacking(t *testing.T) {
	old1, old2 := bytes.Repeat([]byte{1}, PageSize), bytes.Repeat([]byte{2}, PageSize)
	b := &mapBacking{pages: map[uint64][]byte{1: old1, 2: old2}}
	m := newBacked(t, 4, b, 0)
	new1 := bytes.Repeat([]byte{9}, PageSize)
	overwrite := func() {
		m.Begin()
		if err := m.Write(PageSize, append(slices.Clone(new1), old2...)); err != nil {
			t.Fatal(err)
		}
		if b.reads != 0 {
			t.Fatalf("overwriting two backed pages whole read %d of them", b.reads)
		}
		if got := read(t, m, PageSize, 1); got[0] != 9 {
			t.Fatalf("page 1 reads %d after the write", got[0])
		}
	}
	overwrite()
	m.Rollback()
	if got := read(t, m, PageSize, PageSize); !bytes.Equal(got, old1) {
		t.Fatalf("page 1 reads %d after the rollback, want the backing's 1", got[0])
	}
	b.reads = 0
	m = newBacked(t, 4, b, 0)
	overwrite()
	m.Commit()
	if got := m.LastChanged(); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("LastChanged %v, want [1] (page 2 was written with its own bytes)", got)
	}
	if got := read(t, m, PageSize, PageSize); !bytes.Equal(got, new1) {
		t.Fatal("page 1 lost the committed write")
	}
	if got := read(t, m, 2*PageSize, PageSize); !bytes.Equal(got, old2) {
		t.Fatal("page 2 changed")
	}
}
