package tui

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/engine/workbench/demo"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/snapshots/fsstore"
	"github.com/canscope/canscope/themes"
	"github.com/canscope/canscope/tui/bridge"
	st "github.com/canscope/canscope/tui/internal/screentest"
	"github.com/canscope/canscope/tui/source"
)

// TestFakesMatchReal runs the same cases through the test fakes and the
// real adapters (tui/bridge) on the same snapshots and compares what the
// screens get, so a fake cannot drift from the program (the fake exporter
// once returned 2 dfx commands where the program prints 5; TestReal
// compares the exporters on a snapshot the engine made).
func TestFakesMatchReal(t *testing.T) {
	ctx := context.Background()
	fake := st.Incident()
	fs, err := fsstore.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	st.Persist(t, fake.Clone(), fs)
	real := bridge.New(fs, nil, nil)
	realID := func(ref string) snapshots.ID {
		s, err := fs.Resolve(ref)
		if err != nil {
			t.Fatal(err)
		}
		return s.ID
	}

	// Fork: the same name, sequence, kind and lineage.
	rf, err := real.Forker.Fork(ctx, realID("ledger@2"), "hotfix")
	if err != nil {
		t.Fatal(err)
	}
	ff, err := fake.Fork(ctx, fake.ID(t, "ledger@2"), "hotfix")
	if err != nil {
		t.Fatal(err)
	}
	describe := func(s snapshots.Snapshot, ref func(snapshots.ID) string) string {
		from, parent := "-", "-"
		if s.ForkedFrom != nil {
			from = ref(*s.ForkedFrom)
		}
		if s.Parent != nil {
			parent = ref(*s.Parent)
		}
		return strings.Join([]string{s.Ref(), string(s.MadeBy), "from " + from, "parent " + parent}, " ")
	}
	fakeRef := func(id snapshots.ID) string { m, _ := fake.Manifest(id); return m.Ref() }
	realRef := func(id snapshots.ID) string { m, _ := fs.Manifest(id); return m.Ref() }
	if g, w := describe(ff, fakeRef), describe(rf, realRef); g != w {
		t.Errorf("the fake fork makes %q, the real one %q", g, w)
	}
}

