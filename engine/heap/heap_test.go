package heap

import (
	"bytes"
	"slices"
	"testing"
)

// backends lists every backend this platform can run; the portable one
// always runs so its logic is tested on Linux too.
func backends() map[string]func() backend {
	return map[string]func() backend{
		"default":  newBackend,
		"portable": func() backend { return &copying{} },
	}
}

func newTestHeap(t *testing.T, nb func() backend, max uint64) *Heap {
	t.Helper()
	h, err := newHeap(nb(), max)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Error(err)
		}
	})
	return h
}

// grow simulates wazero growing the memory through the allocator.
func grow(t *testing.T, h *Heap, size uint64) []byte {
	t.Helper()
	mem := h.Allocator().Allocate(0, h.Max()).Reallocate(size)
	if uint64(len(mem)) != size {
		t.Fatalf("Reallocate(%d) returned %d bytes", size, len(mem))
	}
	return mem
}

func committed(t *testing.T, h *Heap) []byte {
	t.Helper()
	p := make([]byte, h.Size())
	if err := h.ReadAt(p, 0); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCommitAndRollback(t *testing.T) {
	for name, nb := range backends() {
		t.Run(name, func(t *testing.T) {
			h := newTestHeap(t, nb, 4*WasmPageSize)
			mem := grow(t, h, 2*WasmPageSize)
			mem[10] = 1
			mem[5*OSPageSize+7] = 2
			mem[WasmPageSize+OSPageSize] = 3
			dirty, err := h.Commit()
			if err != nil {
				t.Fatal(err)
			}
			if want := []uint32{0, 5, 17}; !slices.Equal(dirty, want) {
				t.Fatalf("Commit dirty pages = %v, want %v", dirty, want)
			}
			if h.Size() != 2*WasmPageSize {
				t.Fatalf("Size = %d after commit, want %d", h.Size(), 2*WasmPageSize)
			}
			before := committed(t, h)

			// A message writes and then traps.
			mem[10] = 9
			mem[3*OSPageSize] = 9
			if d, err := h.Dirty(); err != nil || !slices.Equal(d, []uint32{0, 3}) {
				t.Fatalf("Dirty = %v, %v; want [0 3]", d, err)
			}
			if !bytes.Equal(committed(t, h), before) {
				t.Fatal("ReadAt during a message shows uncommitted bytes")
			}
			grown, err := h.Rollback()
			if err != nil || grown {
				t.Fatalf("Rollback = %v, %v; want false, nil", grown, err)
			}
			if mem[10] != 1 || mem[3*OSPageSize] != 0 {
				t.Fatalf("working memory after rollback: %d %d, want 1 0", mem[10], mem[3*OSPageSize])
			}
			if d, _ := h.Dirty(); len(d) != 0 {
				t.Fatalf("Dirty after rollback = %v, want none", d)
			}
			if got := h.Changed(); !slices.Equal(got, []uint32{0, 1}) {
				t.Fatalf("Changed = %v, want [0 1]", got)
			}
			if got := h.ChangedOSPages(); got != 3 {
				t.Fatalf("ChangedOSPages = %d, want 3", got)
			}
			h.ResetChanged()
			if got := h.Changed(); len(got) != 0 {
				t.Fatalf("Changed after reset = %v", got)
			}
		})
	}
}

func TestRollbackOfGrowth(t *testing.T) {
	for name, nb := range backends() {
		t.Run(name, func(t *testing.T) {
			h := newTestHeap(t, nb, 4*WasmPageSize)
			grow(t, h, WasmPageSize)
			if _, err := h.Commit(); err != nil {
				t.Fatal(err)
			}
			mem := grow(t, h, 3*WasmPageSize)
			mem[2*WasmPageSize+1] = 7
			grown, err := h.Rollback()
			if err != nil || !grown {
				t.Fatalf("Rollback = %v, %v; want true, nil", grown, err)
			}
			if h.Size() != WasmPageSize {
				t.Fatalf("Size = %d, want %d", h.Size(), WasmPageSize)
			}
			// Re-instantiation at the committed size, then growth again
			// must read zeros where the rolled back message wrote.
			grow(t, h, WasmPageSize)
			mem = grow(t, h, 3*WasmPageSize)
			if mem[2*WasmPageSize+1] != 0 {
				t.Fatal("growth after rollback reads a rolled back byte")
			}
		})
	}
}

func TestSnapshotLoadAndPages(t *testing.T) {
	for name, nb := range backends() {
		t.Run(name, func(t *testing.T) {
			h := newTestHeap(t, nb, 8*WasmPageSize)
			if err := h.SetSize(6 * WasmPageSize); err != nil {
				t.Fatal(err)
			}
			page := bytes.Repeat([]byte{0xab}, WasmPageSize)
			if err := h.WriteAt(page, 4*WasmPageSize); err != nil {
				t.Fatal(err)
			}
			if err := h.WriteAt(make([]byte, OSPageSize), 2*WasmPageSize); err != nil {
				t.Fatal(err)
			}
			pages, err := h.NonZeroPages()
			if err != nil || !slices.Equal(pages, []uint32{4}) {
				t.Fatalf("NonZeroPages = %v, %v; want [4]", pages, err)
			}
			mem := grow(t, h, h.Size())
			if !bytes.Equal(mem[4*WasmPageSize:5*WasmPageSize], page) {
				t.Fatal("instantiation does not see the loaded page")
			}
			if got := h.Changed(); !slices.Equal(got, []uint32{2, 4}) {
				t.Fatalf("Changed = %v, want [2 4]", got)
			}

			// Discarding the heap (upgrade) zeroes what was cut off.
			if err := h.SetSize(0); err != nil {
				t.Fatal(err)
			}
			mem = grow(t, h, 6*WasmPageSize)
			if !isZero(mem) {
				t.Fatal("heap not zero after SetSize(0)")
			}
			if pages, _ := h.NonZeroPages(); len(pages) != 0 {
				t.Fatalf("NonZeroPages after reset = %v", pages)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	for name, nb := range backends() {
		t.Run(name, func(t *testing.T) {
			if _, err := newHeap(nb(), MaxWasm32+1); err == nil {
				t.Error("reserving more than 4 GiB succeeded")
			}
			h := newTestHeap(t, nb, WasmPageSize)
			if m := h.Allocator().Allocate(0, 0).Reallocate(2 * WasmPageSize); m != nil {
				t.Error("Reallocate beyond the reservation returned memory")
			}
			if err := h.SetSize(100); err == nil {
				t.Error("SetSize(100) succeeded")
			}
			if err := h.WriteAt(make([]byte, OSPageSize), 0); err == nil {
				t.Error("WriteAt beyond the committed size succeeded")
			}
			if err := h.ReadAt(make([]byte, 1), 0); err == nil {
				t.Error("ReadAt beyond the committed size succeeded")
			}
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := h.Commit(); err != ErrClosed {
				t.Errorf("Commit after Close = %v, want ErrClosed", err)
			}
		})
	}
}

func TestAggregate(t *testing.T) {
	var s bitset
	for _, p := range []uint32{0, 15, 16, 63, 64, 200, 1000} {
		s.set(p)
	}
	if got, want := s.aggregate(16), []uint32{0, 1, 3, 4, 12, 62}; !slices.Equal(got, want) {
		t.Errorf("aggregate(16) = %v, want %v", got, want)
	}
	if got, want := s.aggregate(1), []uint32{0, 15, 16, 63, 64, 200, 1000}; !slices.Equal(got, want) {
		t.Errorf("aggregate(1) = %v, want %v", got, want)
	}
}

func TestPortable(t *testing.T) {
	h, err := NewPortable(WasmPageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if !h.Portable() {
		t.Error("NewPortable returned a heap that is not portable")
	}
}
