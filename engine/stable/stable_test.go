package stable

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
)

func newMem(t testing.TB, pages uint64) *Memory {
	t.Helper()
	m, err := New(pages, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func read(t testing.TB, m *Memory, off uint64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if err := m.Read(b, off); err != nil {
		t.Fatalf("read %d bytes at %d: %v", n, off, err)
	}
	return b
}

func TestNewRespectsMax(t *testing.T) {
	if _, err := New(11, Options{MaxPages: 10}); err == nil {
		t.Fatal("New(11) with max 10 succeeded")
	}
	m, err := New(MaxPages, Options{})
	if err != nil {
		t.Fatalf("New(MaxPages): %v", err)
	}
	if m.Allocated() != 0 {
		t.Fatalf("a 500 GiB memory allocated %d pages", m.Allocated())
	}
}

func TestGrow(t *testing.T) {
	m, err := New(0, Options{MaxPages: 100})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		n       uint64
		wantOld uint64
		wantOK  bool
		size    uint64
	}{
		{0, 0, true, 0},
		{10, 0, true, 10},
		{90, 10, true, 100},
		{1, 100, false, 100},
		{^uint64(0), 100, false, 100},
	}
	for _, tt := range tests {
		old, ok := m.Grow(tt.n)
		if old != tt.wantOld || ok != tt.wantOK || m.Size() != tt.size {
			t.Errorf("Grow(%d) = %d, %v, size %d; want %d, %v, size %d", tt.n, old, ok, m.Size(), tt.wantOld, tt.wantOK, tt.size)
		}
	}
}

func TestReadWriteAcrossPages(t *testing.T) {
	m := newMem(t, 3)
	data := bytes.Repeat([]byte("canscope"), PageSize/4) // two pages long
	off := uint64(PageSize - 100)
	if err := m.Write(off, data); err != nil {
		t.Fatal(err)
	}
	if got := read(t, m, off, len(data)); !bytes.Equal(got, data) {
		t.Fatal("read back differs from written data")
	}
	if got := read(t, m, 0, 10); !bytes.Equal(got, make([]byte, 10)) {
		t.Fatalf("unwritten bytes = %x, want zero", got)
	}
	if m.Allocated() != 3 {
		t.Fatalf("allocated %d pages, want 3", m.Allocated())
	}
}

func TestOutOfBounds(t *testing.T) {
	m := newMem(t, 1)
	tests := []struct {
		name string
		off  uint64
		n    int
	}{
		{"past end", PageSize - 1, 2},
		{"at end", PageSize, 1},
		{"overflow", ^uint64(0), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := bytes.Repeat([]byte{7}, tt.n)
			if err := m.Read(buf, tt.off); !errors.Is(err, ErrOutOfBounds) {
				t.Errorf("Read: err = %v, want ErrOutOfBounds", err)
			}
			if !bytes.Equal(buf, bytes.Repeat([]byte{7}, tt.n)) {
				t.Error("failed Read changed dst")
			}
			if err := m.Write(tt.off, buf); !errors.Is(err, ErrOutOfBounds) {
				t.Errorf("Write: err = %v, want ErrOutOfBounds", err)
			}
		})
	}
	if m.Allocated() != 0 {
		t.Fatal("failed writes allocated pages")
	}
	if err := m.Read(nil, PageSize); err != nil {
		t.Fatalf("empty read at the end: %v", err)
	}
}

func TestRollbackRestoresPagesAndSize(t *testing.T) {
	m := newMem(t, 2)
	if err := m.Write(10, []byte("committed")); err != nil {
		t.Fatal(err)
	}
	m.Mark()

	m.Begin()
	if _, ok := m.Grow(5); !ok {
		t.Fatal("grow failed")
	}
	for _, off := range []uint64{10, PageSize + 1, 6 * PageSize} {
		if err := m.Write(off, []byte("message")); err != nil {
			t.Fatal(err)
		}
	}
	if m.Touched() != 3 {
		t.Fatalf("Touched = %d, want 3", m.Touched())
	}
	m.Rollback()

	if m.Size() != 2 {
		t.Fatalf("size after rollback = %d, want 2", m.Size())
	}
	if got := read(t, m, 10, 9); string(got) != "committed" {
		t.Fatalf("page 0 after rollback = %q", got)
	}
	if got := read(t, m, PageSize+1, 7); !bytes.Equal(got, make([]byte, 7)) {
		t.Fatalf("page 1 after rollback = %q, want zero", got)
	}
	if m.Allocated() != 1 {
		t.Fatalf("allocated %d pages after rollback, want 1", m.Allocated())
	}
	if len(m.LastChanged()) != 0 || len(m.Changed()) != 0 {
		t.Fatalf("rolled back message reported changes: last %v, since mark %v", m.LastChanged(), m.Changed())
	}
}

