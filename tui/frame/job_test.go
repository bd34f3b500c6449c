package frame

import (
	"context"
	"testing"
)

func TestJob(t *testing.T) {
	var j Job
	ctx1, tag1 := j.Start(context.Background())
	if !j.Running() || !j.Current(tag1) {
		t.Fatal("a started job is running and current")
	}
	ctx2, tag2 := j.Start(context.Background())
	if ctx1.Err() == nil || j.Current(tag1) || j.Finish(tag1) {
		t.Error("the next Start cancels the first job and makes its results stale")
	}
	if !j.Finish(tag2) || ctx2.Err() == nil || j.Running() {
		t.Error("Finish of the current job releases it")
	}
	if j.Finish(tag2) {
		t.Error("a job finishes once")
	}
	ctx4, tag4 := j.Start(context.Background())
	j.Cancel()
	if ctx4.Err() == nil || !j.Current(tag4) || !j.Finish(tag4) {
		t.Error("Cancel stops the work but its result still counts")
	}
	ctx3, tag3 := j.Start(context.Background())
	j.Stop()
	if ctx3.Err() == nil || j.Current(tag3) || j.Running() {
		t.Error("Stop cancels the job and makes its results stale")
	}
}
