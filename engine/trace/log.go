package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"slices"
	"sync"

	"github.com/tetratelabs/wazero/api"
)

// The event log holds a run's recorded events in a compact binary form,
// in memory while it is small and in an unlinked temporary file beyond
// that, so that recording a run of any length keeps the process's memory
// bounded: RAM holds the block index (16 bytes per blockEvents events), a
// write buffer and a few decoded blocks.
//
// Each event is encoded as
//
//	kind|flags byte, depth, phase id, function ref, name id,
//	len(args), args..., len(results), results..., instruction delta
//	[, len(text), text bytes: a debug_print's text, flagged]
//
// all unsigned varints but the first byte and the values (see
// appendValues). The function ref is 0 for none,
// else 1 + (index<<1 | upgrade-module bit); names are resolved when a block
// is decoded, not while the canister runs. Instruction deltas restart at
// each block, so a block decodes on its own.
const (
	// blockEvents is the number of events per indexed block.
	blockEvents = 1024
	// memLogBytes is the size up to which the log stays in memory: a
	// few hundred thousand events of a call-heavy run, written nowhere.
	memLogBytes = 16 << 20
	// flushBytes is the write buffer of a spilled log.
	flushBytes = 1 << 20
	// cachedBlocks is the number of decoded blocks kept for reading.
	cachedBlocks = 8
	// DefaultLogBytes is the size of the event log beyond which a run's
	// further events are counted, not recorded (about 100 million events
	// of a call-heavy run). They can still be travelled to: a jump to one
	// re-executes the run and records the events around it.
	DefaultLogBytes = 1 << 30
)

// kind codes in the log.
var kindCodes = [...]Kind{Enter, Exit, Syscall, Grow, Trap}

// The codes of Enter and Exit in kindCodes.
const (
	kindEnter = 0
	kindExit  = 1
)

const (
	flagNilResults = 0x80
	flagText       = 0x40
	// flagCall marks the compact form of an Enter or Exit (appendCall):
	// no name and one value list (the arguments of an Enter, the results
	// of an Exit); flagSamePhase and flagSameFunc, only in that form,
	// leave out the phase and the function, the previous event's in the
	// same block.
	flagCall      = 0x08
	flagSamePhase = 0x10
	flagSameFunc  = 0x20
	kindMask      = 0x07
)

func kindCode(k Kind) byte {
	for i, c := range kindCodes {
		if c == k {
			return byte(i)
		}
	}
	return 0
}

// funcRef identifies a canister function on the traced stack: the module
// (the old one, or an upgrade's new one) and its index there.
type funcRef struct {
	upgrade bool
	fn      uint32
}

func (f funcRef) code() uint64 {
	c := uint64(f.fn) << 1
	if f.upgrade {
		c |= 1
	}
	return c + 1
}

// labeler names a function of the run when the log is read: its label
// (engine.Module.FuncLabel) and, when that differs, its raw name-section
// name.
type labeler func(funcRef) (label, raw string)

type blockIndex struct {
	off   int64 // offset of the block's first event in the log
	instr uint64
}

// eventLog is an append-only log of encoded events with a block index.
type eventLog struct {
	first int // index of the first event stored
	n     int // events stored
	max   int // events that may be stored; 0: no limit but maxBytes
	// maxBytes bounds the log's size; beyond it events are not stored.
	maxBytes int64
	full     bool
	memBytes int // the in-memory size before spilling (memLogBytes)
	closed   bool

	buf     []byte   // encoded bytes not yet written to file (all of them while in memory)
	file    *os.File // the spill file (unlinked), nil while in memory
	written int64    // bytes in file or on their way to it
	// While the run is recorded, full buffers are written by a goroutine
	// (the run goes on on the other core); sync waits for it before the
	// log is read.
	writes   chan []byte
	free     chan []byte
	writeErr chan error
	index    []blockIndex
	prevIns  uint64
	// prevPhase and prevFn are the last event's in the block being
	// written (havePrev: there is one).
	prevPhase, prevFn uint64
	havePrev          bool

	names  []string // interned names: phases, ic0 functions, memories
	nameID map[string]uint64

	label labeler
	// bufs lends the large buffers, kept from one session's log to the
	// next; nil allocates.
	bufs  *logBuffers
	cache map[int][]Event // decoded blocks by number
	order []int           // cache's blocks, oldest first
}

