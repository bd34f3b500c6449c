package layout

import (
	"encoding/binary"
	"io"
)

// stableImage builds stable memory the way ic-stable-structures'
// MemoryManager lays it out: the header and bucket table in page 0, then
// buckets of bucketPages pages assigned in the order memories grow.
type stableImage struct {
	bucketPages uint64
	mem         []byte
	owners      []byte // bucket -> memory id
	sizes       [maxMemories]uint64
	buckets     map[int][]int
}

func newStableImage(bucketPages uint64) *stableImage {
	return &stableImage{bucketPages: bucketPages, mem: make([]byte, wasmPageSize), buckets: map[int][]int{}}
}

// grow adds pages to memory id, allocating buckets as the library does.
func (s *stableImage) grow(id int, pages uint64) {
	s.sizes[id] += pages
	for uint64(len(s.buckets[id]))*s.bucketPages < s.sizes[id] {
		b := len(s.owners)
		s.owners = append(s.owners, byte(id))
		s.buckets[id] = append(s.buckets[id], b)
	}
	need := (1 + uint64(len(s.owners))*s.bucketPages) * wasmPageSize
	if uint64(len(s.mem)) < need {
		s.mem = append(s.mem, make([]byte, need-uint64(len(s.mem)))...)
	}
}

// write writes p at virtual offset off of memory id.
func (s *stableImage) write(id int, off uint64, p []byte) {
	bucketBytes := s.bucketPages * wasmPageSize
	for i, c := range p {
		v := off + uint64(i)
		b := s.buckets[id][v/bucketBytes]
		s.mem[wasmPageSize+uint64(b)*bucketBytes+v%bucketBytes] = c
	}
}

// bytes returns the stable memory with the header written.
func (s *stableImage) bytes() []byte {
	h := s.mem
	copy(h, managerMagic)
	h[3] = managerVersion
	binary.LittleEndian.PutUint16(h[4:], uint16(len(s.owners)))
	binary.LittleEndian.PutUint16(h[6:], uint16(s.bucketPages))
	for i, size := range s.sizes {
		binary.LittleEndian.PutUint64(h[40+8*i:], size)
	}
	table := h[managerHeaderSize : managerHeaderSize+maxBuckets]
	for i := range table {
		table[i] = unallocatedBucket
	}
	copy(table, s.owners)
	return s.mem
}

// Headers of the structures, as the library writes them.

func btreeV1Header(maxKey, maxValue uint32, root, length uint64) []byte {
	h := make([]byte, 52)
	copy(h, btreeMagic)
	h[3] = 1
	binary.LittleEndian.PutUint32(h[4:], maxKey)
	binary.LittleEndian.PutUint32(h[8:], maxValue)
	binary.LittleEndian.PutUint64(h[12:], root)
	binary.LittleEndian.PutUint64(h[20:], length)
	return h
}

func btreeV2Header(pageSize uint32, root, length uint64) []byte {
	h := btreeV1Header(pageSize, 0xffffffff, root, length)
	h[3] = 2
	return h
}

func vecHeader(magic string, length uint64, maxSize uint32, fixed bool) []byte {
	h := make([]byte, 64)
	copy(h, magic)
	h[3] = 1
	binary.LittleEndian.PutUint64(h[4:], length)
	binary.LittleEndian.PutUint32(h[12:], maxSize)
	if fixed {
		h[16] = 1
	}
	return h
}

func logIndex(ends ...uint64) []byte {
	h := make([]byte, 40+8*len(ends))
	copy(h, logIndexMagic)
	h[3] = 1
	binary.LittleEndian.PutUint64(h[32:], uint64(len(ends)))
	for i, e := range ends {
		binary.LittleEndian.PutUint64(h[40+8*i:], e)
	}
	return h
}

func logData(entries ...string) []byte {
	h := make([]byte, 32)
	copy(h, logDataMagic)
	h[3] = 1
	for _, e := range entries {
		h = append(h, e...)
	}
	return h
}

func cellHeader(value []byte) []byte {
	h := make([]byte, 8)
	copy(h, cellMagic)
	h[3] = 1
	binary.LittleEndian.PutUint32(h[4:], uint32(len(value)))
	return append(h, value...)
}

// sparse is a stable memory of size bytes whose first bytes are data and
// the rest zero, the way a snapshot's MemoryReader synthesises zero
// pages. It counts the bytes read.
type sparse struct {
	data []byte
	size int64
	read *int64
}

func (s sparse) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), s.size-off)
	for i := int64(0); i < n; i++ {
		if off+i < int64(len(s.data)) {
			p[i] = s.data[off+i]
		} else {
			p[i] = 0
		}
	}
	if s.read != nil {
		*s.read += n
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}
