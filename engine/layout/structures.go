package layout

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Magic numbers of the ic-stable-structures data structures, each at
// offset 0 of the memory the structure owns.
const (
	btreeMagic    = "BTR" // StableBTreeMap (and BTreeSet)
	vecMagic      = "SVC" // StableVec
	minHeapMagic  = "SMH" // StableMinHeap
	logIndexMagic = "GLI" // StableLog index memory
	logDataMagic  = "GLD" // StableLog data memory
	cellMagic     = "SCL" // StableCell
)

// Structure is the header of a stable structure found at the start of a
// (virtual) memory.
type Structure struct {
	// Type is "BTreeMap", "Vec", "MinHeap", "Log index", "Log data",
	// "Cell" or "unknown".
	Type    string `json:"type"`
	Magic   string `json:"magic,omitempty"`
	Version int    `json:"version"`
	// Entries is the element count where the header holds one (BTreeMap
	// length, Vec/MinHeap length, Log entries).
	Entries *uint64 `json:"entries,omitempty"`
	// Bounds of a BTreeMap V1 (and V2 with derived page size) or the max
	// element size of a Vec/MinHeap.
	MaxKeySize   uint32 `json:"max_key_size,omitempty"`
	MaxValueSize uint32 `json:"max_value_size,omitempty"`
	// PageSize is a BTreeMap V2's node page size when stored directly.
	PageSize    uint32  `json:"page_size,omitempty"`
	RootAddress *uint64 `json:"root_address,omitempty"`
	FixedSize   bool    `json:"fixed_size,omitempty"`
	// DataBytes is a Log's total entry bytes or a Cell's value length.
	DataBytes *uint64 `json:"data_bytes,omitempty"`
	// Detail is a one-line human description.
	Detail string `json:"detail,omitempty"`
}

func knownMagic(b []byte) bool {
	for _, m := range []string{btreeMagic, vecMagic, minHeapMagic, logIndexMagic, logDataMagic, cellMagic} {
		if hasMagic(b, m) {
			return true
		}
	}
	return false
}

// readStructure decodes the header at offset 0 of a memory. It returns
// nil for an all-zero (unused) start and an "unknown" structure for other
// content.
func readStructure(mr *memReader) (*Structure, error) {
	if mr.size == 0 {
		return nil, nil
	}
	head := make([]byte, min(mr.size, headerProbe))
	if err := mr.read(head, 0); err != nil {
		return nil, err
	}
	s := &Structure{}
	if len(head) >= 4 {
		s.Version = int(head[3])
	}
	le32 := func(off int) uint32 {
		if off+4 > len(head) {
			return 0
		}
		return binary.LittleEndian.Uint32(head[off:])
	}
	le64 := func(off int) uint64 {
		if off+8 > len(head) {
			return 0
		}
		return binary.LittleEndian.Uint64(head[off:])
	}
	switch {
	case hasMagic(head, btreeMagic):
		s.Type, s.Magic = "BTreeMap", btreeMagic
		if s.Version != 1 && s.Version != 2 {
			s.Detail = fmt.Sprintf("unsupported layout version %d", s.Version)
			return s, nil
		}
		a, b := le32(4), le32(8)
		if s.Version == 2 && b == math.MaxUint32 {
			s.PageSize = a
		} else {
			s.MaxKeySize, s.MaxValueSize = a, b
		}
		s.RootAddress, s.Entries = ptr(le64(12)), ptr(le64(20))
		s.Detail = fmt.Sprintf("%d entries", *s.Entries)
		if s.PageSize != 0 {
			s.Detail += fmt.Sprintf(", node page size %d", s.PageSize)
		} else {
			s.Detail += fmt.Sprintf(", keys ≤ %d B, values ≤ %d B", s.MaxKeySize, s.MaxValueSize)
		}
	case hasMagic(head, vecMagic), hasMagic(head, minHeapMagic):
		s.Type, s.Magic = "Vec", vecMagic
		if hasMagic(head, minHeapMagic) {
			s.Type, s.Magic = "MinHeap", minHeapMagic
		}
		if s.Version != 1 {
			s.Detail = fmt.Sprintf("unsupported layout version %d", s.Version)
			return s, nil
		}
		s.Entries, s.MaxValueSize = ptr(le64(4)), le32(12)
		s.FixedSize = len(head) > 16 && head[16] != 0
		kind := "variable"
		if s.FixedSize {
			kind = "fixed"
		}
		s.Detail = fmt.Sprintf("%d entries, %s size ≤ %d B", *s.Entries, kind, s.MaxValueSize)
	case hasMagic(head, logIndexMagic):
		s.Type, s.Magic = "Log index", logIndexMagic
		if s.Version != 1 {
			s.Detail = fmt.Sprintf("unsupported layout version %d", s.Version)
			return s, nil
		}
		n := le64(32)
		s.Entries = &n
		s.Detail = fmt.Sprintf("%d entries", n)
		// The last index entry is the end offset of the last entry: the
		// total bytes of all entries.
		if n > 0 && n <= (mr.size-40)/8 {
			end, err := mr.u64(40 + (n-1)*8)
			if err != nil {
				return nil, err
			}
			s.DataBytes = &end
			s.Detail += fmt.Sprintf(", %d bytes", end)
		}
	case hasMagic(head, logDataMagic):
		s.Type, s.Magic = "Log data", logDataMagic
		if s.Version != 1 {
			s.Detail = fmt.Sprintf("unsupported layout version %d", s.Version)
		}
	case hasMagic(head, cellMagic):
		s.Type, s.Magic = "Cell", cellMagic
		if s.Version != 1 {
			s.Detail = fmt.Sprintf("unsupported layout version %d", s.Version)
			return s, nil
		}
		n := uint64(le32(4))
		s.DataBytes = &n
		s.Detail = fmt.Sprintf("value of %d bytes", n)
	default:
		if allZero(head) {
			return nil, nil
		}
		s.Type, s.Version = "unknown", 0
		s.Detail = fmt.Sprintf("starts with % x", head[:min(len(head), 8)])
	}
	return s, nil
}

func ptr(v uint64) *uint64 { return &v }

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