func TestCommitReportsChangedPages(t *testing.T) {
	m := newMem(t, 10)
	if err := m.Write(3*PageSize, []byte{1}); err != nil {
		t.Fatal(err)
	}
	m.Mark()

	m.Begin()
	writes := []struct {
		off  uint64
		data []byte
	}{
		{5 * PageSize, []byte{9}},
		{3 * PageSize, []byte{1}},      // same byte: not a change
		{7*PageSize + 5, []byte{0, 0}}, // zero into a zero page: not a change
		{2*PageSize - 1, []byte{4, 4}}, // spans pages 1 and 2
	}
	for _, w := range writes {
		if err := m.Write(w.off, w.data); err != nil {
			t.Fatal(err)
		}
	}
	m.Commit()
	if want := []uint64{1, 2, 5}; !slices.Equal(m.LastChanged(), want) {
		t.Fatalf("LastChanged = %v, want %v", m.LastChanged(), want)
	}

	m.Begin()
	if err := m.Write(3*PageSize, []byte{0}); err != nil { // page 3 back to zero
		t.Fatal(err)
	}
	m.Commit()
	if want := []uint64{3}; !slices.Equal(m.LastChanged(), want) {
		t.Fatalf("LastChanged = %v, want %v", m.LastChanged(), want)
	}
	if want := []uint64{1, 2, 3, 5}; !slices.Equal(m.Changed(), want) {
		t.Fatalf("Changed = %v, want %v", m.Changed(), want)
	}
	if p, err := m.Page(3); p != nil || err != nil {
		t.Fatalf("page 3 became zero but is still allocated (%v)", err)
	}
	m.Mark()
	if len(m.Changed()) != 0 {
		t.Fatalf("Changed after Mark = %v", m.Changed())
	}
}

func TestBeginCommitsOpenMessage(t *testing.T) {
	m := newMem(t, 1)
	m.Begin()
	if err := m.Write(0, []byte{1}); err != nil {
		t.Fatal(err)
	}
	m.Begin() // commits the first message
	m.Rollback()
	if got := read(t, m, 0, 1); got[0] != 1 {
		t.Fatal("second Begin did not commit the open message")
	}
}

func TestCommitAndRollbackWithoutBeginDoNothing(t *testing.T) {
	m := newMem(t, 1)
	if err := m.Write(0, []byte{1}); err != nil {
		t.Fatal(err)
	}
	m.Rollback()
	m.Commit()
	if got := read(t, m, 0, 1); got[0] != 1 {
		t.Fatal("Rollback without Begin undid a write")
	}
	if want := []uint64{0}; !slices.Equal(m.Changed(), want) {
		t.Fatalf("Changed = %v, want %v", m.Changed(), want)
	}
}