func newEventLog(first, maxEvents int, maxBytes int64, label labeler, bufs *logBuffers) *eventLog {
	return &eventLog{
		first: first, max: maxEvents, maxBytes: maxBytes, label: label, memBytes: memLogBytes, bufs: bufs,
		names: []string{""}, nameID: map[string]uint64{"": 0},
		cache: make(map[int][]Event),
	}
}

// size returns the bytes the log holds.
func (l *eventLog) size() int64 { return l.written + int64(len(l.buf)) }

// intern returns the id of a name.
func (l *eventLog) intern(s string) uint64 {
	if id, ok := l.nameID[s]; ok {
		return id
	}
	id := uint64(len(l.names))
	l.names = append(l.names, s)
	l.nameID[s] = id
	return id
}

// accepts reports whether the log takes another event; once it refuses,
// it refuses for good (the recorded events stay contiguous).
func (l *eventLog) accepts() bool {
	if !l.full && ((l.max > 0 && l.n >= l.max) || l.size() >= l.maxBytes) {
		l.full = true
	}
	return !l.full
}

// append encodes one event. results nil (a trapped System API call) is
// kept apart from empty results.
func (l *eventLog) append(kind Kind, depth int, phase uint64, fn uint64, name uint64, args []uint64, argTypes []api.ValueType, results []uint64, resTypes []api.ValueType, instr uint64, text string) error {
	if l.n%blockEvents == 0 {
		l.index = append(l.index, blockIndex{off: l.size(), instr: instr})
		l.prevIns, l.havePrev = instr, false
	}
	if l.buf == nil {
		l.buf = l.bufs.first(l.memBytes + 4096)
	}
	l.prevPhase, l.prevFn, l.havePrev = phase, fn, true
	b := l.buf
	k := kindCode(kind)
	if results == nil {
		k |= flagNilResults
	}
	if text != "" {
		k |= flagText
	}
	b = append(b, k)
	b = appendUvarint(b, uint64(depth))
	b = appendUvarint(b, phase)
	b = appendUvarint(b, fn)
	b = appendUvarint(b, name)
	b = appendValues(b, args, argTypes)
	b = appendValues(b, results, resTypes)
	b = appendUvarint(b, instr-l.prevIns)
	if text != "" {
		b = appendUvarint(b, uint64(len(text)))
		b = append(b, text...)
	}
	l.prevIns = instr
	l.buf = b
	l.n++
	return l.appended()
}

// appendCall is append for an Enter (values: its arguments) or an Exit
// (values: its results) event, the bulk of a call-heavy run: the same
// bytes, written in place into the buffer's spare room.
func (l *eventLog) appendCall(exit bool, depth int, phase, fn uint64, vals []uint64, types []api.ValueType, instr uint64) error {
	need := 6*binary.MaxVarintLen64 + 9*len(vals)
	if l.buf == nil || cap(l.buf)-len(l.buf) < need {
		if exit {
			return l.append(Exit, depth, phase, fn, 0, noValues, nil, vals, types, instr, "")
		}
		return l.append(Enter, depth, phase, fn, 0, vals, types, noValues, nil, instr, "")
	}
	if l.n%blockEvents == 0 {
		l.index = append(l.index, blockIndex{off: l.size(), instr: instr})
		l.prevIns, l.havePrev = instr, false
	}
	n := len(l.buf)
	b := l.buf[:cap(l.buf)]
	k := byte(kindEnter | flagCall)
	if exit {
		k = kindExit | flagCall
	}
	samePhase := l.havePrev && phase == l.prevPhase
	sameFn := l.havePrev && fn == l.prevFn
	if samePhase {
		k |= flagSamePhase
	}
	if sameFn {
		k |= flagSameFunc
	}
	l.prevPhase, l.prevFn, l.havePrev = phase, fn, true
	b[n] = k
	n = putUvarint(b, n+1, uint64(depth))
	if !samePhase {
		n = putUvarint(b, n, phase)
	}
	if !sameFn {
		n = putUvarint(b, n, fn)
	}
	n = putValues(b, n, vals, types)
	n = putUvarint(b, n, instr-l.prevIns)
	l.prevIns = instr
	l.buf = b[:n]
	l.n++
	return l.appended()
}

