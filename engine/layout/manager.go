package layout

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// The MemoryManager V1 layout (dfinity/stable-structures
// src/memory_manager.rs): page 0 holds a header, the bucket owner table
// follows the header, and buckets start at page 1.
const (
	managerMagic         = "MGR"
	managerVersion       = 1
	maxMemories          = 255 // memory ids 0..254
	maxBuckets           = 32768
	unallocatedBucket    = 0xff
	managerReserved      = 32
	managerHeaderSize    = 3 + 1 + 2 + 2 + managerReserved + 8*maxMemories // 2080
	bucketsOffsetInPages = 1
)

// Manager is a decoded MemoryManager: its header and the virtual memories
// it holds.
type Manager struct {
	Version          int    `json:"version"`
	BucketSizePages  uint64 `json:"bucket_size_pages"`
	AllocatedBuckets int    `json:"allocated_buckets"`
	// Memories are the virtual memories with a non-zero size or buckets,
	// by id.
	Memories []Memory `json:"memories"`
	// FreeBuckets are buckets below AllocatedBuckets that no memory owns
	// (released with try_release_virtual_memory_buckets).
	FreeBuckets []int `json:"free_buckets,omitempty"`
	// Problems are inconsistencies worth an operator's attention, e.g. a
	// memory whose size exceeds its buckets.
	Problems []string `json:"problems,omitempty"`

	owners []byte // bucket index -> memory id, AllocatedBuckets long
	byID   map[int]int
}

// Memory is one virtual memory of a MemoryManager.
type Memory struct {
	ID        int    `json:"id"`
	SizePages uint64 `json:"size_pages"`
	// Buckets are the bucket indexes backing the memory, in order: virtual
	// offset v lives in bucket Buckets[v / bucket bytes].
	Buckets   []int      `json:"buckets"`
	Structure *Structure `json:"structure,omitempty"`
}

// StableRange returns the stable memory byte range of bucket b.
func (m *Manager) StableRange(b int) (start, end uint64) {
	size := m.BucketSizePages * wasmPageSize
	start = bucketsOffsetInPages*wasmPageSize + uint64(b)*size
	return start, start + size
}

func readManager(mr *memReader) (*Manager, error) {
	hdr := make([]byte, min(mr.size, managerHeaderSize))
	if err := mr.read(hdr, 0); err != nil {
		return nil, err
	}
	m := &Manager{byID: map[int]int{}}
	if len(hdr) < managerHeaderSize {
		m.Problems = append(m.Problems, fmt.Sprintf("stable memory (%d bytes) ends inside the %d-byte header", mr.size, managerHeaderSize))
		return m, nil
	}
	m.Version = int(hdr[3])
	if m.Version != managerVersion {
		m.Problems = append(m.Problems, fmt.Sprintf("layout version %d is not supported (want %d)", m.Version, managerVersion))
		return m, nil
	}
	m.AllocatedBuckets = int(binary.LittleEndian.Uint16(hdr[4:]))
	m.BucketSizePages = uint64(binary.LittleEndian.Uint16(hdr[6:]))
	if m.BucketSizePages == 0 {
		m.Problems = append(m.Problems, "bucket size is 0 pages")
		return m, nil
	}
	if m.AllocatedBuckets > maxBuckets {
		m.Problems = append(m.Problems, fmt.Sprintf("%d allocated buckets exceed the maximum %d", m.AllocatedBuckets, maxBuckets))
		m.AllocatedBuckets = maxBuckets
	}
	sizes := make([]uint64, maxMemories)
	for i := range sizes {
		sizes[i] = binary.LittleEndian.Uint64(hdr[3+1+2+2+managerReserved+8*i:])
	}
	// Read the whole owner table: owners beyond AllocatedBuckets mean a
	// corrupt header.
	table := make([]byte, maxBuckets)
	n := min(uint64(maxBuckets), mr.size-min(mr.size, managerHeaderSize))
	if err := mr.read(table[:n], managerHeaderSize); err != nil {
		return nil, err
	}
	for i := n; i < maxBuckets; i++ {
		table[i] = unallocatedBucket
	}
	m.owners = table[:m.AllocatedBuckets]
	buckets := map[int][]int{}
	for b, id := range table {
		switch {
		case id == unallocatedBucket:
			if b < m.AllocatedBuckets {
				m.FreeBuckets = append(m.FreeBuckets, b)
			}
		case b >= m.AllocatedBuckets:
			m.Problems = append(m.Problems, fmt.Sprintf("bucket %d is owned by memory %d but only %d buckets are allocated", b, id, m.AllocatedBuckets))
		default:
			buckets[int(id)] = append(buckets[int(id)], b)
		}
	}
	bucketBytes := m.BucketSizePages * wasmPageSize
	if end := bucketsOffsetInPages*wasmPageSize + uint64(m.AllocatedBuckets)*bucketBytes; end > mr.size {
		m.Problems = append(m.Problems, fmt.Sprintf("%d buckets need %d bytes of stable memory, it has %d", m.AllocatedBuckets, end, mr.size))
	}
	for id := range maxMemories {
		if sizes[id] == 0 && len(buckets[id]) == 0 {
			continue
		}
		mem := Memory{ID: id, SizePages: sizes[id], Buckets: buckets[id]}
		if mem.Buckets == nil {
			mem.Buckets = []int{}
		}
		if need := (sizes[id] + m.BucketSizePages - 1) / m.BucketSizePages; need > uint64(len(mem.Buckets)) {
			m.Problems = append(m.Problems, fmt.Sprintf("memory %d has %s but only %s of %s", id,
				plural(int(sizes[id]), "page", "pages"), plural(len(mem.Buckets), "bucket", "buckets"), plural(int(m.BucketSizePages), "page", "pages")))
		}
		m.byID[id] = len(m.Memories)
		m.Memories = append(m.Memories, mem)
	}
	for i := range m.Memories {
		// A memory that cannot be read (its buckets lie beyond the end of
		// stable memory) is a problem of this layout, not a failed Detect.
		s, err := readStructure(m.virtual(mr, &m.Memories[i]))
		if err != nil {
			m.Problems = append(m.Problems, fmt.Sprintf("memory %d: %v", m.Memories[i].ID, err))
		}
		m.Memories[i].Structure = s
	}
	m.pairLogs(mr)
	return m, nil
}

