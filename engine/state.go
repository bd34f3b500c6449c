package engine

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"

	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/principal"
	"github.com/canscope/canscope/engine/wasm"
)

// Global is the value of one wasm global as a snapshot stores it.
type Global struct {
	// Type is wasm.I32, wasm.I64, wasm.F32, wasm.F64 or wasm.V128.
	Type wasm.ValueType
	// Bits is the value's bit pattern (the low 64 bits of a v128):
	// an i32 or f32 in the low 32 bits, f32/f64 as IEEE 754 bits.
	Bits uint64
	// High holds the upper 64 bits of a v128.
	High uint64
}

// I32 returns an i32 global.
func I32(v int32) Global { return Global{Type: wasm.I32, Bits: uint64(uint32(v))} }

// I64 returns an i64 global.
func I64(v int64) Global { return Global{Type: wasm.I64, Bits: uint64(v)} }

// F32 returns an f32 global.
func F32(v float32) Global { return Global{Type: wasm.F32, Bits: uint64(math.Float32bits(v))} }

// F64 returns an f64 global.
func F64(v float64) Global { return Global{Type: wasm.F64, Bits: math.Float64bits(v)} }

// String renders the value like the dfx metadata does, e.g. "i32:42".
func (g Global) String() string {
	switch g.Type {
	case wasm.I32:
		return fmt.Sprintf("i32:%d", int32(uint32(g.Bits)))
	case wasm.I64:
		return fmt.Sprintf("i64:%d", int64(g.Bits))
	case wasm.F32:
		return fmt.Sprintf("f32:%g", math.Float32frombits(uint32(g.Bits)))
	case wasm.F64:
		return fmt.Sprintf("f64:%g", math.Float64frombits(g.Bits))
	case wasm.V128:
		return fmt.Sprintf("v128:%#016x%016x", g.High, g.Bits)
	}
	return fmt.Sprintf("%s:%#x", g.Type, g.Bits)
}

// Page is one 64 KiB page of heap or stable memory.
type Page struct {
	// Index is the page number: the page holds bytes
	// [Index*65536, (Index+1)*65536).
	Index uint64
	// Data holds the page bytes; shorter data is zero-padded.
	Data []byte
}

// PageSize is the size of the pages of State (the wasm page size).
const PageSize = 65536

// PageSource supplies the pages of a memory from elsewhere, e.g. a
// snapshot in a store. It is a stable.Backing.
type PageSource interface {
	// BackedPages lists the indices of the non-zero pages.
	BackedPages() []uint64
	// ReadPage fills dst (PageSize bytes) with page idx, one of BackedPages.
	ReadPage(idx uint64, dst []byte) error
}

