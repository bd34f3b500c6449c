package tui

import (
	"context"
	"image/color"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/fsstore"
	"github.com/canscope/canscope/themes"
	"github.com/canscope/canscope/tui/bridge"
	st "github.com/canscope/canscope/tui/internal/screentest"
	"github.com/canscope/canscope/tui/screens/diff"
	"github.com/canscope/canscope/tui/screens/lineage"
	"github.com/canscope/canscope/tui/screens/run"
	"github.com/canscope/canscope/tui/source"
)

// drive delivers msgs to the root as the Bubble Tea runtime would,
// running commands synchronously; it reports whether the UI quit.
func drive(m *Model, msgs ...tea.Msg) (quit bool) {
	var deliver func(msg tea.Msg, depth int)
	deliver = func(msg tea.Msg, depth int) {
		switch msg := msg.(type) {
		case nil:
		case tea.QuitMsg:
			quit = true
		case tea.BatchMsg:
			for _, c := range msg {
				if c != nil && depth < 64 {
					deliver(c(), depth+1)
				}
			}
		default:
			if _, cmd := m.Update(msg); cmd != nil && depth < 64 {
				deliver(cmd(), depth+1)
			}
		}
	}
	for _, msg := range msgs {
		deliver(msg, 0)
	}
	return quit
}

func newRoot(t *testing.T, theme string, w, h int, src source.Set) *Model {
	t.Helper()
	th, err := themes.Lookup(theme)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{Sources: st.Complete(src), StorePath: "/tmp/canscope-store", Theme: th, Now: st.Now})
	drive(m, tea.WindowSizeMsg{Width: w, Height: h})
	if cmd := m.Init(); cmd != nil {
		drive(m, cmd())
	}
	return m
}

func TestRoot(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		keys []tea.Msg
	}{
		{"snapshots_80x24", 80, 24, nil},
		{"help_80x24", 80, 24, st.Keys("?")},
		{"detail_160x48", 160, 48, st.Keys("down", "enter")},
		{"detail_help_80x24", 80, 24, st.Keys("enter", "?")},
		{"back_from_detail_80x24", 80, 24, st.Keys("down", "enter", "esc")},
		{"too_small_30x8", 30, 8, nil},
		// Full frames of every screen, shown in README.md.
		{"detail_maps_80x24", 80, 24, st.Keys("down", "enter", "tab", "tab")},
		{"diff_80x24", 80, 24, st.Keys("space", "down", "down", "down", "space", "d")},
		{"run_form_80x24", 80, 24, append(st.Keys("down", "down", "down", "r", "space", "tab"), st.Type("incident_v2.wasm")...)},
		{"run_timeline_80x24", 80, 24, append(append(st.Keys("down", "down", "down", "r", "space", "tab"), st.Type("incident_v2.wasm")...), st.Key("enter"))},
		{"fork_confirm_80x24", 80, 24, append(append(st.Keys("down", "down", "down", "f"), st.Type("hotfix-2")...), st.Key("enter"))},
		{"restore_done_80x24", 80, 24, append(append(st.Keys("down", "down", "down", "f", "tab"), st.Type("/tmp/restore-ledger")...), st.Keys("enter", "y")...)},
		{"transplant_report_80x24", 80, 24, transplantKeys()},
		{"headroom_80x24", 80, 24, st.Keys("down", "down", "down", "H")},
		{"transplant_rehearsed_160x48", 160, 48, append(transplantKeys(), st.Keys("enter", "enter", "y")...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := st.Incident()
			src := source.Set{Catalog: store, Inspect: bridge.Inspect, Labeller: bridge.StableLayout, Forker: store, Exporter: store, Runner: st.FailingUpgrade(store),
				Transplanter: &st.Transplanter{Store: store, Report: st.PassingReport(), Steps: st.OKSteps()}}
			m := newRoot(t, "dark", tt.w, tt.h, src)
			drive(m, tt.keys...)
			out := m.Render()
			st.CheckSize(t, out, tt.w, tt.h)
			st.Golden(t, out)
		})
	}
}

