package main

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/dustin/go-humanize"
)

// showProgress prints "<what>: N GiB (R/s)" on stderr five times a second
// until stop is called, when stderr is a terminal: a 60 GiB import takes
// long enough to wonder. Scripts and pipes get no progress noise.
func (a *app) showProgress(what string, done *atomic.Uint64) (stop func()) {
	f, ok := a.stderr.(*os.File)
	if !ok || !term.IsTerminal(f.Fd()) {
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
				n := done.Load()
				rate := uint64(float64(n) / time.Since(start).Seconds())
				fmt.Fprintf(f, "\r%s: %s (%s/s)\033[K", what, humanize.IBytes(n), humanize.IBytes(rate))
			case <-quit:
				fmt.Fprint(f, "\r\033[K")
				return
			}
		}
	}()
	return func() { close(quit); <-finished }
}
