package layout

import (
	"context"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine"
)

// These tests run the engine's fixture canisters and decode the stable
// memory they really write, so the decoders are checked against the
// libraries' layouts as well as against the fixtures built in Go.

type canisterStable struct{ c *engine.Canister }

func (s canisterStable) ReadAt(p []byte, off int64) (int, error) {
	if err := s.c.ReadStable(p, uint64(off)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func runFixture(t *testing.T, e *engine.Engine, name string) *engine.Module {
	t.Helper()
	b, err := os.ReadFile("../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.Load(context.Background(), b)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return m
}

func mustOK(t *testing.T, what string, res engine.Result, err error) {
	t.Helper()
	if err == nil {
		err = res.Err("fixture")
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func newCanister(t *testing.T) (*engine.Engine, *engine.Canister) {
	t.Helper()
	ctx := context.Background()
	e, err := engine.New(engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(ctx) })
	c, err := e.NewCanister(ctx, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e, c
}

func TestStableStructuresCanister(t *testing.T) {
	ctx := context.Background()
	e, c := newCanister(t)
	res, err := c.Install(ctx, runFixture(t, e, "stable_structures.wasm"), nil)
	mustOK(t, "install", res, err)
	l, err := Detect(canisterStable{c}, c.StableSize(), "")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "stable_structures.txt", l.String())
	if l.Kind != KindMemoryManager || len(l.Manager.Problems) != 0 {
		t.Fatalf("layout %s, problems %q", l.Summary, l.Manager.Problems)
	}

	// vec_push changes memory 1 only; the changed page is labelled so.
	c.Mark()
	arg := binary.LittleEndian.AppendUint64(nil, 40)
	res, err = c.Update(ctx, "vec_push", arg)
	mustOK(t, "vec_push", res, err)
	_, pages := c.Changed()
	if len(pages) != 1 {
		t.Fatalf("vec_push changed stable pages %v, want one", pages)
	}
	if id, ok := l.MemoryAt(pages[0] * wasmPageSize); !ok || id != 1 {
		t.Errorf("changed page %d is memory %d (%v), want memory 1", pages[0], id, ok)
	}
	after, err := Detect(canisterStable{c}, c.StableSize(), "")
	if err != nil {
		t.Fatal(err)
	}
	if e := after.Manager.Memories[1].Structure.Entries; e == nil || *e != 4 {
		t.Errorf("Vec entries after a push: %v, want 4", e)
	}
}

// TestMotokoCanister upgrades the Motoko fixture to a module that leaves
// stable memory alone, so what remains is exactly what Motoko's
// pre_upgrade wrote.
func TestMotokoCanister(t *testing.T) {
	ctx := context.Background()
	e, c := newCanister(t)
	v1 := runFixture(t, e, "motoko_v1.wasm")
	types, _, ok := v1.Metadata("motoko:stable-types")
	if !ok {
		t.Fatal("motoko_v1.wasm has no motoko:stable-types section")
	}
	res, err := c.Install(ctx, v1, []byte("DIDL\x00\x00"))
	mustOK(t, "install", res, err)

	// Before any upgrade nothing is serialised: the variables are listed
	// from the stable-types text alone.
	l, err := Detect(canisterStable{c}, c.StableSize(), string(types))
	if err != nil {
		t.Fatal(err)
	}
	if l.Kind != KindMotoko || l.Motoko.Version != -1 || len(l.Motoko.Variables) != 4 {
		t.Fatalf("before upgrade: %s", l.Summary)
	}

	for _, arg := range []string{"DIDL\x00\x02\x7d\x71\x07\x05seven", "DIDL\x00\x02\x7d\x71\x05\x04five"} {
		res, err = c.Update(ctx, "add", []byte(arg))
		mustOK(t, "add", res, err)
	}
	res, err = c.Upgrade(ctx, runFixture(t, e, "counter.wasm"), nil, engine.UpgradeOptions{})
	mustOK(t, "upgrade to counter.wasm", res, err)
	l, err = Detect(canisterStable{c}, c.StableSize(), string(types))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "motoko_v1.txt", l.String())
	mo := l.Motoko
	if !mo.Decoded || mo.Version != 0 || mo.DataOffset != 4 {
		t.Fatalf("motoko %+v", mo)
	}
	want := map[string]string{"count": "12", "title": `"five"`, "history": "vec { 7; 5 }", "upgrades": "1"}
	for _, v := range mo.Variables {
		if v.Value != want[v.Name] || v.Bytes <= 0 {
			t.Errorf("variable %s = %s (%d bytes), want %s", v.Name, v.Value, v.Bytes, want[v.Name])
		}
	}
	if got := l.Describe(10); got != "Motoko stable variables" {
		t.Errorf("Describe(10) = %q", got)
	}
	if !strings.Contains(l.Summary, "format v0") {
		t.Errorf("summary %q", l.Summary)
	}
	shallow, err := DetectShallow(canisterStable{c}, c.StableSize(), string(types))
	if err != nil {
		t.Fatal(err)
	}
	if shallow.Motoko.Decoded || shallow.Motoko.DataBytes != mo.DataBytes || shallow.Describe(10) != l.Describe(10) {
		t.Errorf("shallow detection %+v", shallow.Motoko)
	}
}

// TestMotokoLayouts covers the version 1 (ExperimentalStableMemory) and
// version 2 (regions) layouts with this package's own Motoko fixtures
// (testdata/regen.sh rebuilds them).
func TestMotokoLayouts(t *testing.T) {
	tests := []struct {
		fixture, method string
		version         int
		userPages       uint64
		decoded         bool
	}{
		{"motoko_stablemem", "touch", 1, 1, true},
		{"motoko_mutable", "bump", 2, 144, true},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			ctx := context.Background()
			e, c := newCanister(t)
			b, err := os.ReadFile("testdata/" + tt.fixture + ".wasm.gz")
			if err != nil {
				t.Fatal(err)
			}
			mod, err := e.Load(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			types, _, _ := mod.Metadata("motoko:stable-types")
			res, err := c.Install(ctx, mod, []byte("DIDL\x00\x00"))
			mustOK(t, "install", res, err)
			res, err = c.Update(ctx, tt.method, []byte("DIDL\x00\x00"))
			mustOK(t, tt.method, res, err)
			res, err = c.Upgrade(ctx, runFixture(t, e, "counter.wasm"), nil, engine.UpgradeOptions{})
			mustOK(t, "upgrade to counter.wasm", res, err)
			l, err := Detect(canisterStable{c}, c.StableSize(), string(types))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.fixture+".txt", l.String())
			mo := l.Motoko
			if mo == nil || mo.Version != tt.version || mo.UserPages != tt.userPages || mo.Decoded != tt.decoded {
				t.Fatalf("layout %s: %+v", l.Summary, mo)
			}
			if got := l.Describe(0); !strings.Contains(got, "regions/ExperimentalStableMemory") {
				t.Errorf("Describe(0) = %q", got)
			}
			if got := l.Describe(mo.DataOffset); got != "Motoko stable variables" {
				t.Errorf("Describe(data) = %q", got)
			}
		})
	}
}
