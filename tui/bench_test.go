package tui

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/fsstore"
	"github.com/canscope/canscope/themes"
	"github.com/canscope/canscope/tui/frame"
	st "github.com/canscope/canscope/tui/internal/screentest"
	"github.com/canscope/canscope/tui/screens/detail"
	"github.com/canscope/canscope/tui/screens/diff"
	"github.com/canscope/canscope/tui/screens/lineage"
	"github.com/canscope/canscope/tui/screens/restore"
	"github.com/canscope/canscope/tui/screens/run"
	"github.com/canscope/canscope/tui/source"
)

// bigCatalog holds two manifests of the size the benchmarks target: a
// 4 GiB heap with every page stored and a 64 GiB stable memory with one
// page in 16 stored (65536 pages), the child differing in 1 heap page in
// 8 and 1 stable page in 64. Pages are synthesized from their hash: the
// benchmark measures drawing, not storage.
type bigCatalog struct {
	parent, child *snapshots.Manifest
}

func hashOf(i uint64, salt byte) snapshots.Hash {
	var h snapshots.Hash
	binary.LittleEndian.PutUint64(h[:], i+1)
	h[31] = salt
	return h
}

func newBigCatalog() *bigCatalog {
	const heapPages, stableSize = 65536, 64 << 30
	mk := func(name string, seq int, salt func(uint64, bool) byte) *snapshots.Manifest {
		m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{
			Name: name, Seq: seq, CanisterID: st.LedgerCanister, MadeBy: snapshots.MadeByImport,
			CreatedAt: st.Now().Add(-time.Hour), HeapBytes: heapPages * snapshots.PageSize, StableBytes: stableSize,
		}}
		m.Heap = snapshots.PageTable{Size: heapPages * snapshots.PageSize, Pages: make([]snapshots.Page, heapPages)}
		for i := range uint64(heapPages) {
			m.Heap.Pages[i] = snapshots.Page{Index: i, Hash: hashOf(i, salt(i, false))}
		}
		m.Stable = snapshots.PageTable{Size: stableSize}
		for i := uint64(0); i < stableSize/snapshots.PageSize; i += 16 {
			m.Stable.Pages = append(m.Stable.Pages, snapshots.Page{Index: i, Hash: hashOf(i, salt(i, true))})
		}
		m.ID = snapshots.HashOf([]byte(name))
		return m
	}
	parent := mk("big", 1, func(uint64, bool) byte { return 1 })
	child := mk("big", 2, func(i uint64, stable bool) byte {
		if (!stable && i%8 == 0) || (stable && i%64 == 0) {
			return 2
		}
		return 1
	})
	child.Parent = &parent.ID
	child.MadeBy = snapshots.MadeByUpgrade
	return &bigCatalog{parent: parent, child: child}
}

func (c *bigCatalog) List() ([]snapshots.Snapshot, error) {
	return []snapshots.Snapshot{c.parent.Snapshot, c.child.Snapshot}, nil
}

func (c *bigCatalog) Manifest(id snapshots.ID) (*snapshots.Manifest, error) {
	switch id {
	case c.parent.ID:
		return c.parent, nil
	case c.child.ID:
		return c.child, nil
	}
	return nil, snapshots.ErrNotFound
}

func (c *bigCatalog) ReadBlob(snapshots.Hash) ([]byte, error) { return nil, snapshots.ErrNotFound }

func (c *bigCatalog) ReadPage(h snapshots.Hash, buf []byte) error {
	for i := range buf {
		buf[i] = h[i%32] ^ byte(i)
	}
	return nil
}

// longScript is a run with 100,000 events.
func longScript() *st.Script {
	s := &st.Script{Outcome: source.Outcome{Status: "trapped", TrapMessage: "out of cycles", Limit: 300_000_000_000, Instructions: 1 << 36}}
	for i := range 100_000 {
		e := source.Event{Kind: source.EventSyscall, Syscall: "ic0.stable64_read", Args: "0x0, 0x0, 8", Depth: i % 5, Instructions: uint64(i) << 20}
		if i%3 == 0 {
			e = source.Event{Kind: source.EventEnter, Function: fmt.Sprintf("f%d", i%17), Depth: i % 5}
		}
		s.Steps = append(s.Steps, st.Step{Event: e, HeapPages: i % 2})
	}
	s.Steps[len(s.Steps)-1].Kind = source.EventTrap
	return s
}

