package engine

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
)

// pageSource serves pages from a State's page list.
type pageSource []Page

func (s pageSource) BackedPages() []uint64 {
	var out []uint64
	for _, p := range s {
		out = append(out, p.Index)
	}
	return out
}

func (s pageSource) ReadPage(idx uint64, dst []byte) error {
	for _, p := range s {
		if p.Index == idx {
			clear(dst[copy(dst, p.Data):])
			return nil
		}
	}
	clear(dst)
	return nil
}

// TestRestoreFromSources restores the same state from page lists and from
// page sources (streamed heap, on-demand stable memory): the canisters
// must be byte-identical and behave the same.
func TestRestoreFromSources(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	mod := load(t, e, "incident.wasm")
	c := installed(t, e, mod, nil)
	for _, call := range []struct {
		method string
		arg    uint64
	}{{"add_chunks", 3}, {"grow_stable", 5}} {
		res, err := c.Update(ctx, call.method, u64(call.arg))
		mustOK(t, res, err)
	}
	res, err := c.Upgrade(ctx, nil, nil, UpgradeOptions{}) // writes the data to stable memory
	mustOK(t, res, err)
	st, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.StablePages) == 0 || len(st.HeapPages) == 0 {
		t.Fatal("the state has no stable or heap data to restore")
	}
	fromPages, err := e.Restore(ctx, mod, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fromPages.Close(ctx)
	src := st
	src.HeapSource, src.StableSource = pageSource(st.HeapPages), pageSource(st.StablePages)
	src.HeapPages, src.StablePages = nil, nil
	fromSources, err := e.Restore(ctx, mod, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fromSources.Close(ctx)
	if n := fromSources.StableAllocated(); n != 0 {
		t.Errorf("restore read %d stable pages before any was used", n)
	}
	for _, c := range []*Canister{fromPages, fromSources} {
		res, err := c.Query(ctx, "verify", nil)
		mustOK(t, res, err)
	}
	a, err := fromPages.State()
	if err != nil {
		t.Fatal(err)
	}
	b, err := fromSources.State()
	if err != nil {
		t.Fatal(err)
	}
	if a.HeapSize != b.HeapSize || !samePages(a.HeapPages, b.HeapPages) || !samePages(a.StablePages, b.StablePages) || !slices.Equal(a.Globals, b.Globals) {
		t.Error("the state restored from sources differs from the one restored from pages")
	}

	both := st
	both.StableSource = pageSource(st.StablePages)
	if _, err := e.Restore(ctx, mod, both, Options{}); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("pages and a source for one memory: %v, want an error", err)
	}
}

func samePages(a, b []Page) bool {
	key := func(x, y Page) int { return int(x.Index) - int(y.Index) }
	a, b = slices.SortedFunc(slices.Values(a), key), slices.SortedFunc(slices.Values(b), key)
	return slices.EqualFunc(a, b, func(x, y Page) bool { return x.Index == y.Index && bytes.Equal(x.Data, y.Data) })
}
