package main

import (
	"bytes"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	gib := uint64(1 << 30)
	for _, tt := range []struct {
		p           progress
		done, total uint64
		elapsed     time.Duration
		want        string
	}{
		{progress{What: "importing", Unit: unitBytes}, gib, 4 * gib, 2 * time.Second,
			"importing: 1.0 GiB / 4.0 GiB (25%), 512 MiB/s, ETA 6s"},
		{progress{What: "exporting", Unit: unitBytes}, gib, 0, time.Second,
			"exporting: 1.0 GiB, 1.0 GiB/s"},
		{progress{What: "checking", Unit: unitBlobs}, 1500, 3000, time.Second,
			"checking: 1,500 blobs / 3,000 blobs (50%), 1,500 blobs/s, ETA 1s"},
		{progress{What: "running pre_upgrade", Unit: unitInstructions, Estimate: true}, 2e9, 8e9, 2 * time.Second,
			"running pre_upgrade: 2 G instr / ~8 G instr (~25%), 1 G instr/s, ETA ~6s"},
		{progress{What: "running pre_upgrade", Unit: unitInstructions, Estimate: true}, 9e9, 8e9, 3 * time.Second,
			"running pre_upgrade: 9 G instr / ~8 G instr (~100%), 3 G instr/s, past the previous run's count"},
	} {
		if got := tt.p.line(tt.done, tt.total, tt.elapsed); got != tt.want {
			t.Errorf("line = %q\n  want %q", got, tt.want)
		}
	}
}

// Piped stderr (here a buffer) or --json gets no progress at all.
func TestProgressSilentWhenNotATerminal(t *testing.T) {
	var stderr bytes.Buffer
	a := &app{stderr: &stderr}
	n := uint64(5)
	stop := a.showProgress(progress{What: "importing", Done: func() uint64 { return n }}, false)
	time.Sleep(250 * time.Millisecond)
	stop()
	if stderr.Len() != 0 {
		t.Errorf("progress wrote %q to a non-terminal", stderr.String())
	}
}