// transplantKeys opens the transplant of ledger@3 and checks a module
// (the one in testdata, typed relative to the package directory).
func transplantKeys() []tea.Msg {
	return append(append(st.Keys("down", "down", "down", "f", "tab", "tab"), st.Type("testdata/ledger_fixed.wasm")...), st.Key("enter"))
}

// TestRootResize checks that a resize redraws at the new size and that
// returning to the old size gives the same frame.
func TestRootResize(t *testing.T) {
	store := st.Incident()
	m := newRoot(t, "dark", 80, 24, source.Set{Catalog: store})
	drive(m, st.Keys("down", "enter")...)
	before := m.Render()
	for _, size := range []tea.WindowSizeMsg{{Width: 120, Height: 40}, {Width: 45, Height: 12}, {Width: 20, Height: 5}, {Width: 80, Height: 24}} {
		drive(m, size)
		st.CheckSize(t, m.Render(), max(size.Width, 1), max(size.Height, 1))
	}
	// The help overlay is clipped to the smallest usable terminal.
	drive(m, tea.WindowSizeMsg{Width: 40, Height: 10}, st.Key("?"))
	st.CheckSize(t, m.Render(), 40, 10)
	drive(m, st.Key("?"), tea.WindowSizeMsg{Width: 80, Height: 24})
	if after := m.Render(); after != before {
		t.Errorf("frame after resizing back differs:\n%s\n---\n%s", st.Plain(before), st.Plain(after))
	}
}

func TestRootKeys(t *testing.T) {
	store := st.Incident()
	m := newRoot(t, "dark", 80, 24, source.Set{Catalog: store})
	if !drive(m, st.Key("q")) {
		t.Error("q should quit")
	}
	m = newRoot(t, "dark", 80, 24, source.Set{Catalog: store})
	drive(m, st.Key("/"))
	if drive(m, st.Key("q")) {
		t.Error("q typed into the filter must not quit")
	}
	if !drive(m, st.Key("ctrl+c")) {
		t.Error("ctrl+c quits even from the filter")
	}
	m = newRoot(t, "dark", 80, 24, source.Set{Catalog: store})
	drive(m, st.Keys("?", "esc")...)
	if m.showHelp || len(m.stack) != 1 {
		t.Errorf("esc should close help first (help %v, %d screens)", m.showHelp, len(m.stack))
	}
	drive(m, st.Keys("esc", "esc")...) // esc on the first screen stays
	if len(m.stack) != 1 {
		t.Error("esc closed the snapshots screen")
	}
}

