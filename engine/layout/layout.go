// Package layout recognises what a canister keeps in stable memory, so
// snapshots and diffs can be read as the canister's authors see them:
// the virtual memories of an ic-stable-structures MemoryManager and the
// BTreeMap, Vec, Log and Cell headers inside them, the stable variables
// a Motoko canister (classical persistence) serialised in pre_upgrade, or
// the Candid message a Rust canister's ic_cdk stable_save wrote.
//
// Not decoded: the entries inside stable structures (keys and values are
// application-defined bytes; only counts and sizes are shown), and Motoko
// formats 3 and up (graph-copy stabilisation, enhanced orthogonal
// persistence), which are recognised by version only.
//
// Everything is read through an io.ReaderAt over stable memory, a few
// small reads at known offsets, so a mostly-zero multi-GiB stable memory
// costs almost nothing. Memory that matches no known layout is not an
// error: Detect reports it as KindUnknown with a one-line reason. Read
// (snapshot.go) joins this to a stored snapshot: its pages and module.
package layout

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// wasmPageSize is the wasm page size, the unit of stable memory growth
// (and of the MemoryManager's buckets), kept here so the detectors read
// any io.ReaderAt without knowing the store's page size.
const wasmPageSize = 64 << 10

// Kind says which layout Detect recognised.
type Kind string

// The layouts Detect recognises.
const (
	// KindEmpty: stable memory has size zero.
	KindEmpty Kind = "empty"
	// KindMemoryManager: an ic-stable-structures MemoryManager ("MGR").
	KindMemoryManager Kind = "memory-manager"
	// KindStructure: one stable structure directly at offset 0, without
	// a MemoryManager.
	KindStructure Kind = "stable-structure"
	// KindMotoko: a Motoko canister (stable-types given or its stable
	// variable area found).
	KindMotoko Kind = "motoko"
	// KindCandid: a Candid message at offset 0, what Rust canisters'
	// ic_cdk::storage::stable_save writes.
	KindCandid Kind = "candid"
	// KindUnknown: none of the above.
	KindUnknown Kind = "unknown"
)

// Layout is what Detect found in a stable memory. Exactly one of Manager,
// Structure and Motoko is set for the kinds that have one.
type Layout struct {
	Kind        Kind   `json:"kind"`
	StableBytes uint64 `json:"stable_bytes"`
	// Summary is one line for lists and status bars, e.g.
	// "MemoryManager: 4 memories in 5 buckets of 1 page" or
	// "not a stable-structures layout: no MGR magic at offset 0".
	Summary   string     `json:"summary"`
	Manager   *Manager   `json:"memory_manager,omitempty"`
	Structure *Structure `json:"structure,omitempty"`
	Motoko    *Motoko    `json:"motoko,omitempty"`
	Candid    *Candid    `json:"candid,omitempty"`
}

// Detect inspects a stable memory of size bytes read through r.
// stableTypes is the module's motoko:stable-types custom section text
// ("" when it has none). The error is only for failed reads; memory that
// matches no layout gives KindUnknown.
func Detect(r io.ReaderAt, size uint64, stableTypes string) (*Layout, error) {
	return detectLayout(r, size, stableTypes, true)
}

// DetectShallow is Detect without reading serialised state: Motoko
// variables and a stable_save message are located (so Describe, MemoryAt
// and DescribeRange work the same) but not decoded, so no sizes or values.
// Labelling diff ranges and hex rows needs no more, and it costs a few
// small reads however large the serialised state is.
func DetectShallow(r io.ReaderAt, size uint64, stableTypes string) (*Layout, error) {
	return detectLayout(r, size, stableTypes, false)
}

func detectLayout(r io.ReaderAt, size uint64, stableTypes string, deep bool) (*Layout, error) {
	l := &Layout{StableBytes: size}
	if size == 0 && stableTypes == "" {
		l.Kind, l.Summary = KindEmpty, "stable memory is empty"
		return l, nil
	}
	mr := &memReader{r: r, size: size}
	head := make([]byte, min(size, headerProbe))
	if err := mr.read(head, 0); err != nil {
		return nil, err
	}
	switch {
	case hasMagic(head, managerMagic):
		m, err := readManager(mr)
		if err != nil {
			return nil, err
		}
		l.Kind, l.Manager, l.Summary = KindMemoryManager, m, m.summary()
		return l, nil
	case stableTypes == "" && knownMagic(head):
		s, err := readStructure(mr)
		if err != nil {
			return nil, err
		}
		l.Kind, l.Structure = KindStructure, s
		l.Summary = "stable structure at offset 0 (no MemoryManager): " + s.Type
		if s.Detail != "" {
			l.Summary += ", " + s.Detail
		}
		return l, nil
	}
	mo, err := readMotoko(mr, stableTypes, deep)
	if err != nil {
		return nil, err
	}
	if mo != nil {
		l.Kind, l.Motoko, l.Summary = KindMotoko, mo, mo.summary()
		return l, nil
	}
	if hasMagic(head, "DIDL") {
		c, err := readCandid(mr, deep)
		if err != nil {
			return nil, err
		}
		l.Kind, l.Candid, l.Summary = KindCandid, c, c.summary()
		return l, nil
	}
	l.Kind = KindUnknown
	l.Summary = "not a stable-structures layout: no MGR magic at offset 0"
	if size == 0 {
		l.Kind, l.Summary = KindEmpty, "stable memory is empty"
	}
	return l, nil
}

