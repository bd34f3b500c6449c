package diff

import (
	"sort"

	"github.com/canscope/canscope/snapshots"
)

// memory names one of the two diffed memories.
type memory int

const (
	heap memory = iota
	stable
)

func (m memory) String() string {
	if m == stable {
		return "stable"
	}
	return "heap"
}

// stop is a place n/N can move to: one differing page of a range. Stops
// are computed on the fly from the ranges and page tables, so a diff of a
// million changed pages costs nothing until the user walks it.
type stop struct {
	mem   memory
	rng   int    // index into that memory's ranges
	page  uint64 // page index
	valid bool
}

// stops walks the differing pages of two memory diffs in order: heap
// ranges, then stable ranges. Every page of a changed range is a stop
// (each one differs). In an added or removed range every page the side
// that has it stores is a stop; its zero pages (never written, so not
// stored) are skipped and counted (zeroPages) for the screen to say so.
// An added or removed range holding no data at all is one stop, its
// first page.
type stops struct {
	mems [2][]snapshots.Range
	// tables are the page tables of each memory, a (older) then b.
	tables [2][2]snapshots.PageTable
}

func pageOf(off uint64) uint64 { return off / snapshots.PageSize }

// endPage is one past the last page of r.
func endPage(r snapshots.Range) uint64 { return pageOf(r.End-1) + 1 }

// data returns the stored pages of added or removed range i of mem, on
// the side that has the range; nil for a changed range, whose every page
// is a stop.
func (s stops) data(mem memory, i int) []snapshots.Page {
	r := s.mems[mem][i]
	var t snapshots.PageTable
	switch r.Kind {
	case snapshots.RangeAdded:
		t = s.tables[mem][1]
	case snapshots.RangeRemoved:
		t = s.tables[mem][0]
	default:
		return nil
	}
	lo, hi := pageOf(r.Start), endPage(r)
	from := sort.Search(len(t.Pages), func(k int) bool { return t.Pages[k].Index >= lo })
	to := sort.Search(len(t.Pages), func(k int) bool { return t.Pages[k].Index >= hi })
	return t.Pages[from:to]
}

// zeroPages is how many pages of range i of mem are skipped: the pages
// of an added or removed range that hold no data.
func (s stops) zeroPages(mem memory, i int) uint64 {
	r := s.mems[mem][i]
	if r.Kind == snapshots.RangeChanged {
		return 0
	}
	return endPage(r) - pageOf(r.Start) - uint64(len(s.data(mem, i)))
}

// dataPages is how many stops range i of mem has.
func (s stops) dataPages(mem memory, i int) uint64 {
	r := s.mems[mem][i]
	if r.Kind == snapshots.RangeChanged {
		return endPage(r) - pageOf(r.Start)
	}
	return uint64(len(s.data(mem, i)))
}

// firstIn and lastIn are the first and last stops of range i of mem.
func (s stops) firstIn(mem memory, i int) stop {
	r := s.mems[mem][i]
	p := pageOf(r.Start)
	if d := s.data(mem, i); r.Kind != snapshots.RangeChanged && len(d) > 0 {
		p = d[0].Index
	}
	return stop{mem: mem, rng: i, page: p, valid: true}
}

func (s stops) lastIn(mem memory, i int) stop {
	r := s.mems[mem][i]
	p := pageOf(r.End - 1)
	if r.Kind != snapshots.RangeChanged {
		p = pageOf(r.Start)
		if d := s.data(mem, i); len(d) > 0 {
			p = d[len(d)-1].Index
		}
	}
	return stop{mem: mem, rng: i, page: p, valid: true}
}

// within returns the stop after (dir 1) or before (dir -1) at inside its
// own range, or false at the range's end.
func (s stops) within(at stop, dir int) (stop, bool) {
	r := s.mems[at.mem][at.rng]
	if r.Kind == snapshots.RangeChanged {
		switch {
		case dir > 0 && at.page+1 < endPage(r):
			at.page++
			return at, true
		case dir < 0 && at.page > pageOf(r.Start):
			at.page--
			return at, true
		}
		return at, false
	}
	d := s.data(at.mem, at.rng)
	k := sort.Search(len(d), func(k int) bool { return d[k].Index >= at.page })
	if dir > 0 {
		if k < len(d) && d[k].Index == at.page {
			k++
		}
		if k < len(d) {
			at.page = d[k].Index
			return at, true
		}
		return at, false
	}
	if k > 0 {
		at.page = d[k-1].Index
		return at, true
	}
	return at, false
}

// ordinal is the 1-based position of at among its range's stops.
func (s stops) ordinal(at stop) uint64 {
	r := s.mems[at.mem][at.rng]
	if r.Kind == snapshots.RangeChanged {
		return at.page - pageOf(r.Start) + 1
	}
	d := s.data(at.mem, at.rng)
	return uint64(sort.Search(len(d), func(k int) bool { return d[k].Index >= at.page })) + 1
}

// first returns the first stop, invalid when no page differs.
func (s stops) first() stop {
	for m := heap; m <= stable; m++ {
		if len(s.mems[m]) > 0 {
			return s.firstIn(m, 0)
		}
	}
	return stop{}
}

// last returns the last stop.
func (s stops) last() stop {
	for m := stable; m >= heap; m-- {
		if n := len(s.mems[m]); n > 0 {
			return s.lastIn(m, n-1)
		}
	}
	return stop{}
}

// at returns the stop for page of mem: in the range holding it, or with
// rng -1 when no range does (a page reached by going to an offset).
func (s stops) at(mem memory, page uint64) stop {
	for i, r := range s.mems[mem] {
		if page >= pageOf(r.Start) && page < endPage(r) {
			return stop{mem: mem, rng: i, page: page, valid: true}
		}
	}
	return stop{mem: mem, rng: -1, page: page, valid: true}
}

// outside returns, for a stop in no range, the first stop after it
// (dir 1) or the last before it (dir -1); at itself when there is none.
func (s stops) outside(at stop, dir int) stop {
	if dir > 0 {
		for m := at.mem; m <= stable; m++ {
			for i, r := range s.mems[m] {
				if m > at.mem || pageOf(r.Start) > at.page {
					return s.firstIn(m, i)
				}
			}
		}
		return at
	}
	for m := at.mem; m >= heap; m-- {
		for i := len(s.mems[m]) - 1; i >= 0; i-- {
			if m < at.mem || endPage(s.mems[m][i]) <= at.page {
				return s.lastIn(m, i)
			}
		}
	}
	return at
}

// next returns the stop after at, or at itself at the end.
func (s stops) next(at stop) stop {
	if !at.valid {
		return s.first()
	}
	if at.rng < 0 {
		return s.outside(at, 1)
	}
	if n, ok := s.within(at, 1); ok {
		return n
	}
	m, i := at.mem, at.rng+1
	for m <= stable {
		if i < len(s.mems[m]) {
			return s.firstIn(m, i)
		}
		m, i = m+1, 0
	}
	return at
}

// prev returns the stop before at, or at itself at the start.
func (s stops) prev(at stop) stop {
	if !at.valid {
		return s.first()
	}
	if at.rng < 0 {
		return s.outside(at, -1)
	}
	if p, ok := s.within(at, -1); ok {
		return p
	}
	m, i := at.mem, at.rng-1
	for m >= heap {
		if i >= 0 {
			return s.lastIn(m, i)
		}
		m--
		if m >= heap {
			i = len(s.mems[m]) - 1
		}
	}
	return at
}