// TestIncident drives the UI through the incident an operator works: open
// a snapshot, diff two, run the failing upgrade, jump to the trap, save a
// checkpoint, fork it; then checks what the store holds.
func TestIncident(t *testing.T) {
	dir := t.TempDir()
	store, err := fsstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st.Persist(t, st.Incident(), store)
	script := st.FailingUpgrade(store)
	forker := forkByID{store}
	th, _ := themes.Lookup("dark")
	m := New(Options{Sources: st.Complete(source.Set{Catalog: store, Forker: forker, Runner: script, Inspect: bridge.Inspect}), StorePath: dir, Theme: th, Now: st.Now})
	drive(m, tea.WindowSizeMsg{Width: 100, Height: 30}, m.Init()())

	screen := func(want string) {
		t.Helper()
		if got := m.top().Title(); !strings.Contains(got, want) {
			t.Fatalf("on screen %q, want %q\n%s", got, want, st.Plain(m.Render()))
		}
	}
	// Rows: ledger@1, ledger@2, hotfix@1, ledger@3, trap-point@1, counter@1.
	drive(m, st.Keys("enter")...)
	screen("Snapshot ledger@1")
	drive(m, st.Keys("G")...) // the module section is last
	if v := st.Plain(m.Render()); !strings.Contains(v, "canister_update add") {
		t.Errorf("detail lacks the module's exports:\n%s", v)
	}
	drive(m, st.Keys("esc", "space", "down", "down", "down", "space", "d")...)
	screen("Diff ledger@1 → ledger@3")
	if _, ok := m.top().(*diff.Model); !ok {
		t.Fatalf("top screen is %T", m.top())
	}
	if v := st.Plain(m.Render()); !strings.Contains(v, "heap page 3 at 0x30000 · 6 bytes differ") {
		t.Errorf("diff does not show the first changed page:\n%s", v)
	}
	drive(m, st.Keys("n", "esc", "r", "space", "tab")...)
	drive(m, st.Type("incident_v2.wasm")...)
	drive(m, st.Keys("enter")...)
	screen("Timeline ledger@3 · upgrade to incident_v2.wasm")
	drive(m, st.Keys("home", "t")...)
	if _, ok := m.top().(*run.Model); !ok || !strings.Contains(st.Plain(m.Render()), "▸   11") {
		t.Errorf("t should select the trap, event 11:\n%s", st.Plain(m.Render()))
	}
	drive(m, st.Key("c"))
	drive(m, st.Type("at-trap")...)
	drive(m, st.Keys("enter", "f")...)
	screen("Fork / restore at-trap@1")
	drive(m, st.Type("hotfix-2")...)
	drive(m, st.Keys("enter", "y")...)
	if v := st.Plain(m.Render()); !strings.Contains(v, "Forked as hotfix-2@1") {
		t.Fatalf("fork not confirmed:\n%s", v)
	}

	list, err := store.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 8 {
		t.Fatalf("store holds %d snapshots, want 6 + checkpoint + fork", len(list))
	}
	cp, fork := list[6], list[7]
	if cp.Ref() != "at-trap@1" || cp.MadeBy != snapshots.MadeByCheckpoint || *cp.Parent != st.Resolve(t, store.List, "ledger@3") {
		t.Errorf("checkpoint = %+v", cp)
	}
	if fork.Ref() != "hotfix-2@1" || fork.MadeBy != snapshots.MadeByFork || fork.ForkedFrom == nil || *fork.ForkedFrom != cp.ID {
		t.Errorf("fork = %+v", fork)
	}
	if report, err := store.Check(context.Background()); err != nil || !report.OK {
		t.Errorf("fsck after the incident: %+v, %v", report, err)
	}
	// Back on the snapshots screen the new branch is listed.
	drive(m, st.Keys("esc", "esc", "esc")...)
	if v := st.Plain(m.Render()); !strings.Contains(v, "hotfix-2@1") || !strings.Contains(v, "at-trap@1") {
		t.Errorf("snapshots screen does not list the new snapshots:\n%s", v)
	}
}

// forkByID adapts fsstore's Fork (which takes a reference) to
// source.Forker; a full id is a reference.
type forkByID struct{ s *fsstore.Store }

func (f forkByID) Fork(ctx context.Context, id snapshots.ID, name string) (snapshots.Snapshot, error) {
	return f.s.Fork(ctx, id.String(), name)
}

// TestRootAutoTheme switches to the light theme on a light background
// only when the user named no theme.
func TestRootAutoTheme(t *testing.T) {
	dark, _ := themes.Lookup("dark")
	light, _ := themes.Lookup("light")
	white := tea.BackgroundColorMsg{Color: color.White}
	for _, auto := range []bool{true, false} {
		m := New(Options{Sources: st.Complete(source.Set{Catalog: st.Incident()}), Theme: dark, AutoTheme: auto, Now: st.Now})
		drive(m, tea.WindowSizeMsg{Width: 80, Height: 24}, m.Init()(), white)
		got := m.ctx.Styles.Selected.Render("x")
		want := dark.Styles().Selected.Render("x")
		if auto {
			want = light.Styles().Selected.Render("x")
		}
		if got != want {
			t.Errorf("auto %v: selection style %q, want %q", auto, got, want)
		}
	}
}