func TestLoadPageAndPages(t *testing.T) {
	m := newMem(t, 8)
	pages := map[uint64][]byte{
		1: bytes.Repeat([]byte{1}, PageSize),
		4: []byte("short page"),
		6: make([]byte, PageSize), // zero: not stored
	}
	for idx, data := range pages {
		if err := m.LoadPage(idx, data); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.Changed()) != 0 {
		t.Fatalf("loading reported changes %v", m.Changed())
	}
	var got []uint64
	if err := m.Pages(func(idx uint64, data []byte) bool {
		got = append(got, idx)
		want := make([]byte, PageSize)
		copy(want, pages[idx])
		if !bytes.Equal(data, want) {
			t.Errorf("page %d differs", idx)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if want := []uint64{1, 4}; !slices.Equal(got, want) {
		t.Fatalf("Pages yielded %v, want %v", got, want)
	}

	bad := []struct {
		name string
		idx  uint64
		data []byte
	}{
		{"past end", 8, []byte{1}},
		{"too long", 0, make([]byte, PageSize+1)},
	}
	for _, tt := range bad {
		if err := m.LoadPage(tt.idx, tt.data); err == nil {
			t.Errorf("LoadPage %s succeeded", tt.name)
		}
	}
	m.Begin()
	if err := m.LoadPage(0, []byte{1}); err == nil {
		t.Error("LoadPage inside a message succeeded")
	}
	m.Rollback()
}

func TestPagesStopsEarly(t *testing.T) {
	m := newMem(t, 4)
	for i := range uint64(4) {
		if err := m.Write(i*PageSize, []byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	m.Pages(func(uint64, []byte) bool { n++; return n < 2 })
	if n != 2 {
		t.Fatalf("Pages called yield %d times after it returned false at 2", n)
	}
}

// TestSparseBeyond4GiB grows past the 32-bit limit and writes at the top,
// the incident's shape: RAM use follows the pages written, not the size.
func TestSparseBeyond4GiB(t *testing.T) {
	m := newMem(t, 0)
	if _, ok := m.Grow(Pages32 * 5 / 4); !ok {
		t.Fatal("grow to 5 GiB failed")
	}
	top := m.Bytes() - 8
	if err := m.Write(top, []byte("the end!")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, m, top, 8); string(got) != "the end!" {
		t.Fatalf("read %q", got)
	}
	if m.Allocated() != 1 {
		t.Fatalf("allocated %d pages, want 1", m.Allocated())
	}
}

func FuzzRollback(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, uint64(100), uint64(5))
	f.Add([]byte("hello world"), uint64(PageSize-3), uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, off uint64, grow uint64) {
		m := newMem(t, 4)
		if err := m.Write(PageSize, []byte("base")); err != nil {
			t.Fatal(err)
		}
		var before bytes.Buffer
		m.Pages(func(idx uint64, d []byte) bool { fmt.Fprintf(&before, "%d:%x;", idx, d); return true })
		m.Begin()
		m.Grow(grow % 16)
		_ = m.Write(off%m.Bytes(), data) // may be out of bounds: then nothing is written
		m.Rollback()
		var after bytes.Buffer
		m.Pages(func(idx uint64, d []byte) bool { fmt.Fprintf(&after, "%d:%x;", idx, d); return true })
		if m.Size() != 4 || !bytes.Equal(before.Bytes(), after.Bytes()) {
			t.Fatal("rollback did not restore the memory")
		}
	})
}

// benchMemory returns a 5 GiB stable memory whose pages at multiples of
// stride hold data, as after loading a snapshot.
func benchMemory(b *testing.B, touched int) (m *Memory, stride uint64) {
	m = newMem(b, Pages32*5/4)
	stride = m.Size() / uint64(touched)
	data := bytes.Repeat([]byte{0xab}, PageSize)
	for i := range uint64(touched) {
		if err := m.LoadPage(i*stride, data); err != nil {
			b.Fatal(err)
		}
	}
	return m, stride
}

// BenchmarkRollback measures a message that writes 8 bytes into each of N
// pages holding data in a 5 GiB stable memory, then rolls back: the cost
// follows N, not the size.
func BenchmarkRollback(b *testing.B) {
	for _, touched := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("pages=%d", touched), func(b *testing.B) {
			m, stride := benchMemory(b, touched)
			val := []byte{1, 2, 3, 4, 5, 6, 7, 8}
			for b.Loop() {
				m.Begin()
				for i := range uint64(touched) {
					if err := m.Write(i*stride*PageSize, val); err != nil {
						b.Fatal(err)
					}
				}
				m.Rollback()
			}
		})
	}
}

// BenchmarkCommit is BenchmarkRollback with a commit, which also computes
// the changed-page report.
func BenchmarkCommit(b *testing.B) {
	for _, touched := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("pages=%d", touched), func(b *testing.B) {
			m, stride := benchMemory(b, touched)
			var n uint64
			for b.Loop() {
				n++
				val := []byte{byte(n), byte(n >> 8), 1}
				m.Begin()
				for i := range uint64(touched) {
					if err := m.Write(i*stride*PageSize, val); err != nil {
						b.Fatal(err)
					}
				}
				m.Commit()
			}
		})
	}
}

