package frame

import "context"

// Job is a screen's background work (a run, a search, a check, an
// export): Start gives it a context that Stop, the next Start or the
// screen's end cancels, and a tag its results carry, so the result of a
// cancelled or superseded job is dropped (Current). Run, restore, diff and
// detail all track their work with it. A Job is used from the screen's
// Update only, like the rest of the model.
type Job struct {
	tag     int
	cancel  context.CancelFunc
	running bool
}

// Start stops the running job and starts the next under parent, returning
// its context and tag.
func (j *Job) Start(parent context.Context) (context.Context, int) {
	j.Stop()
	ctx, cancel := context.WithCancel(parent)
	j.cancel, j.running = cancel, true
	return ctx, j.tag
}

// Stop cancels the running job, if any; its results are stale from now.
func (j *Job) Stop() {
	if j.cancel != nil {
		j.cancel()
		j.cancel = nil
	}
	j.running = false
	j.tag++
}

// Cancel cancels the running job's context but keeps it current: its own
// result (a cancellation error) still arrives, for the screen to say the
// job was cancelled.
func (j *Job) Cancel() {
	if j.cancel != nil {
		j.cancel()
	}
}

// Current reports whether tag is the running job's: a result carrying
// another tag is stale.
func (j *Job) Current(tag int) bool { return j.running && tag == j.tag }

// Finish marks job tag done (its result arrived), releasing its context;
// it reports whether tag was current, so a stale result is dropped.
func (j *Job) Finish(tag int) bool {
	if !j.Current(tag) {
		return false
	}
	if j.cancel != nil {
		j.cancel()
	}
	j.cancel, j.running = nil, false
	return true
}

// Running reports whether a job is running.
func (j *Job) Running() bool { return j.running }