// TestEveryScreenAtMinimumSize opens each screen on the smallest usable
// terminal and checks the frame keeps its size.
func TestEveryScreenAtMinimumSize(t *testing.T) {
	open := map[string][]tea.Msg{
		"snapshots":          nil,
		"detail":             st.Keys("down", "enter", "G"),
		"diff":               st.Keys("space", "down", "space", "d"),
		"run form":           st.Keys("down", "down", "down", "r"),
		"timeline":           append(st.Keys("down", "down", "down", "r", "space"), st.Key("enter")),
		"restore":            append(append(st.Keys("f", "tab"), st.Type("/tmp/a-rather-long-directory-name/for/the/export")...), st.Keys("enter", "y")...),
		"transplant report":  transplantKeys(),
		"transplant confirm": append(transplantKeys(), st.Keys("enter", "enter")...),
		"rehearsal":          append(transplantKeys(), st.Keys("enter", "enter", "y")...),
		"help":               st.Keys("?"),
	}
	for name, keys := range open {
		t.Run(name, func(t *testing.T) {
			store := st.Incident()
			src := source.Set{Catalog: store, Inspect: bridge.Inspect, Forker: store, Exporter: store, Runner: st.FailingUpgrade(store),
				Transplanter: &st.Transplanter{Store: store, Report: st.FailingReport(), Steps: st.TrappedSteps()}}
			m := newRoot(t, "dark", minWidth, minHeight, src)
			drive(m, keys...)
			st.CheckSize(t, m.Render(), minWidth, minHeight)
		})
	}
}

// FuzzKeys presses arbitrary key sequences on every screen: the UI must
// never panic and every frame must keep the terminal's size.
func FuzzKeys(f *testing.F) {
	names := fuzzKeyNames()
	f.Add([]byte{6, 0, 14, 18})             // down, enter, /, d
	f.Add([]byte{4, 16, 4, 4, 4, 17, 0, 1}) // marks and diff
	f.Add([]byte{6, 6, 6, 17, 2, 3, 30, 0, 21, 20, 22, 0, 19, 24})
	f.Add([]byte{250, 251, 230, 230, 6, 6, 6, 17, 2, 3, 0, 232, 251, 250, 1}) // wheel and clicks, on the timeline too
	fixture := st.Incident()
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 200 {
			return
		}
		store := fixture.Clone()
		src := source.Set{Catalog: store, Inspect: bridge.Inspect, Forker: store, Exporter: store, Runner: st.FailingUpgrade(store),
			Transplanter: &st.Transplanter{Store: store, Report: st.FailingReport(), Steps: st.TrappedSteps()}}
		m := newRoot(t, "dark", 80, 24, src)
		for _, b := range in {
			if drive(m, fuzzMsg(names, b)) {
				// Bubble Tea draws one frame after quitting.
				st.CheckSize(t, m.Render(), 80, 24)
				return
			}
			st.CheckSize(t, m.Render(), 80, 24)
		}
		// The final step quits from wherever the keys left the UI: q
		// unless a text input takes it, else (and for odd inputs) ctrl+c.
		quitKey := "ctrl+c"
		if len(in)%2 == 0 && !m.top().Capturing() {
			quitKey = "q"
		}
		if !drive(m, st.Key(quitKey)) {
			t.Fatalf("%s did not quit from %q", quitKey, m.top().Title())
		}
		st.CheckSize(t, m.Render(), 80, 24)
	})
}

// fuzzMsg is the message byte b stands for: a key of names, or (the top
// values) a wheel notch or a click somewhere on an 80x24 screen.
func fuzzMsg(names []string, b byte) tea.Msg {
	switch {
	case b >= 250:
		return tea.MouseWheelMsg{Button: []tea.MouseButton{tea.MouseWheelUp, tea.MouseWheelDown}[b%2]}
	case b >= 226:
		return tea.MouseClickMsg{X: int(b-226) * 3, Y: int(b - 226), Button: tea.MouseLeft}
	}
	return st.Key(names[int(b)%len(names)])
}

