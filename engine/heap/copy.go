package heap

// copying is the portable backend: the working memory is ordinary Go
// memory and the committed heap a second copy of it. Finding dirty pages
// compares the two, so commit and rollback cost grows with the heap size.
// It is the only backend off Linux and is tested on Linux too.
type copying struct {
	committed []byte // grows to the largest committed size
}

func (c *copying) reserve(max uint64) ([]byte, error) {
	return reserveZeroed(max)
}

func (c *copying) committedPage(p uint64) []byte {
	off := p * OSPageSize
	if off >= uint64(len(c.committed)) {
		return nil
	}
	return c.committed[off : off+OSPageSize]
}

func (c *copying) dirty(mem []byte, size uint64, out []uint32) ([]uint32, error) {
	for p := uint64(0); p < size/OSPageSize; p++ {
		w := mem[p*OSPageSize : (p+1)*OSPageSize]
		if cp := c.committedPage(p); cp != nil {
			if string(w) != string(cp) {
				out = append(out, uint32(p))
			}
		} else if !isZero(w) {
			out = append(out, uint32(p))
		}
	}
	return out, nil
}

func (c *copying) commit(mem []byte, size uint64, pages []uint32) error {
	if size > uint64(len(c.committed)) {
		c.committed = append(c.committed, make([]byte, size-uint64(len(c.committed)))...)
	}
	for _, p := range pages {
		off := uint64(p) * OSPageSize
		copy(c.committed[off:off+OSPageSize], mem[off:off+OSPageSize])
	}
	return nil
}

func (c *copying) discard(mem []byte, _ uint64, pages []uint32) error {
	for _, p := range pages {
		off := uint64(p) * OSPageSize
		w := mem[off : off+OSPageSize]
		if cp := c.committedPage(uint64(p)); cp != nil {
			copy(w, cp)
		} else {
			clear(w)
		}
	}
	return nil
}

func (c *copying) readCommitted(p []byte, off uint64) error {
	n := 0
	if off < uint64(len(c.committed)) {
		n = copy(p, c.committed[off:])
	}
	clear(p[n:])
	return nil
}

func (c *copying) writeCommitted(mem []byte, p []byte, off uint64) error {
	end := off + uint64(len(p))
	if end > uint64(len(c.committed)) {
		c.committed = append(c.committed, make([]byte, end-uint64(len(c.committed)))...)
	}
	copy(c.committed[off:], p)
	copy(mem[off:], p)
	return nil
}

func (c *copying) zeroFrom(mem []byte, off uint64) error {
	if off < uint64(len(c.committed)) {
		clear(mem[off:len(c.committed)])
		c.committed = c.committed[:off]
	}
	return nil
}

func (c *copying) nextData(off, size uint64) (uint64, error) {
	if off >= uint64(len(c.committed)) {
		return size, nil
	}
	return off, nil
}

func (c *copying) close(mem []byte) error {
	c.committed = nil
	return release(mem)
}