// FuzzAgainstFlat runs a random program of writes, reads, growth and
// message boundaries on a Memory and on a flat byte slice with snapshot
// copies, and checks they agree at every read and at the end.
func FuzzAgainstFlat(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{3, 0, 0, 7, 1, 200, 9, 4, 5, 0, 2, 9, 1, 1})
	f.Fuzz(func(t *testing.T, prog []byte) {
		const small = 3 * PageSize / 2 // offsets spread over a few pages
		m, err := New(1, Options{MaxPages: 6})
		if err != nil {
			t.Fatal(err)
		}
		flat := make([]byte, PageSize)
		var saved []byte // flat at Begin, nil when no message is open
		next := func() byte {
			if len(prog) == 0 {
				return 0
			}
			b := prog[0]
			prog = prog[1:]
			return b
		}
		for len(prog) > 0 {
			op := next() % 6
			off := (uint64(next())<<8 | uint64(next())) * 37 % small
			n := int(next() % 200)
			if n > 150 { // sometimes large, to push pages past the undo log
				n *= 150
			}
			switch op {
			case 0, 1: // write
				data := bytes.Repeat([]byte{next() | 1}, n)
				err := m.Write(off, data)
				if inside := off+uint64(n) <= uint64(len(flat)); inside != (err == nil) {
					t.Fatalf("write %d at %d of %d: err %v", n, off, len(flat), err)
				}
				if err == nil {
					copy(flat[off:], data)
				}
			case 2: // read
				got := make([]byte, n)
				err := m.Read(got, off)
				if inside := off+uint64(n) <= uint64(len(flat)); inside != (err == nil) {
					t.Fatalf("read %d at %d of %d: err %v", n, off, len(flat), err)
				}
				if err == nil && !bytes.Equal(got, flat[off:off+uint64(n)]) {
					t.Fatalf("read %d at %d differs", n, off)
				}
			case 3: // grow
				if _, ok := m.Grow(uint64(n % 3)); ok {
					flat = append(flat, make([]byte, n%3*PageSize)...)
				}
			case 4: // begin
				m.Begin()
				saved = bytes.Clone(flat)
			case 5: // commit or rollback
				if saved != nil && n%2 == 0 {
					flat = saved
				}
				if n%2 == 0 {
					m.Rollback()
				} else {
					m.Commit()
				}
				saved = nil
			}
		}
		m.Commit()
		if m.Bytes() != uint64(len(flat)) {
			t.Fatalf("size %d, model %d", m.Bytes(), len(flat))
		}
		got := make([]byte, len(flat))
		if err := m.Read(got, 0); err != nil || !bytes.Equal(got, flat) {
			t.Fatalf("final contents differ (err %v)", err)
		}
	})
}

// TestHeavyWritesToOnePage writes more than a page's worth of bytes into
// one committed page, which moves it from the undo log to a saved copy
// midway, and checks rollback and commit on both sides of the switch.
func TestHeavyWritesToOnePage(t *testing.T) {
	base := bytes.Repeat([]byte("committed page "), PageSize/15+1)[:PageSize]
	for _, commit := range []bool{false, true} {
		t.Run(fmt.Sprintf("commit=%v", commit), func(t *testing.T) {
			m := newMem(t, 2)
			if err := m.LoadPage(1, base); err != nil {
				t.Fatal(err)
			}
			want := bytes.Clone(base)
			m.Begin()
			for i := range 100 {
				off := uint64(i*997) % (PageSize - 1000)
				data := bytes.Repeat([]byte{byte(i + 1)}, 1000)
				if err := m.Write(PageSize+off, data); err != nil {
					t.Fatal(err)
				}
				copy(want[off:], data)
			}
			if commit {
				m.Commit()
			} else {
				m.Rollback()
				want = base
			}
			if got := read(t, m, PageSize, PageSize); !bytes.Equal(got, want) {
				t.Fatal("page contents differ from the model")
			}
			if wantChanged := commit; (len(m.LastChanged()) == 1) != wantChanged {
				t.Fatalf("LastChanged = %v", m.LastChanged())
			}
		})
	}
}

// TestWriteThenRestoreIsNoChange: a page written and written back within
// one message is not reported, whichever undo path it took.
func TestWriteThenRestoreIsNoChange(t *testing.T) {
	for _, size := range []int{8, PageSize / 2} {
		m := newMem(t, 1)
		orig := bytes.Repeat([]byte{5}, size)
		if err := m.Write(0, orig); err != nil {
			t.Fatal(err)
		}
		m.Begin()
		for _, data := range [][]byte{bytes.Repeat([]byte{6}, size), bytes.Repeat([]byte{7}, size), orig} {
			if err := m.Write(0, data); err != nil {
				t.Fatal(err)
			}
		}
		m.Commit()
		if len(m.LastChanged()) != 0 {
			t.Errorf("size %d: LastChanged = %v, want none", size, m.LastChanged())
		}
	}
}