// fuzzKeyNames are the keys the fuzz targets press: every binding's key
// and a few typed characters.
func fuzzKeyNames() []string {
	return []string{"enter", "esc", "space", "tab", "shift+tab", "up", "down", "left", "right", "pgup", "pgdown",
		"home", "end", "backspace", "/", "?", "d", "r", "f", "n", "N", "t", "c", "x", "y", "g", "G", "+", "-", "[", "]", "D", "a", "1", "F", "e", ":"}
}

// FuzzSizes resizes the terminal between key presses, down to 0x0 and up
// to 255x255: the UI must never panic and every frame must have the
// terminal's size (at least one cell).
func FuzzSizes(f *testing.F) {
	names := fuzzKeyNames()
	// Each triple is a key, then the new width and height.
	f.Add([]byte{6, 80, 24, 0, 40, 10, 3, 0, 0, 30, 200, 60, 3, 12, 3})
	f.Add([]byte{6, 160, 48, 0, 1, 1, 15, 39, 9, 1, 80, 24})
	fixture := st.Incident()
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 150 {
			return
		}
		store := fixture.Clone()
		src := source.Set{Catalog: store, Inspect: bridge.Inspect, Forker: store, Exporter: store, Runner: st.FailingUpgrade(store),
			Transplanter: &st.Transplanter{Store: store, Report: st.PassingReport(), Steps: st.OKSteps()}}
		m := newRoot(t, "dark", 80, 24, src)
		for i := 0; i+2 < len(in); i += 3 {
			if drive(m, st.Key(names[int(in[i])%len(names)])) {
				st.CheckSize(t, m.Render(), max(m.ctx.Width, 1), max(m.ctx.Height, 1))
				return // quit
			}
			w, h := int(in[i+1]), int(in[i+2])
			drive(m, tea.WindowSizeMsg{Width: w, Height: h})
			st.CheckSize(t, m.Render(), max(w, 1), max(h, 1))
		}
	})
}

// TestRootStaleLoad: the root hands background results to every open
// screen, so a closed detail screen's late load reaches the detail screen
// opened after it, which must keep showing its own snapshot.
func TestRootStaleLoad(t *testing.T) {
	store := st.Incident()
	m := newRoot(t, "dark", 80, 24, source.Set{Catalog: store})
	drive(m, st.Key("down"))
	_, nav := m.Update(st.Key("enter"))
	_, load := m.Update(nav()) // the first detail screen's load, held back
	drive(m, st.Keys("esc", "down", "enter")...)
	want := m.top().Title()
	drive(m, load())
	if got := m.top().Title(); got != want {
		t.Errorf("a closed screen's load replaced the open one: title %q, want %q", got, want)
	}
}

// TestRootSmallOnes: esc clears an applied filter (and then nothing
// more), a filter that matches nothing says so, the filter's hints do
// not offer q, a copy claims success only when the terminal reported
// OSC 52 support.
func TestRootSmallOnes(t *testing.T) {
	store := st.Incident()
	m := newRoot(t, "dark", 80, 24, source.Set{Catalog: store, Inspect: bridge.Inspect})
	drive(m, append(append(st.Keys("/"), st.Type("zzz")...), st.Key("enter"))...)
	if v := st.Plain(m.Render()); !strings.Contains(v, `no matches for "zzz" — esc clears the filter`) {
		t.Errorf("no matches not shown:\n%s", v)
	}
	drive(m, st.Key("/"))
	if v := st.Plain(m.Render()); strings.Contains(v, "q quit") || !strings.Contains(v, "ctrl+c quit") {
		t.Errorf("the filter prompt advertises q:\n%s", v)
	}
	drive(m, st.Key("enter"), st.Key("esc"))
	if v := st.Plain(m.Render()); strings.Contains(v, "zzz") || !strings.Contains(v, "ledger@1") {
		t.Errorf("esc did not clear the filter:\n%s", v)
	}
	if drive(m, st.Key("esc")) {
		t.Error("a second esc on the snapshots screen quit")
	}
	drive(m, tea.CapabilityMsg{Content: "Ms=\\E]52;%p1%s;%p2%s\\007"})
	if !m.ctx.Clipboard {
		t.Error("the Ms capability did not enable the clipboard")
	}
}

