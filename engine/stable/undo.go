package stable

import "bytes"

// A message's writes are undone from a log rather than from page copies: a
// write of n bytes into a committed page appends the n bytes it overwrites.
// Messages usually write a little into many pages (stable structures,
// counters), so this costs far less than copying 64 KiB per touched page.
// Two cases avoid the log:
//   - a page allocated during the message (it was zero) is simply dropped
//     on rollback, so writes to it are not logged;
//   - once a page has logged more than a page's worth of bytes, the log
//     stops growing for it: its committed contents are rebuilt once into a
//     saved copy, which bounds the log to a page per touched page;
//   - a whole-page write to an untouched page saves the committed page
//     itself (no copy) and writes into a new buffer;
//   - a whole-page write to a backed page not read yet leaves the backing
//     as its committed copy: it is not read (a rehearsal's pre_upgrade
//     overwriting the GiB a snapshot's stable memory holds would otherwise
//     read all of it into the Go heap as saved copies); rollback drops the
//     new buffer and commit compares it with the backing.

// pageUndo is what the open message did to one page.
type pageUndo struct {
	// created: the page was unallocated (zero) at Begin.
	created bool
	// backed: the page was only in the backing at Begin (unread) and a
	// whole-page write replaced it; the backing holds its committed bytes.
	backed bool
	// zeroed: some write stored only zero bytes, so the page may have become
	// all zero and is checked at commit.
	zeroed bool
	// saved holds the committed contents once the page stopped logging.
	saved *page
	// last is the index of the page's newest log entry, -1 for none;
	// entries of one page are chained through undoEntry.prev.
	last int
	// logged counts the bytes logged for the page.
	logged int
}

// undoEntry records bytes [in, in+n) of page idx before a write, stored at
// arena[at:at+n].
type undoEntry struct {
	idx   uint64
	in, n int
	at    int
	prev  int
}

// undoLog is the undo state of the open message.
type undoLog struct {
	pages   map[uint64]pageUndo
	entries []undoEntry
	arena   []byte
}

func newUndoLog() undoLog {
	return undoLog{pages: make(map[uint64]pageUndo)}
}

// maxKeptArena bounds the log buffer kept between messages (64 MiB).
const maxKeptArena = 64 << 20

// reset empties the log, keeping its buffers unless they grew very large.
func (u *undoLog) reset() {
	clear(u.pages)
	u.entries = u.entries[:0]
	if cap(u.arena) > maxKeptArena {
		u.arena = nil
	}
	u.arena = u.arena[:0]
}

// writeLogged writes src at byte in of page idx inside a message, logging
// what it overwrites.
func (m *Memory) writeLogged(idx uint64, in uint64, src []byte) {
	u := &m.undo
	t, seen := u.pages[idx]
	p := m.pages[idx]
	if !seen {
		t = pageUndo{last: -1}
		if p == nil {
			p = m.newZeroPage()
			m.pages[idx] = p
			if _, ok := m.backed[idx]; ok {
				t.backed = true // Write read it unless it is overwritten whole
			} else {
				t.created = true
			}
		}
	}
	if !t.created && !t.backed && t.saved == nil {
		if t.logged == 0 && len(src) == PageSize {
			// A whole-page write to a page the message has not touched:
			// keep the committed page itself as the saved copy and write
			// into a new one, instead of logging 64 KiB (a pre_upgrade
			// saving a GiB would otherwise grow the log by doubling).
			t.saved = p
			p = m.newPage()
			m.pages[idx] = p
		} else if t.logged+len(src) > PageSize {
			t.saved = m.newPage()
			*t.saved = *p
			u.rebuild(t.saved, t.last)
		} else {
			u.entries = append(u.entries, undoEntry{idx: idx, in: int(in), n: len(src), at: len(u.arena), prev: t.last})
			u.arena = append(u.arena, p[in:in+uint64(len(src))]...)
			t.last = len(u.entries) - 1
			t.logged += len(src)
		}
	}
	if !t.zeroed && isZeroBytes(src) {
		t.zeroed = true
	}
	m.store(p, in, src)
	u.pages[idx] = t
}

// rebuild undoes the log entries of one page, newest first from entry
// last, on dst.
func (u *undoLog) rebuild(dst *page, last int) {
	for e := last; e >= 0; e = u.entries[e].prev {
		en := u.entries[e]
		copy(dst[en.in:en.in+en.n], u.arena[en.at:en.at+en.n])
	}
}

// undoInto restores the logged bytes of every logging page, newest first.
// Created and saved pages are handled by the caller.
func (u *undoLog) undoInto(pages map[uint64]*page) {
	for i := len(u.entries) - 1; i >= 0; i-- {
		en := u.entries[i]
		if u.pages[en.idx].saved != nil {
			continue
		}
		copy(pages[en.idx][en.in:en.in+en.n], u.arena[en.at:en.at+en.n])
	}
}

// pageChanged reports whether a touched page, now p, differs from its committed
// contents.
func (m *Memory) pageChanged(idx uint64, t pageUndo, p *page) bool {
	u := &m.undo
	switch {
	case t.backed:
		if m.scratch == nil {
			m.scratch, m.scratch2 = new(page), new(page)
		}
		if m.backing.ReadPage(idx, m.scratch[:]) != nil {
			return true
		}
		m.load(m.scratch2[:], p, 0)
		return *m.scratch != *m.scratch2
	case t.created:
		return !t.zeroed || !isZero(p)
	case t.saved != nil:
		return !m.samePage(t.saved, p)
	case t.last < 0:
		return false
	case u.entries[t.last].prev < 0: // one write: compare its range
		en := u.entries[t.last]
		return !bytes.Equal(u.arena[en.at:en.at+en.n], p[en.in:en.in+en.n])
	}
	// Several writes: rebuild the committed page to compare exactly.
	old := m.newPage()
	defer m.release(old)
	*old = *p
	u.rebuild(old, t.last)
	return *old != *p
}
