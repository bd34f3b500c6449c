package ic0

import "fmt"

// Debug output is bounded whatever the canister prints, as the replica
// bounds it: a canister's log keeps 4 KiB (DEFAULT_AGGREGATE_LOG_MEMORY_LIMIT)
// and application subnets do not print debug output at all. canscope
// shows more, for debugging, but within a budget: each print up to
// MaxDebugPrint bytes, and per execution the first and the last
// DebugPrintBudget bytes of prints, with a line saying what was left out
// in between (never silently).
const (
	MaxDebugPrint    = 64 << 10
	DebugPrintBudget = 256 << 10
)

// printLog keeps an execution's debug prints within the budget. The first
// DebugPrintBudget bytes go straight to Message.DebugPrints (add reports
// it); the rest waits here and End appends what is kept of it.
type printLog struct {
	headBytes int
	tail      []string // tail[tailStart:] are kept
	tailStart int
	tailBytes int
	dropped   int
	dropBytes int
}

func (l *printLog) reset() { *l = printLog{} }

// add takes a print; true means it belongs to the head, which the caller
// keeps itself.
func (l *printLog) add(s string) bool {
	if len(l.tail) == 0 && l.headBytes+len(s) <= DebugPrintBudget {
		l.headBytes += len(s)
		return true
	}
	l.tail = append(l.tail, s)
	l.tailBytes += len(s)
	for l.tailBytes > DebugPrintBudget && l.tailStart < len(l.tail)-1 {
		old := l.tail[l.tailStart]
		l.tail[l.tailStart] = ""
		l.tailStart++
		l.tailBytes -= len(old)
		l.dropped++
		l.dropBytes += len(old)
	}
	if l.tailStart > 1024 && l.tailStart > len(l.tail)/2 {
		l.tail = append([]string(nil), l.tail[l.tailStart:]...)
		l.tailStart = 0
	}
	return false
}

// rest returns the kept prints after the head, led by the note of the
// dropped ones.
func (l *printLog) rest() []string {
	var out []string
	if l.dropped > 0 {
		out = append(out, fmt.Sprintf("… %d debug prints (%d bytes) not kept: canscope keeps the first and the last %d KiB of an execution's debug output …",
			l.dropped, l.dropBytes, DebugPrintBudget>>10))
	}
	return append(out, l.tail[l.tailStart:]...)
}