// TestRootMouse: the wheel scrolls as the arrow keys do, a click selects
// a snapshot row and a second click opens it; on the timeline a click
// moves to the event clicked.
func TestRootMouse(t *testing.T) {
	store := st.Incident()
	m := newRoot(t, "dark", 80, 24, source.Set{Catalog: store, Inspect: bridge.Inspect, Runner: st.FailingUpgrade(store)})
	lin := m.top().(*lineage.Model)
	first, _ := lin.Selected()
	drive(m, tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if s, _ := lin.Selected(); s.ID == first.ID {
		t.Error("the wheel did not move the cursor")
	}
	drive(m, tea.MouseWheelMsg{Button: tea.MouseWheelUp})
	if s, _ := lin.Selected(); s.ID != first.ID {
		t.Errorf("wheel down then up ends on %s, want %s", s.Ref(), first.Ref())
	}
	// Row 0 is the top bar, 1 the column header, 2 the canister heading,
	// 3 the first snapshot: row 4 is the second.
	drive(m, tea.MouseClickMsg{X: 10, Y: 4, Button: tea.MouseLeft})
	second, _ := lin.Selected()
	if second.ID == first.ID {
		t.Fatalf("a click on row 4 did not select it")
	}
	drive(m, tea.MouseClickMsg{X: 10, Y: 4, Button: tea.MouseLeft})
	if !strings.HasPrefix(m.top().Title(), "Snapshot "+second.Ref()) {
		t.Errorf("a second click opened %q", m.top().Title())
	}
	drive(m, st.Key("esc"))

	// The incident's upgrade: the timeline opens on the trap (event 11).
	drive(m, append(append(st.Keys("down", "down", "r", "space", "tab"), st.Type("incident_v2.wasm")...), st.Key("enter"))...)
	r := m.top().(*run.Model)
	if !strings.Contains(st.Plain(m.Render()), "CALL STACK at event 11") {
		t.Fatalf("no timeline:\n%s", st.Plain(m.Render()))
	}
	// Header: top bar (0), run line, trap line; row 3 is "== pre_upgrade",
	// row 4 event 0.
	drive(m, tea.MouseClickMsg{X: 5, Y: 4, Button: tea.MouseLeft})
	if v := st.Plain(m.Render()); !strings.Contains(v, "CALL STACK at event 0") {
		t.Errorf("a click on event 0 of %q:\n%s", r.Title(), v)
	}
}

// TestThemes: the goldens are plain text, so the themes are checked here,
// colour kept: each theme draws the same text in its own colours, and
// NO_COLOR draws none.
func TestThemes(t *testing.T) {
	frames := map[string]string{}
	for _, name := range themes.Names() {
		th, err := themes.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		m := New(Options{Sources: st.Complete(source.Set{Catalog: st.Incident()}), Theme: th, Now: st.Now})
		drive(m, tea.WindowSizeMsg{Width: 80, Height: 24})
		drive(m, m.top().Init()())
		frames[name] = m.Render()
		th.NoColor = true
		plain := New(Options{Sources: st.Complete(source.Set{Catalog: st.Incident()}), Theme: th, Now: st.Now})
		drive(plain, tea.WindowSizeMsg{Width: 80, Height: 24})
		drive(plain, plain.top().Init()())
		if f := plain.Render(); strings.Contains(f, "\x1b[38;") || strings.Contains(f, "\x1b[48;") {
			t.Errorf("%s with NO_COLOR draws colours", name)
		}
		if st.Plain(frames[name]) != st.Plain(plain.Render()) {
			t.Errorf("%s: NO_COLOR changes the text", name)
		}
	}
	for a, fa := range frames {
		for b, fb := range frames {
			if a < b && fa == fb {
				t.Errorf("themes %s and %s draw the same colours", a, b)
			}
		}
	}
	if len(frames) < 3 {
		t.Errorf("%d themes, want dark, light and high-contrast", len(frames))
	}
}
