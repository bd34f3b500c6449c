package snapshots

import (
	"fmt"
	"io"
	"sync"
)

// MemoryReader is a random-access view of one memory (heap or stable) of a
// snapshot: zero pages are synthesized, stored pages are read (and
// verified) through a PageReader. Export and byte-level diff read through
// it; the TUI's hex view can too. Safe for concurrent use.
type MemoryReader struct {
	pages PageReader
	table PageTable

	mu     sync.Mutex
	cached Hash // hash of the page in buf; zero when buf is empty
	buf    []byte
}

// NewMemoryReader returns a reader of the memory t describes.
func NewMemoryReader(r PageReader, t PageTable) *MemoryReader {
	return &MemoryReader{pages: r, table: t}
}

// Size returns the memory size in bytes.
func (m *MemoryReader) Size() int64 { return int64(m.table.Size) }

// ReadAt implements io.ReaderAt. Reads past Size return io.EOF.
func (m *MemoryReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read memory at offset %d: negative offset", off)
	}
	n := 0
	for n < len(p) {
		pos := uint64(off) + uint64(n)
		if pos >= m.table.Size {
			return n, io.EOF
		}
		idx, in := pos/PageSize, int(pos%PageSize)
		want := min(len(p)-n, PageSize-in, int(m.table.Size-pos))
		h := m.table.Lookup(idx)
		if h.IsZero() {
			clear(p[n : n+want])
		} else if err := m.copyPage(h, p[n:n+want], in); err != nil {
			return n, fmt.Errorf("read memory page %d: %w", idx, err)
		}
		n += want
	}
	return n, nil
}

// ReadPage fills buf (len PageSize) with page index of the memory.
func (m *MemoryReader) ReadPage(index uint64, buf []byte) error {
	h := m.table.Lookup(index)
	if h.IsZero() {
		clear(buf[:PageSize])
		return nil
	}
	return m.pages.ReadPage(h, buf)
}

func (m *MemoryReader) copyPage(h Hash, dst []byte, in int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buf == nil {
		m.buf = make([]byte, PageSize)
	}
	if m.cached != h {
		m.cached = Hash{}
		if err := m.pages.ReadPage(h, m.buf); err != nil {
			return err
		}
		m.cached = h
	}
	copy(dst, m.buf[in:])
	return nil
}