// putUvarint writes v as a varint at b[n:] and returns the offset after it.
func putUvarint(b []byte, n int, v uint64) int {
	for v >= 0x80 {
		b[n] = byte(v) | 0x80
		v >>= 7
		n++
	}
	b[n] = byte(v)
	return n + 1
}

// putValues writes what appendValues appends at b[n:] (which has room for
// 10 bytes per value and the count) and returns the offset after it.
func putValues(b []byte, n int, vs []uint64, types []api.ValueType) int {
	n = putUvarint(b, n, uint64(len(vs)))
	for i, v := range vs {
		if i < len(types) && (types[i] == api.ValueTypeI32 || types[i] == api.ValueTypeF32) {
			v = uint64(uint32(v))
		}
		k := (bits.Len64(v) + 7) >> 3
		b[n] = byte(k)
		binary.LittleEndian.PutUint64(b[n+1:], v)
		n += 1 + k
	}
	return n
}

// appended writes out or grows the buffer after an event was encoded.
func (l *eventLog) appended() error {
	switch {
	case l.file == nil && len(l.buf) >= l.memBytes || l.file != nil && len(l.buf) >= flushBytes:
		return l.flush()
	case l.file == nil && len(l.buf) > cap(l.buf)-4096:
		// Grow once to the whole in-memory size instead of doubling: the
		// buffers doubling leaves behind stay resident until the GC runs.
		b := l.bufs.get(l.memBytes + 4096)[:len(l.buf)]
		copy(b, l.buf)
		l.buf = b
	}
	return nil
}

// appendUvarint is binary.AppendUvarint with the common one-byte case
// first.
func appendUvarint(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	return binary.AppendUvarint(b, v)
}

// appendValues encodes a count and the values, keeping only the low 32
// bits of i32 and f32 values: the engine leaves the upper half of a 32-bit
// value on the stack undefined. A value is its length in bytes (0 to 8)
// and its significant bytes, little-endian: values are often full 64-bit
// words, which a varint takes ten steps to write.
func appendValues(b []byte, vs []uint64, types []api.ValueType) []byte {
	b = appendUvarint(b, uint64(len(vs)))
	for i, v := range vs {
		if i < len(types) && (types[i] == api.ValueTypeI32 || types[i] == api.ValueTypeF32) {
			v = uint64(uint32(v))
		}
		n := (bits.Len64(v) + 7) >> 3
		b = append(b, byte(n))
		end := len(b) + n
		b = binary.LittleEndian.AppendUint64(b, v)[:end]
	}
	return b
}

// flush hands the buffer to the writer, creating the spill file and the
// writer first.
func (l *eventLog) flush() error {
	if l.file == nil {
		f, err := os.CreateTemp("", "canscope-trace-*.log")
		if err != nil {
			return fmt.Errorf("event log: %w", err)
		}
		// Unlinked at once: the file goes when the process does, however
		// it ends.
		os.Remove(f.Name())
		l.file = f
		// The in-memory part is written now and its buffer dropped: from
		// here on the log holds only small buffers in memory.
		_, err = f.Write(l.buf)
		l.written += int64(len(l.buf))
		l.bufs.put(l.buf)
		l.buf = l.bufs.get(flushBytes + 4096)
		if err != nil {
			return fmt.Errorf("event log: %w", err)
		}
		l.writes, l.free, l.writeErr = make(chan []byte, 2), make(chan []byte, 3), make(chan error, 1)
		for range 2 {
			l.free <- l.bufs.get(flushBytes + 4096)
		}
		go writer(f, l.writes, l.free, l.writeErr)
		return nil
	}
	l.written += int64(len(l.buf))
	if l.writes == nil {
		_, err := l.file.Write(l.buf)
		l.buf = l.buf[:0]
		if err != nil {
			return fmt.Errorf("event log: %w", err)
		}
		return nil
	}
	l.writes <- l.buf
	select {
	case l.buf = <-l.free:
	case err := <-l.writeErr:
		close(l.writes)
		l.writes, l.buf = nil, nil
		return err
	}
	return nil
}

