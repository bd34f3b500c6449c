package diff

import "github.com/canscope/canscope/snapshots"

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

// stop is a place n/N can move to: one changed page of a range. Stops are
// computed on the fly from the ranges, so a diff of a million changed
// pages costs nothing until the user walks it.
type stop struct {
	mem   memory
	rng   int    // index into that memory's ranges
	page  uint64 // page index
	valid bool
}

// stops walks the changed pages of two memory diffs in order: heap ranges,
// then stable ranges. Added and removed ranges are one stop each (their
// first page): every page in them differs, so stepping through them one
// page at a time tells nothing new.
type stops struct {
	mems [2][]snapshots.Range
}

func pageOf(off uint64) uint64 { return off / snapshots.PageSize }

func lastPage(r snapshots.Range) uint64 {
	if r.Kind != snapshots.RangeChanged {
		return pageOf(r.Start)
	}
	return pageOf(r.End - 1)
}

// first returns the first stop, invalid when nothing differs.
func (s stops) first() stop {
	for m := heap; m <= stable; m++ {
		if len(s.mems[m]) > 0 {
			return stop{mem: m, rng: 0, page: pageOf(s.mems[m][0].Start), valid: true}
		}
	}
	return stop{}
}

// last returns the last stop.
func (s stops) last() stop {
	for m := stable; m >= heap; m-- {
		if n := len(s.mems[m]); n > 0 {
			return stop{mem: m, rng: n - 1, page: lastPage(s.mems[m][n-1]), valid: true}
		}
	}
	return stop{}
}

// next returns the stop after at, or at itself at the end.
func (s stops) next(at stop) stop {
	if !at.valid {
		return s.first()
	}
	if r := s.mems[at.mem][at.rng]; at.page < lastPage(r) {
		at.page++
		return at
	}
	m, i := at.mem, at.rng+1
	for m <= stable {
		if i < len(s.mems[m]) {
			return stop{mem: m, rng: i, page: pageOf(s.mems[m][i].Start), valid: true}
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
	if r := s.mems[at.mem][at.rng]; at.page > pageOf(r.Start) {
		at.page--
		return at
	}
	m, i := at.mem, at.rng-1
	for m >= heap {
		if i >= 0 {
			return stop{mem: m, rng: i, page: lastPage(s.mems[m][i]), valid: true}
		}
		m--
		if m >= heap {
			i = len(s.mems[m]) - 1
		}
	}
	return at
}
