package bridge

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/fsstore"
)

// runFixture is a store and a workbench over engine.New's real
// configuration, closed when the test or benchmark ends: what every
// runner test and benchmark opens before it runs anything.
type runFixture struct {
	st    *fsstore.Store
	bench *workbench.Bench
}

func newRunFixture(tb testing.TB) runFixture {
	tb.Helper()
	st, err := fsstore.Open(filepath.Join(tb.TempDir(), "store"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	eng, err := engine.New(engine.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close(context.Background()) }) // before the store: cleanups run last first
	return runFixture{st: st, bench: workbench.New(st, eng)}
}

// update is one message run on a fixture canister before its commit.
type update struct {
	method string
	arg    []byte
}

// snapshot installs the module at path, runs the updates (each must
// succeed) and commits the state as name.
func (f runFixture) snapshot(tb testing.TB, path, name string, updates ...update) snapshots.Snapshot {
	tb.Helper()
	ctx := context.Background()
	code, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	run, res, err := f.bench.Install(ctx, code, nil, "")
	if err != nil || res.Status != engine.StatusOK {
		tb.Fatalf("install %s: %v %+v", path, err, res)
	}
	defer run.Close(ctx)
	madeBy := snapshots.MadeByInstall
	for _, u := range updates {
		if res, err := run.Canister.Update(ctx, u.method, u.arg); err != nil || res.Status != engine.StatusOK {
			tb.Fatalf("%s: %v %+v", u.method, err, res)
		}
		madeBy = snapshots.MadeByCall
	}
	snap, err := run.Commit(ctx, workbench.CommitOptions{Name: name, MadeBy: madeBy})
	if err != nil {
		tb.Fatal(err)
	}
	return snap
}