// State is a canister's complete state, the contents of a snapshot. The
// engine starts from one (Engine.Restore) and hands one back
// (Canister.State); pages absent from HeapPages or StablePages are zero.
type State struct {
	// Module is the wasm module as installed (possibly gzipped); nil for a
	// canister without code.
	Module []byte
	// HeapSize is the wasm heap size in bytes (a multiple of PageSize).
	HeapSize uint64
	// HeapPages holds the heap pages that are not all zero, in any order.
	HeapPages []Page
	// StableSize is the stable memory size in bytes (a multiple of
	// PageSize).
	StableSize uint64
	// StablePages holds the stable memory pages that are not all zero.
	StablePages []Page
	// StableSource, when set, supplies the stable memory's pages on first
	// access instead of StablePages (which must then be empty): restoring
	// tens of GiB of stable memory costs RAM only for the pages a run
	// touches. Canister.State always returns StablePages.
	StableSource PageSource
	// HeapImage, when set, is the heap as a raw image (HeapSize bytes, as
	// Canister.WriteHeapImage writes it): Restore maps it copy-on-write
	// instead of loading pages, so even a 4 GiB heap opens at once; its
	// pages are read on first touch and copied only at the first commit.
	// The file must not change while the canister runs (write images
	// once under a new name). Where the heap cannot map it (the portable
	// heap) Restore falls back to HeapSource.
	HeapImage *os.File
	// HeapImageDelta, when not nil, says HeapImage is the image of another
	// heap (an ancestor snapshot's, of any size) and lists the heap pages
	// (64 KiB) whose contents differ from it: Restore maps the image's
	// first HeapSize bytes and writes these pages over the mapping, read
	// from HeapSource (a child snapshot opens at the cost of the pages it
	// changed). HeapSource.ReadPage must serve every listed page, also
	// those now zero (clearing dst). Where the heap cannot map the image,
	// Restore streams HeapSource.
	HeapImageDelta []uint64
	// HeapSource, when set, supplies the heap's pages instead of HeapPages
	// (which must then be empty); Restore streams them into the heap,
	// calling ReadPage from several goroutines at once.
	HeapSource PageSource
	// Globals follow the replica's snapshot order, as
	// read_canister_snapshot_metadata returns them: the module's exported
	// globals in export order, then every other mutable global in index
	// order, and no instruction counter (the replica drops its own when it
	// reads a snapshot and appends a fresh one on upload). Restore also
	// accepts an older list with a trailing i64 counter and drops it.
	Globals []Global
	// CertifiedData is the data set with ic0.certified_data_set.
	CertifiedData []byte
	// GlobalTimer is the timer deadline in ns since the epoch; 0 means
	// inactive.
	GlobalTimer uint64
	// CanisterVersion counts successful installs, upgrades and updates
	// of the canister's code or settings.
	CanisterVersion uint64
	// Cycles is the cycle balance; zero means ic0.DefaultCycles.
	Cycles uint64
}

// SetEnv replaces the environment for the following messages; nil means
// ic0.DefaultEnv().
func (c *Canister) SetEnv(env *ic0.Env) {
	if env == nil {
		env = ic0.DefaultEnv()
	}
	c.host.SetEnv(env)
}

// Env returns the environment messages run in.
func (c *Canister) Env() *ic0.Env { return c.host.Env() }

// ID returns the canister id in its textual form.
func (c *Canister) ID() string { return principal.Text(c.host.Env().CanisterID) }

// Module returns the installed module, nil without code.
func (c *Canister) Module() *Module {
	if c.code == nil {
		return nil
	}
	return c.code.mod
}

// Version returns the canister version.
func (c *Canister) Version() uint64 { return c.version }

// HeapSize returns the committed heap size in bytes.
func (c *Canister) HeapSize() uint64 {
	if c.code == nil {
		return 0
	}
	return c.code.heap.Size()
}

// StableSize returns the stable memory size in bytes.
func (c *Canister) StableSize() uint64 { return c.st.Stable.Bytes() }

// StableAllocated returns the number of stable pages holding memory.
func (c *Canister) StableAllocated() int { return c.st.Stable.Allocated() }

// Globals returns the committed globals in the replica's snapshot order
// (State.Globals), without an instruction counter.
func (c *Canister) Globals() []Global {
	if c.code == nil {
		return nil
	}
	return slices.Clone(c.code.committed)
}

// CertifiedData returns the certified data.
func (c *Canister) CertifiedData() []byte { return slices.Clone(c.st.CertifiedData) }

// TimerDeadline returns the global timer deadline in ns (0: inactive).
func (c *Canister) TimerDeadline() uint64 { return c.st.GlobalTimer }

// Cycles returns the cycle balance.
func (c *Canister) Cycles() ic0.Cycles { return c.st.Cycles }

// ReadHeap copies committed heap bytes at off into p.
func (c *Canister) ReadHeap(p []byte, off uint64) error {
	if c.code == nil {
		if len(p) == 0 && off == 0 {
			return nil
		}
		return errors.New("read heap: the canister has no module")
	}
	return c.code.heap.ReadAt(p, off)
}

// ReadStable copies stable memory bytes at off into p.
func (c *Canister) ReadStable(p []byte, off uint64) error {
	if err := c.st.Stable.Read(p, off); err != nil {
		return fmt.Errorf("read stable memory: %w", err)
	}
	return nil
}

