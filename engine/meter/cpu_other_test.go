//go:build !linux

package meter

import "time"

// threadCPU is unavailable here; the benchmarks then report wall time only.
func threadCPU() (time.Duration, bool) { return 0, false }