// writer writes the buffers it is sent until the channel closes, then
// reports the first error (or nil).
func writer(f *os.File, writes <-chan []byte, free chan<- []byte, done chan<- error) {
	var failed error
	for b := range writes {
		if failed == nil {
			if _, err := f.Write(b); err != nil {
				failed = fmt.Errorf("event log: %w", err)
				done <- failed
				continue
			}
		}
		free <- b[:0]
	}
	if failed == nil {
		done <- nil
	}
}

// sync waits for the writer: the recording is over, and from now on the
// log is read (and written synchronously, if at all).
func (l *eventLog) sync() error {
	if l.writes == nil {
		return nil
	}
	close(l.writes)
	l.writes = nil
	if err := <-l.writeErr; err != nil {
		return err
	}
	return nil
}

// close releases the spill file.
func (l *eventLog) close() error {
	err := l.sync()
	l.closed = true
	l.bufs.put(l.buf)
	for l.free != nil && len(l.free) > 0 {
		l.bufs.put(<-l.free)
	}
	l.cache, l.order, l.buf = nil, nil, nil
	if l.file == nil {
		return err
	}
	if cerr := l.file.Close(); err == nil {
		err = cerr
	}
	l.file = nil
	return err
}

// contains reports whether event i is stored.
func (l *eventLog) contains(i int) bool { return i >= l.first && i < l.first+l.n }

// event returns stored event i (see contains).
func (l *eventLog) event(i int) (Event, error) {
	b := (i - l.first) / blockEvents
	evs, err := l.block(b)
	if err != nil {
		return Event{}, err
	}
	return evs[(i-l.first)%blockEvents], nil
}

// block decodes block b, through the cache.
func (l *eventLog) block(b int) ([]Event, error) {
	if l.closed {
		return nil, errors.New("event log: the session is closed")
	}
	if evs, ok := l.cache[b]; ok {
		return evs, nil
	}
	if err := l.sync(); err != nil {
		return nil, err
	}
	start := l.index[b].off
	end := l.size()
	if b+1 < len(l.index) {
		end = l.index[b+1].off
	}
	raw := make([]byte, end-start)
	// The block may straddle the file and the buffer.
	if start < l.written {
		n := min(end, l.written) - start
		if _, err := l.file.ReadAt(raw[:n], start); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("event log: %w", err)
		}
		copy(raw[n:], l.buf[:end-start-n])
	} else {
		copy(raw, l.buf[start-l.written:end-l.written])
	}
	count := min(blockEvents, l.n-b*blockEvents)
	evs, err := l.decode(raw, l.first+b*blockEvents, count, l.index[b].instr)
	if err != nil {
		return nil, err
	}
	if len(l.order) >= cachedBlocks {
		delete(l.cache, l.order[0])
		l.order = l.order[1:]
	}
	l.cache[b] = evs
	l.order = append(l.order, b)
	return evs, nil
}

var errCorruptLog = errors.New("event log: corrupt block")

