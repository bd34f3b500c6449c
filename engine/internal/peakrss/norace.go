//go:build !race

package peakrss

// RaceDetector reports whether the test binary runs with the race
// detector, whose shadow memory grows RSS with everything the run
// allocates: the memory bounds hold for normal builds, not for -race.
const RaceDetector = false
