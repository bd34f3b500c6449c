//go:build !unix

package stable

import "errors"

// arena is not available here: pages stay in the Go heap.
type arena struct{}

func newArena() (*arena, error)                   { return nil, errors.New("no spill file on this platform") }
func (a *arena) alloc() (*page, error)            { return nil, errors.New("no spill file") }
func (a *arena) owns(*page) bool                  { return false }
func (a *arena) close()                           {}
func (a *arena) touch()                           {}
func (a *arena) punch()                           {}
func (a *arena) write(*page, uint64, []byte) bool { return false }
func (a *arena) read([]byte, *page, uint64) bool  { return false }