func (l *eventLog) decode(raw []byte, index, count int, instr uint64) ([]Event, error) {
	evs := make([]Event, count)
	uv := func() uint64 {
		v, n := binary.Uvarint(raw)
		if n <= 0 {
			raw = nil
			return 0
		}
		raw = raw[n:]
		return v
	}
	values := func() []uint64 {
		n := uv()
		if n > uint64(len(raw)) {
			raw = nil
			return nil
		}
		vs := make([]uint64, n)
		for i := range vs {
			if len(raw) == 0 || raw[0] > 8 || int(raw[0]) >= len(raw) {
				raw = nil
				return nil
			}
			var v uint64
			for j := int(raw[0]); j > 0; j-- {
				v = v<<8 | uint64(raw[j])
			}
			vs[i], raw = v, raw[1+int(raw[0]):]
		}
		return vs
	}
	name := func(id uint64) string {
		if id < uint64(len(l.names)) {
			return l.names[id]
		}
		return ""
	}
	var phase, fn uint64 // the previous event's
	var label, rawName string
	for k := range evs {
		if len(raw) == 0 {
			return nil, errCorruptLog
		}
		flags := raw[0]
		raw = raw[1:]
		e := &evs[k]
		e.Index = index + k
		e.Kind = kindCodes[int(flags&kindMask)%len(kindCodes)]
		e.Depth = int(uv())
		call := flags&flagCall != 0
		if !call || flags&flagSamePhase == 0 {
			phase = uv()
		}
		e.Phase = name(phase)
		if !call || flags&flagSameFunc == 0 {
			next := uv()
			if next != fn || k == 0 {
				label, rawName = "", ""
				if next > 0 {
					label, rawName = l.label(funcRef{upgrade: (next-1)&1 == 1, fn: uint32((next - 1) >> 1)})
				}
			}
			fn = next
		}
		e.Function, e.Raw = label, rawName
		switch {
		case !call:
			e.Name = name(uv())
			e.Args = values()
			e.Results = values()
		case e.Kind == Exit:
			e.Args, e.Results = []uint64{}, values()
		default:
			e.Args, e.Results = values(), []uint64{}
		}
		if flags&flagNilResults != 0 {
			e.Results = nil
		}
		instr += uv()
		e.Instructions = instr
		if flags&flagText != 0 {
			n := uv()
			if n > uint64(len(raw)) {
				return nil, errCorruptLog
			}
			e.Text, raw = string(raw[:n]), raw[n:]
		}
		if raw == nil {
			return nil, errCorruptLog
		}
	}
	return evs, nil
}

// seekInstructions returns the first stored event at or after the given
// instruction count, or false when the stored events end before it.
func (l *eventLog) seekInstructions(n uint64) (int, bool, error) {
	if l.n == 0 {
		return 0, false, nil
	}
	// The last block starting at or before n.
	lo, hi := 0, len(l.index)
	for lo < hi {
		mid := (lo + hi) / 2
		if l.index[mid].instr <= n {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	b := max(lo-1, 0)
	for ; b < len(l.index); b++ {
		evs, err := l.block(b)
		if err != nil {
			return 0, false, err
		}
		for _, e := range evs {
			if e.Instructions >= n {
				return e.Index, true, nil
			}
		}
	}
	return 0, false, nil
}

// logBuffers keeps the large buffers of closed event logs for the next
// ones of a tracer (a UI runs one session after another): a fresh 16 MiB
// buffer costs its page faults and zeroing (about a tenth of recording a
// call-heavy run) and the garbage collections its allocation brings.
// It holds at most one in-memory log and three spill buffers.
type logBuffers struct {
	mu   sync.Mutex
	kept [][]byte
}

// get returns an empty buffer of capacity size.
func (p *logBuffers) get(size int) []byte {
	if p != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		for i, b := range p.kept {
			if cap(b) == size {
				p.kept = slices.Delete(p.kept, i, i+1)
				return b[:0]
			}
		}
	}
	return make([]byte, 0, size)
}

// first returns a log's first buffer: a kept one of capacity size, or a
// small one (a short run's log stays small), kept or new.
func (p *logBuffers) first(size int) []byte {
	small := min(size, flushBytes+4096)
	if p != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, want := range []int{size, small} {
			for i, b := range p.kept {
				if cap(b) == want {
					p.kept = slices.Delete(p.kept, i, i+1)
					return b[:0]
				}
			}
		}
	}
	return make([]byte, 0, small)
}

// put keeps b for a later get, unless enough of its size are kept.
func (p *logBuffers) put(b []byte) {
	if p == nil || b == nil || (cap(b) != memLogBytes+4096 && cap(b) != flushBytes+4096) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	same := 0
	for _, k := range p.kept {
		if cap(k) == cap(b) {
			same++
		}
	}
	limit := 1
	if cap(b) == flushBytes+4096 {
		limit = 3
	}
	if same < limit {
		p.kept = append(p.kept, b[:0])
	}
}
