package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/dustin/go-humanize"
)

// progressUnit says how a progress line prints its counts.
type progressUnit int

const (
	unitBytes        progressUnit = iota // 1.2 GiB, 300 MiB/s
	unitInstructions                     // 1.2 G instr, 300 M instr/s
	unitBlobs                            // 12,345 blobs, 4,000 blobs/s
)

func (u progressUnit) format(n uint64) string {
	switch u {
	case unitInstructions:
		return strings.TrimSuffix(humanize.SIWithDigits(float64(n), 1, ""), " ") + " instr"
	case unitBlobs:
		return humanize.Comma(int64(n)) + " blobs"
	}
	return humanize.IBytes(n)
}

// progress describes one long piece of work for showProgress. Done and
// Total are read five times a second while the work runs, so they must
// be safe to call concurrently (an atomic's Load).
//
// For a run (rehearse, call), Done is the instruction counter, Total the
// instruction limit, or with Estimate the previous run's count of the
// same snapshot and method (the ETA then reads "~"):
//
//	stop := a.showProgress(progress{What: "running pre_upgrade", Unit: unitInstructions,
//		Done: counter.Load, Total: func() uint64 { return limit }}, asJSON)
//	defer stop()
type progress struct {
	What     string        // "importing", "exporting", "checking"
	Unit     progressUnit  // how counts print
	Done     func() uint64 // work finished so far
	Total    func() uint64 // work in all; nil or 0 while unknown
	Estimate bool          // Total is a guess (the previous run), not a bound
}

// line renders the progress after elapsed: "importing: 1.2 GiB / 44 GiB
// (3%), 310 MiB/s, ETA 2m20s". Past an estimated total it says so
// instead of a negative ETA.
func (p progress) line(done, total uint64, elapsed time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", p.What, p.Unit.format(done))
	if total > 0 {
		approx := ""
		if p.Estimate {
			approx = "~"
		}
		fmt.Fprintf(&b, " / %s%s (%s%d%%)", approx, p.Unit.format(total), approx, min(100, done*100/total))
	}
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	fmt.Fprintf(&b, ", %s/s", p.Unit.format(uint64(rate)))
	switch {
	case total == 0 || rate == 0:
	case done >= total && p.Estimate:
		b.WriteString(", past the previous run's count")
	case done < total:
		eta := time.Duration(float64(total-done) / rate * float64(time.Second))
		approx := ""
		if p.Estimate {
			approx = "~"
		}
		fmt.Fprintf(&b, ", ETA %s%s", approx, eta.Round(time.Second))
	}
	return b.String()
}

// showProgress prints p's line on stderr five times a second until stop
// is called, when stderr is a terminal and quiet (--json) is false:
// scripts, pipes and JSON consumers get no progress noise. stop clears
// the line.
func (a *app) showProgress(p progress, quiet bool) (stop func()) {
	f, ok := a.stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(f.Fd()) {
		return func() {}
	}
	start := time.Now()
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				var total uint64
				if p.Total != nil {
					total = p.Total()
				}
				fmt.Fprintf(f, "\r%s\033[K", p.line(p.Done(), total, time.Since(start)))
			case <-quit:
				fmt.Fprint(f, "\r\033[K")
				return
			}
		}
	}()
	return func() { close(quit); <-finished }
}
