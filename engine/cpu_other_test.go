//go:build !linux

package engine

import "time"

// threadCPU is unavailable here; the benchmarks then report wall time only.
func threadCPU() (time.Duration, bool) { return 0, false }