// BenchmarkView measures one View of every screen on the big snapshot, at
// 160x48. The target is under 16 ms (one frame at 60 Hz).
func BenchmarkView(b *testing.B) {
	cat := newBigCatalog()
	src := source.Set{Catalog: cat, Runner: longScript(), Forker: st.NewMemory()}
	screens := []struct {
		name string
		make func(*frame.Context) frame.Screen
		keys []tea.Msg
	}{
		{"snapshots", func(c *frame.Context) frame.Screen { return lineage.New(c) }, nil},
		{"detail", func(c *frame.Context) frame.Screen { return detail.New(c, cat.child.ID) }, nil},
		{"detail_zoomed_to_pages", func(c *frame.Context) frame.Screen { return detail.New(c, cat.child.ID) },
			st.Keys("+", "+", "+", "+", "+", "+", "+", "+", "+", "+", "+", "G")},
		{"diff", func(c *frame.Context) frame.Screen { return diff.New(c, cat.parent.ID, cat.child.ID) }, st.Keys("G")},
		{"run_timeline", func(c *frame.Context) frame.Screen { return run.New(c, cat.child.ID) }, st.Keys("space", "enter")},
		{"restore", func(c *frame.Context) frame.Screen { return restore.New(c, cat.child.ID) }, nil},
		{"transplant_report", func(c *frame.Context) frame.Screen { return restore.New(c, ledger3(c)) }, transplantBenchKeys()},
		{"transplant_rehearsed", func(c *frame.Context) frame.Screen { return restore.New(c, ledger3(c)) },
			append(transplantBenchKeys(), st.Keys("enter", "enter", "y")...)},
	}
	for _, sc := range screens {
		b.Run(sc.name, func(b *testing.B) {
			src := src
			if sc.name == "transplant_report" || sc.name == "transplant_rehearsed" {
				src = transplantSource()
			}
			ctx := st.Context(b, "dark", 160, 48, src)
			s := sc.make(ctx)
			s.SetSize(160, 46)
			st.Init(s)
			st.Run(s, sc.keys...)
			if want := map[string]string{"transplant_report": "more lines", "transplant_rehearsed": "TRAPPED"}[sc.name]; !strings.Contains(st.Plain(s.View()), want) {
				b.Fatalf("%s did not reach its screen:\n%s", sc.name, st.Plain(s.View()))
			}
			b.ResetTimer()
			for b.Loop() {
				_ = s.View()
			}
		})
	}
}

// transplantSource is the incident store with a transplanter whose report
// has a 2,000-line Candid diff, so the report view has to cut it.
func transplantSource() source.Set {
	store := st.Incident()
	rep := st.PassingReport()
	for i := range 2000 {
		rep.CandidDiff = append(rep.CandidDiff, fmt.Sprintf("+ method_%d : (nat64) -> (vec record { nat64; text });", i))
	}
	return source.Set{Catalog: store, Exporter: store, Transplanter: &st.Transplanter{Store: store, Report: rep, Steps: st.TrappedSteps()}}
}

// ledger3 is the id of ledger@3 in the context's catalog.
func ledger3(c *frame.Context) snapshots.ID {
	list, _ := c.Sources.Catalog.List()
	s, _ := snapshots.ResolveRef(list, "ledger@3")
	return s.ID
}

func transplantBenchKeys() []tea.Msg {
	return append(append(st.Keys("tab", "tab"), st.Type("testdata/ledger_fixed.wasm")...), st.Key("enter"))
}

// BenchmarkStartup measures opening a store of 100 snapshots and drawing
// the first frame: open, list, lay out, render. The target is under 200 ms.
func BenchmarkStartup(b *testing.B) {
	dir := b.TempDir()
	store, err := fsstore.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	mem := st.Incident()
	st.Persist(b, mem, store)
	list, _ := store.List()
	base, err := store.Manifest(list[len(list)-1].ID)
	if err != nil {
		b.Fatal(err)
	}
	for i := len(list); i < 100; i++ {
		c := base.Child(snapshots.MadeByCall)
		c.Note = fmt.Sprintf("call %d", i)
		s, err := store.Commit(context.Background(), c)
		if err != nil {
			b.Fatal(err)
		}
		if base, err = store.Manifest(s.ID); err != nil {
			b.Fatal(err)
		}
	}
	store.Close()
	th, _ := themes.Lookup("dark")
	b.ResetTimer()
	for b.Loop() {
		s, err := fsstore.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		m := New(Options{Sources: st.Complete(source.Set{Catalog: s}), StorePath: dir, Theme: th})
		drive(m, tea.WindowSizeMsg{Width: 160, Height: 48}, m.Init()())
		if len(m.Render()) == 0 {
			b.Fatal("empty first frame")
		}
		s.Close()
	}
}