// virtual returns a reader of one virtual memory, bounded by its size and
// by the stable memory.
func (m *Manager) virtual(mr *memReader, mem *Memory) *memReader {
	v := &virtualMemory{m: m, mr: mr, mem: mem}
	size := mem.SizePages * wasmPageSize
	if max := uint64(len(mem.Buckets)) * m.BucketSizePages * wasmPageSize; size > max {
		size = max
	}
	return &memReader{r: v, size: size}
}

// virtualMemory maps virtual offsets of one memory to stable offsets
// through its bucket list, as the library's VirtualMemory does.
type virtualMemory struct {
	m   *Manager
	mr  *memReader
	mem *Memory
}

func (v *virtualMemory) ReadAt(p []byte, off int64) (int, error) {
	bucketBytes := v.m.BucketSizePages * wasmPageSize
	n := 0
	for n < len(p) {
		pos := uint64(off) + uint64(n)
		idx := pos / bucketBytes
		if idx >= uint64(len(v.mem.Buckets)) {
			return n, io.EOF
		}
		start, _ := v.m.StableRange(v.mem.Buckets[idx])
		in := pos % bucketBytes
		chunk := min(uint64(len(p)-n), bucketBytes-in)
		if err := v.mr.read(p[n:n+int(chunk)], start+in); err != nil {
			return n, err
		}
		n += int(chunk)
	}
	return n, nil
}

// pairLogs completes StableLog descriptions: a log's index memory knows
// the entry count and the data memory the bytes, so a lone GLI/GLD pair
// (or adjacent ids) are reported together.
func (m *Manager) pairLogs(mr *memReader) {
	var index, data []int
	for i, mem := range m.Memories {
		if mem.Structure == nil {
			continue
		}
		switch mem.Structure.Magic {
		case logIndexMagic:
			index = append(index, i)
		case logDataMagic:
			data = append(data, i)
		}
	}
	for _, di := range data {
		pair := -1
		for _, ii := range index {
			if m.Memories[ii].ID == m.Memories[di].ID-1 || (len(index) == 1 && len(data) == 1) {
				pair = ii
			}
		}
		if pair < 0 {
			continue
		}
		is, ds := m.Memories[pair].Structure, m.Memories[di].Structure
		is.Detail += fmt.Sprintf("; data in memory %d", m.Memories[di].ID)
		ds.Detail = fmt.Sprintf("data of the log indexed in memory %d", m.Memories[pair].ID)
		if is.DataBytes != nil {
			ds.Detail += fmt.Sprintf(", %d bytes of entries", *is.DataBytes)
		}
	}
}

func (m *Manager) memoryAt(offset uint64) (int, bool) {
	page := offset / wasmPageSize
	if page < bucketsOffsetInPages || m.BucketSizePages == 0 {
		return 0, false
	}
	b := (page - bucketsOffsetInPages) / m.BucketSizePages
	if b >= uint64(len(m.owners)) || m.owners[b] == unallocatedBucket {
		return 0, false
	}
	return int(m.owners[b]), true
}

func (m *Manager) describe(offset uint64) string {
	if offset < bucketsOffsetInPages*wasmPageSize {
		return "memory-manager header"
	}
	id, ok := m.memoryAt(offset)
	if !ok {
		if m.BucketSizePages > 0 && (offset/wasmPageSize-bucketsOffsetInPages)/m.BucketSizePages < uint64(m.AllocatedBuckets) {
			return "free bucket"
		}
		return "unallocated"
	}
	label := fmt.Sprintf("memory %d", id)
	if i, ok := m.byID[id]; ok && m.Memories[i].Structure != nil {
		label += " (" + m.Memories[i].Structure.Type + ")"
	}
	return label
}

func (m *Manager) summary() string {
	if m.BucketSizePages == 0 || m.Version != managerVersion {
		return "MemoryManager (unreadable): " + strings.Join(m.Problems, "; ")
	}
	s := fmt.Sprintf("MemoryManager v%d: %s in %s of %s", m.Version, plural(len(m.Memories), "memory", "memories"),
		plural(m.AllocatedBuckets, "bucket", "buckets"), plural(int(m.BucketSizePages), "page", "pages"))
	if len(m.Problems) > 0 {
		s += " (" + plural(len(m.Problems), "problem", "problems") + ")"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
