package engine

import (
	"context"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// keepState is keep_counter's `get` reply.
type keepState struct{ counter, starts, marker, global, pages, preUpgrades uint64 }

func getKeep(t *testing.T, c *Canister) keepState {
	t.Helper()
	res, err := c.Query(context.Background(), "get", nil)
	mustOK(t, res, err)
	if len(res.Reply) != 48 {
		t.Fatalf("get replied %d bytes", len(res.Reply))
	}
	r := func(i int) uint64 { return binary.LittleEndian.Uint64(res.Reply[8*i:]) }
	return keepState{r(0), r(1), r(2), r(3), r(4), r(5)}
}

// TestUpgradeKeepsMainMemory: with KeepMainMemory the new module runs on
// the old heap as the replica's Keep does (install_code.rs): the heap and
// its size survive, the new data segments are not applied, the globals
// are the new module's initial values, and the start function runs on
// the kept heap. Replace starts from the new module's fresh memory.
func TestUpgradeKeepsMainMemory(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	v1, v2 := load(t, e, "keep_counter.wasm"), load(t, e, "keep_counter_v2.wasm")
	if !v1.ExpectsEOP() || !v2.ExpectsEOP() {
		t.Fatal("keep_counter fixtures lack the enhanced-orthogonal-persistence metadata")
	}
	prepare := func() *Canister {
		c := installed(t, e, v1, nil)
		for _, m := range []string{"inc", "inc", "mark", "grow"} {
			res, err := c.Update(ctx, m, nil)
			mustOK(t, res, err)
		}
		if got, want := getKeep(t, c), (keepState{2, 1, 0xaa, 9, 4, 0}); got != want {
			t.Fatalf("before the upgrade: %+v, want %+v", got, want)
		}
		return c
	}

	c := prepare()
	c.Mark()
	res, err := c.Upgrade(ctx, v2, nil, UpgradeOptions{KeepMainMemory: true})
	mustOK(t, res, err)
	// A child snapshot stores what changed since the Mark: page 0 (the
	// start count) and page 1 (pre_upgrade's count), not the whole kept
	// heap; a replaced heap counts every page.
	if heapChanged, _ := c.Changed(); !slices.Equal(heapChanged, []uint64{0, 1}) {
		t.Errorf("heap pages changed by the kept upgrade: %v, want [0 1]", heapChanged)
	}
	if got, want := getKeep(t, c), (keepState{2, 2, 0xaa, 7, 4, 1}); got != want {
		t.Errorf("after upgrade (keep): %+v, want %+v", got, want)
	}
	res, err = c.Query(ctx, "version", nil)
	mustOK(t, res, err)
	if v := binary.LittleEndian.Uint64(res.Reply); v != 2 {
		t.Errorf("version %d after the upgrade, want 2", v)
	}
	// The kept heap is committed: the next message and a second upgrade
	// see it.
	res, err = c.Update(ctx, "inc", nil)
	mustOK(t, res, err)
	res, err = c.Upgrade(ctx, nil, nil, UpgradeOptions{KeepMainMemory: true})
	mustOK(t, res, err)
	if got, want := getKeep(t, c), (keepState{3, 3, 0xaa, 7, 4, 2}); got != want {
		t.Errorf("after a second upgrade (keep): %+v, want %+v", got, want)
	}
	st, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	if st.HeapSize != 4*PageSize {
		t.Errorf("state heap %d bytes, want 4 pages", st.HeapSize)
	}

	c = prepare()
	c.Mark()
	res, err = c.Upgrade(ctx, v2, nil, UpgradeOptions{})
	mustOK(t, res, err)
	if heapChanged, _ := c.Changed(); len(heapChanged) != 4 {
		t.Errorf("heap pages changed by the replacing upgrade: %v, want all 4", heapChanged)
	}
	if got, want := getKeep(t, c), (keepState{0, 1, 2, 7, 2, 0}); got != want {
		t.Errorf("after upgrade (replace): %+v, want %+v", got, want)
	}
}

// A kept heap larger than the new module's maximum fails the upgrade and
// leaves the canister as it was.
func TestUpgradeKeepRefusesSmallerMaximum(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	v1 := load(t, e, "keep_counter.wasm")
	c := installed(t, e, v1, nil)
	for range 3 {
		res, err := c.Update(ctx, "grow", nil) // 8 pages
		mustOK(t, res, err)
	}
	// (module (memory 1 2)) with the EOP metadata.
	code := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 5, 4, 1, 1, 1, 2}
	name := "icp:private enhanced-orthogonal-persistence"
	code = append(code, 0, byte(1+len(name)+1), byte(len(name)))
	code = append(append(code, name...), 'x')
	small, err := e.Load(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upgrade(ctx, small, nil, UpgradeOptions{KeepMainMemory: true}); err == nil || !strings.Contains(err.Error(), "exceeds the new module's maximum memory of 2 pages") {
		t.Fatalf("upgrade onto a 2-page maximum: %v", err)
	}
	if got := getKeep(t, c); got.pages != 8 || got.marker != 1 {
		t.Errorf("after the refused upgrade: %+v", got)
	}
}

// A new module whose start function traps on the kept heap rolls the
// upgrade back: the old module and its heap stay.
func TestUpgradeKeepRollsBack(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "keep_counter.wasm"), nil)
	res, err := c.Update(ctx, "inc", nil)
	mustOK(t, res, err)
	// (module (memory 1) (func unreachable) (start 0)) with the EOP
	// metadata.
	code := []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 4, 1, 0x60, 0, 0, // type () -> ()
		3, 2, 1, 0, // func 0: type 0
		5, 3, 1, 0, 1, // memory 1
		8, 1, 0, // start 0
		10, 5, 1, 3, 0, 0x00, 0x0b, // body: unreachable
	}
	name := "icp:private enhanced-orthogonal-persistence"
	code = append(code, 0, byte(1+len(name)+1), byte(len(name)))
	code = append(append(code, name...), 'x')
	trapping, err := e.Load(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	res, err = c.Upgrade(ctx, trapping, nil, UpgradeOptions{KeepMainMemory: true})
	if err != nil || res.Status != StatusTrapped {
		t.Fatalf("upgrade: status %s, err %v; want a trap", res.Status, err)
	}
	if got, want := getKeep(t, c), (keepState{1, 1, 1, 8, 2, 0}); got != want {
		t.Errorf("after the rolled-back upgrade: %+v, want %+v", got, want)
	}
}

// BenchmarkUpgradeKeepHeap measures an upgrade that keeps a 256 MiB heap
// of data (keep_counter grown, every page written): the copy into the new
// module's heap is the cost keep adds to an upgrade.
func BenchmarkUpgradeKeepHeap(b *testing.B) {
	ctx := context.Background()
	e := newEngine(b, Config{})
	c := installed(b, e, load(b, e, "keep_counter.wasm"), nil)
	for range 2047 { // 2 + 2·2047 = 4096 pages
		if res, err := c.Update(ctx, "grow", nil); err != nil || res.Status != StatusOK {
			b.Fatal(res.Status, err)
		}
	}
	page := make([]byte, PageSize)
	for i := range page {
		page[i] = byte(i)
	}
	for p := uint64(2); p < c.code.heap.Size()/PageSize; p++ {
		if err := c.code.heap.WriteAt(page, p*PageSize); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(c.code.heap.Size()))
	b.ResetTimer()
	for b.Loop() {
		res, err := c.Upgrade(ctx, nil, nil, UpgradeOptions{KeepMainMemory: true})
		if err != nil || res.Status != StatusOK {
			b.Fatal(res.Status, err)
		}
	}
}
