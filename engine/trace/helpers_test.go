package trace

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/fsstore"
)

// fixture is a store with an engine and a tracer over it.
type fixture struct {
	store  *fsstore.Store
	eng    *engine.Engine
	bench  *workbench.Bench
	tracer *Tracer
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	st, err := fsstore.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		eng.Close(context.Background())
		st.Close()
	})
	b := workbench.New(st, eng)
	return &fixture{store: st, eng: eng, bench: b, tracer: New(b, st)}
}

// open opens a trace session on snapshot id and closes it when the test
// ends.
func (f *fixture) open(t testing.TB, id snapshots.ID, req Request) *Session {
	t.Helper()
	s, err := f.tracer.Open(context.Background(), id, req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("close session: %v", err)
		}
	})
	return s
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// install installs wasm and runs the given update calls, committing the
// state after each; it returns the last snapshot.
func (f *fixture) install(t testing.TB, wasm string, calls ...call) snapshots.Snapshot {
	t.Helper()
	return f.installArg(t, wasm, nil, calls...)
}

// installArg is install with an init argument.
func (f *fixture) installArg(t testing.TB, wasm string, arg []byte, calls ...call) snapshots.Snapshot {
	t.Helper()
	ctx := context.Background()
	run, res, err := f.bench.Install(ctx, readFile(t, wasm), arg, "")
	if err != nil || res.Status != engine.StatusOK {
		t.Fatalf("install %s: %v %+v", wasm, err, res.Trap)
	}
	defer run.Close(ctx)
	snap, err := run.Commit(ctx, workbench.CommitOptions{Name: "prod", MadeBy: snapshots.MadeByInstall})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		res, err := run.Canister.Update(ctx, c.method, c.arg)
		if err != nil || res.Status != engine.StatusOK {
			t.Fatalf("%s: %v %+v", c.method, err, res)
		}
		if snap, err = run.Commit(ctx, workbench.CommitOptions{Name: "prod", MadeBy: snapshots.MadeByCall}); err != nil {
			t.Fatal(err)
		}
	}
	return snap
}

type call struct {
	method string
	arg    []byte
}

// incident is the incident recipe of engine/testdata/README.md.
func (f *fixture) incident(t testing.TB) snapshots.Snapshot {
	return f.install(t, "../testdata/incident.wasm",
		call{"add_chunks", u64(16)}, call{"grow_stable", u64(65537)})
}

// events returns every event the session's log recorded.
func events(t testing.TB, s *Session) []Event {
	t.Helper()
	seq, failed := s.All()
	out := slices.Collect(seq)
	if err := failed(); err != nil {
		t.Fatal(err)
	}
	return out
}
