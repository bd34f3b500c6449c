//go:build unix

package heap

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// reserveZeroed maps max bytes of anonymous memory: zero, and costing RAM
// only where written (a Go slice of 4 GiB may be recycled memory that must
// be cleared, touching all of it).
func reserveZeroed(max uint64) ([]byte, error) {
	mem, err := unix.Mmap(-1, 0, int(max), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("map anonymous memory: %w", err)
	}
	return mem, nil
}

// release unmaps memory from reserveZeroed.
func release(mem []byte) error {
	if mem == nil {
		return nil
	}
	if err := unix.Munmap(mem); err != nil {
		return fmt.Errorf("unmap heap: %w", err)
	}
	return nil
}
