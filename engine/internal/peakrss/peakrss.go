// Package peakrss reads and resets the process's peak resident set size
// (VmHWM in /proc/self/status) for the tests that assert memory bounds:
// speed and memory targets are checked by peak RSS, never by timing.
// Where /proc does not give it, the calling test is skipped.
package peakrss

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// Read returns the process's peak resident set size in bytes.
func Read(t testing.TB) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Skip("no VmHWM")
	return 0
}

// Reset makes the peak start again from the current resident set (Linux
// 4.0+, clear_refs 5), after returning the Go heap's free memory to the
// system, and returns it: a test then measures what it adds.
func Reset(t testing.TB) uint64 {
	t.Helper()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skip("cannot reset VmHWM:", err)
	}
	return Read(t)
}