// readmeNow is the clock of the README captures: the day after the demo's
// last snapshot, so "TAKEN" reads as an incident over a few days.
var readmeNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// TestReal captures the UI driven through the real adapters on the demo
// store (`canscope demo`): the README shows these, so its screens are what
// the program draws. Snapshot ids differ per store, so no capture shows
// one.
func TestReal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo on the engine; skipped with -short")
	}
	ctx := context.Background()
	fs, err := fsstore.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	eng, err := engine.New(engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	bench := workbench.New(fs, eng)
	defer bench.Close(ctx)
	if _, err := demo.Load(ctx, bench, fs); err != nil {
		t.Fatal(err)
	}
	tracer := trace.New(bench, fs)
	defer tracer.Close(ctx)
	src := bridge.New(fs, bench, tracer)

	// The fake exporter checks and returns what the real one does for the
	// same snapshot and directory.
	// The headroom screen's adapter rehearses the lineage with the CLI's
	// cache: the second run reads every point from it.
	t.Run("headroom", func(t *testing.T) {
		t.Setenv("XDG_CACHE_HOME", t.TempDir())
		h := bridge.New(fs, bench, tracer).Headroom
		var counts []int
		first, err := h.Headroom(ctx, demo.MotokoName, func(done, total int) { counts = append(counts, done, total) })
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(counts, []int{1, 4, 2, 4, 3, 4, 4, 4}) {
			t.Errorf("progress = %v, want each of the 4 snapshots", counts)
		}
		if first.Points != 4 || len(first.Limits) == 0 || len(first.Series) != len(first.Limits) || !strings.Contains(first.Summary, "(0 from the cache)") {
			t.Fatalf("first run: %+v", first)
		}
		again, err := h.Headroom(ctx, demo.MotokoName, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(again.Summary, "(4 from the cache)") || !reflect.DeepEqual(again.Limits, first.Limits) {
			t.Errorf("second run: %q, limits %v, want the first run's from the cache", again.Summary, again.Limits)
		}
		if _, err := h.Headroom(ctx, "nope", nil); err == nil || !strings.Contains(err.Error(), `no snapshot is named "nope"`) {
			t.Errorf("unknown lineage: %v", err)
		}
	})

	t.Run("fake_exporter", func(t *testing.T) {
		wallet, err := fs.Resolve(demo.MotokoName)
		if err != nil {
			t.Fatal(err)
		}
		m, err := fs.Manifest(wallet.ID)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "export")
		wantCheck, err := src.Exporter.Check(ctx, wallet.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, err := src.Exporter.Export(ctx, wallet.ID, dir, source.ExportRequest{Upgrade: dfx.Upgrade{Wasm: "fixed.wasm"}})
		if err != nil {
			t.Fatal(err)
		}
		fake := st.NewMemory()
		blob, err := fs.ReadBlob(m.Module)
		if err != nil {
			t.Fatal(err)
		}
		fake.Blob(blob)
		id := fake.Add(m.Clone()).ID
		gotCheck, err := fake.Check(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fake.Export(ctx, id, dir, source.ExportRequest{Upgrade: dfx.Upgrade{Wasm: "fixed.wasm"}})
		if err != nil {
			t.Fatal(err)
		}
		if !wantCheck.OK || gotCheck.OK != wantCheck.OK || !reflect.DeepEqual(gotCheck.Checks, wantCheck.Checks) || !slices.Equal(gotCheck.NotChecked, wantCheck.NotChecked) {
			t.Errorf("the fake check reports\n%+v\nthe real one\n%+v", gotCheck, wantCheck)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("the fake exporter returns\n%q\nthe real one\n%q", got, want)
		}
	})

	tests := []struct {
		name string
		keys []tea.Msg
		want []string // what the capture must show, checked before it is compared
	}{
		{"snapshots_80x24", nil, []string{"demo-ledger@5", "demo-wallet@4"}},
		// demo-ledger@4's stable memory grew past 4 GiB: n goes from the
		// changed heap page to the page at 4 GiB.
		{"diff_added_range_80x24", st.Keys("down", "down", "space", "down", "space", "d", "n"),
			[]string{"Diff demo-ledger@3 → demo-ledger@4", "stable page 65536", "zero pages skipped"}},
		{"run_form_80x24", append(st.Keys("G", "r", "tab"), st.Type("add")...),
			[]string{"add : (nat, text) -> (nat)"}},
		// The stuck upgrade: the timeline opens on the trap.
		{"run_timeline_80x24", st.Keys("down", "down", "down", "down", "r", "space", "enter"),
			[]string{"Canister trapped: 32 bit stable", "== pre_upgrade", "event 11 of 12"}},
		{"call_reply_80x24", append(append(st.Keys("G", "r", "tab"), st.Type("get")...), st.Key("enter")),
			[]string{`reply (17, "payout", vec { 5; 12 }, 1)`}},
		{"skip_pre_upgrade_80x24", st.Keys("down", "down", "down", "down", "r", "space", "tab", "tab", "tab", "tab", "space", "enter"),
			[]string{"heap discarded; post_upgrade read 64 bytes of stable memory, all zero", "no saved state"}},
	}
	dark, err := themes.Lookup("dark")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{Sources: src, StorePath: "~/.local/share/canscope", Theme: dark, Now: func() time.Time { return readmeNow }})
			drive(m, tea.WindowSizeMsg{Width: 80, Height: 24})
			drive(m, m.top().Init()())
			drive(m, tt.keys...)
			frame := m.Render()
			st.CheckSize(t, frame, 80, 24)
			for _, w := range tt.want {
				if !strings.Contains(st.Plain(frame), w) {
					t.Errorf("the capture lacks %q:\n%s", w, st.Plain(frame))
				}
			}
			st.Golden(t, frame)
			m.closeAll()
		})
	}
}
