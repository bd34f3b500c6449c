package snapshots

import (
	"bytes"
	"fmt"
)

// PreparePage applies every backend's PutPage rules to data: at most
// PageSize bytes, a short page zero-padded, and an all-zero page not
// stored at all (it returns the zero Hash and a nil page). Otherwise it
// returns the full page and its hash.
func PreparePage(data []byte) (page []byte, h Hash, err error) {
	if len(data) > PageSize {
		return nil, Hash{}, fmt.Errorf("store page: %d bytes is more than a %d-byte page", len(data), PageSize)
	}
	if AllZero(data) {
		return nil, Hash{}, nil
	}
	if len(data) < PageSize {
		p := make([]byte, PageSize)
		copy(p, data)
		data = p
	}
	return data, HashOf(data), nil
}

// PrepareBlob applies every backend's PutBlob rule to data: at most
// MaxModuleBytes (the largest blob, a module). It returns data's hash.
func PrepareBlob(data []byte) (Hash, error) {
	if len(data) > MaxModuleBytes {
		return Hash{}, fmt.Errorf("store blob: %d bytes exceeds the %d-byte blob limit", len(data), MaxModuleBytes)
	}
	return HashOf(data), nil
}

// AllZero reports whether b is all zero bytes. Comparing b with itself
// shifted by one runs at memcmp speed without a zero buffer: every byte
// equals its predecessor, and the first is zero.
func AllZero(b []byte) bool {
	return len(b) == 0 || b[0] == 0 && bytes.Equal(b[1:], b[:len(b)-1])
}
