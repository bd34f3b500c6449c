package engine

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// newEngine returns an engine closed at the end of the test.
func newEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return e
}

// load reads and loads a module from testdata.
func load(t testing.TB, e *Engine, name string) *Module {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.Load(context.Background(), b)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return m
}

// installed returns a canister with mod installed with arg.
func installed(t testing.TB, e *Engine, mod *Module, arg []byte) *Canister {
	t.Helper()
	ctx := context.Background()
	c, err := e.NewCanister(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	res, err := c.Install(ctx, mod, arg)
	mustOK(t, res, err)
	return c
}

// mustOK fails the test unless the result is StatusOK.
func mustOK(t testing.TB, res Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusOK {
		t.Fatalf("status %s: %s", res.Status, res.ErrorText("test"))
	}
}

func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func TestCounter(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	mod := load(t, e, "counter.wasm")
	c := installed(t, e, mod, u64(40))
	res, err := c.Update(ctx, "inc", u64(2))
	mustOK(t, res, err)
	if got := binary.LittleEndian.Uint64(res.Reply); got != 42 {
		t.Fatalf("inc replied %d, want 42", got)
	}
	if len(res.HeapPagesChanged) != 1 || res.HeapPagesChanged[0] != 0 {
		t.Errorf("inc changed heap pages %v, want [0]", res.HeapPagesChanged)
	}
	res, err = c.Query(ctx, "get", nil)
	mustOK(t, res, err)
	if got := binary.LittleEndian.Uint64(res.Reply); got != 42 {
		t.Fatalf("get replied %d, want 42", got)
	}
	if c.Version() != 2 {
		t.Errorf("version %d after install and one update, want 2", c.Version())
	}
}
