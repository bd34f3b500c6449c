package snapshots

import "sync/atomic"

// Progress counts work finished against a total, for a progress display
// that reads it while the work updates it from several goroutines. Total
// is 0 while unknown.
type Progress struct {
	Done  atomic.Uint64
	Total atomic.Uint64
}

// Add counts n more units done; a nil Progress counts nothing, so work
// nobody watches needs no counter.
func (p *Progress) Add(n uint64) {
	if p != nil {
		p.Done.Add(n)
	}
}

// SetTotal sets the amount of work to do; nil-safe like Add.
func (p *Progress) SetTotal(n uint64) {
	if p != nil {
		p.Total.Store(n)
	}
}