// HeapPage returns committed heap page i (64 KiB).
func (c *Canister) HeapPage(i uint64) ([]byte, error) {
	p := make([]byte, PageSize)
	if err := c.ReadHeap(p, i*PageSize); err != nil {
		return nil, err
	}
	return p, nil
}

// StablePages returns the indexes of the stable pages (64 KiB) that may
// hold data, in increasing order.
func (c *Canister) StablePages() []uint64 { return c.st.Stable.Indices() }

// StablePage returns stable page i, nil when it is all zero. The slice
// must not be modified and is valid until the next message.
func (c *Canister) StablePage(i uint64) ([]byte, error) { return c.st.Stable.Page(i) }

// HeapPages returns the indexes of the committed heap pages (64 KiB) that
// are not all zero.
func (c *Canister) HeapPages() ([]uint64, error) {
	if c.code == nil {
		return nil, nil
	}
	ps, err := c.code.heap.NonZeroPages()
	if err != nil {
		return nil, err
	}
	out := make([]uint64, len(ps))
	for i, p := range ps {
		out[i] = uint64(p)
	}
	return out, nil
}

// WriteHeapImage writes the committed heap to f as a raw image for
// State.HeapImage.
func (c *Canister) WriteHeapImage(f *os.File) error {
	if c.code == nil {
		return errors.New("write heap image: the canister has no module")
	}
	return c.code.heap.WriteImage(f)
}

// Mark starts a new period for Changed, e.g. after the store persisted a
// snapshot of this canister.
func (c *Canister) Mark() {
	if c.code != nil {
		c.code.heap.ResetChanged()
		c.code.carried = nil
		c.sizeAtMark = c.code.heap.Size()
	} else {
		c.sizeAtMark = 0
	}
	c.heapReplaced = false
	c.st.Stable.Mark()
	clear(c.stableDropped)
}

// Changed returns the heap and stable pages (64 KiB) whose contents may
// differ from the state at Restore, NewCanister or the last Mark: a child
// snapshot stores only these (pages beyond the current sizes are gone).
func (c *Canister) Changed() (heapPages, stablePages []uint64) {
	if c.heapReplaced {
		n := c.sizeAtMark
		if c.code != nil {
			n = max(n, c.code.heap.Size())
		}
		for i := uint64(0); i < n/PageSize; i++ {
			heapPages = append(heapPages, i)
		}
	} else if c.code != nil {
		set := map[uint64]struct{}{}
		for _, p := range c.code.heap.Changed() {
			set[uint64(p)] = struct{}{}
		}
		for _, p := range c.code.carried {
			set[p] = struct{}{}
		}
		heapPages = slices.Sorted(maps.Keys(set))
	}
	stablePages = c.st.Stable.Changed()
	if len(c.stableDropped) > 0 {
		set := maps.Clone(c.stableDropped)
		for _, p := range stablePages {
			set[p] = struct{}{}
		}
		stablePages = slices.Sorted(maps.Keys(set))
	}
	return heapPages, stablePages
}

// State returns the canister's complete committed state.
func (c *Canister) State() (State, error) {
	st := State{
		StableSize:      c.st.Stable.Bytes(),
		CertifiedData:   slices.Clone(c.st.CertifiedData),
		GlobalTimer:     c.st.GlobalTimer,
		CanisterVersion: c.version,
		Globals:         c.Globals(),
	}
	if err := c.st.Stable.Pages(func(idx uint64, data []byte) bool {
		st.StablePages = append(st.StablePages, Page{Index: idx, Data: slices.Clone(data)})
		return true
	}); err != nil {
		return st, err
	}
	if c.code == nil {
		return st, nil
	}
	st.Module = c.code.mod.raw
	st.HeapSize = c.code.heap.Size()
	pages, err := c.HeapPages()
	if err != nil {
		return State{}, fmt.Errorf("canister state: %w", err)
	}
	for _, i := range pages {
		p, err := c.HeapPage(i)
		if err != nil {
			return State{}, fmt.Errorf("canister state: %w", err)
		}
		st.HeapPages = append(st.HeapPages, Page{Index: i, Data: p})
	}
	return st, nil
}