// MemoryAt returns the virtual memory id that owns a stable byte offset,
// for labelling pages and diff ranges. ok is false outside a
// MemoryManager's allocated buckets (including its header page).
func (l *Layout) MemoryAt(offset uint64) (id int, ok bool) {
	if l == nil || l.Manager == nil {
		return 0, false
	}
	return l.Manager.memoryAt(offset)
}

// Describe names what a stable byte offset belongs to, e.g.
// "memory 1 (Vec)", "memory-manager header", "Motoko stable variables";
// "" when the layout says nothing about it.
func (l *Layout) Describe(offset uint64) string {
	if l == nil {
		return ""
	}
	switch {
	case l.Manager != nil:
		return l.Manager.describe(offset)
	case l.Structure != nil && offset < l.StableBytes:
		return l.Structure.Type
	case l.Motoko != nil:
		return l.Motoko.describe(offset)
	case l.Candid != nil && offset < l.Candid.Bytes:
		return "Candid (stable_save)"
	}
	return ""
}

// DescribeRange names what the stable bytes [start, end) belong to, for a
// diff range: the distinct Describe labels in offset order, joined by
// ", ". It looks at each bucket (or region) the range touches, so a range
// of any size costs at most one step per allocated bucket.
func (l *Layout) DescribeRange(start, end uint64) string {
	if l == nil || end <= start {
		return ""
	}
	offsets := []uint64{start}
	in := func(off uint64) {
		if off > start && off < end {
			offsets = append(offsets, off)
		}
	}
	switch {
	case l.Manager != nil && l.Manager.BucketSizePages > 0:
		for b := range l.Manager.AllocatedBuckets {
			bs, be := l.Manager.StableRange(b)
			if be > start && bs < end {
				in(bs)
			}
		}
		if n := l.Manager.AllocatedBuckets; n > 0 {
			_, last := l.Manager.StableRange(n - 1)
			in(last) // the first unallocated byte
		}
	case l.Motoko != nil:
		mo := l.Motoko
		in(mo.UserPages * wasmPageSize)
		if mo.DataBytes > 0 {
			in(mo.DataOffset - 4)
			in(mo.DataOffset + mo.DataBytes)
		}
	}
	offsets = append(offsets, end-1)
	var labels []string
	seen := map[string]bool{}
	for _, off := range offsets {
		if s := l.Describe(off); s != "" && !seen[s] {
			seen[s] = true
			labels = append(labels, s)
		}
	}
	return strings.Join(labels, ", ")
}

// headerProbe is how much of the start of stable memory Detect reads to
// recognise a layout.
const headerProbe = 64

// memReader reads stable memory with bounds checks and uniform errors.
type memReader struct {
	r    io.ReaderAt
	size uint64
}

// read fills p from off; the range must lie inside the memory.
func (m *memReader) read(p []byte, off uint64) error {
	if off > m.size || uint64(len(p)) > m.size-off {
		return fmt.Errorf("read stable memory [%d, %d): beyond its %d bytes", off, off+uint64(len(p)), m.size)
	}
	n, err := m.r.ReadAt(p, int64(off))
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read stable memory at %d: %w", off, err)
}

func (m *memReader) u32(off uint64) (uint32, error) {
	var b [4]byte
	err := m.read(b[:], off)
	return binary.LittleEndian.Uint32(b[:]), err
}

func (m *memReader) u64(off uint64) (uint64, error) {
	var b [8]byte
	err := m.read(b[:], off)
	return binary.LittleEndian.Uint64(b[:]), err
}

func hasMagic(b []byte, magic string) bool {
	return len(b) >= len(magic) && string(b[:len(magic)]) == magic
}
