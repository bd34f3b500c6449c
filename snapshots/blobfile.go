package snapshots

import (
	"fmt"
	"os"
)

// ReadBlobFile reads the whole file at path (a stored or cached blob) into
// dst's capacity. A file larger than any blob canscope writes (a module's
// cap plus framing) is refused rather than read, since it cannot be one.
func ReadBlobFile(path string, dst []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	n := int(st.Size())
	if n > MaxModuleBytes+(1<<20) {
		return nil, fmt.Errorf("blob file of %d bytes is larger than any blob canscope writes", n)
	}
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	if _, err := f.ReadAt(dst, 0); err != nil {
		return nil, err
	}
	return dst, nil
}
