// Package screentest drives terminal-UI screens in tests: a fixed-size
// context with a fixed clock, key messages by name, a synchronous command
// runner, golden files under tui/testdata, and an in-memory store holding a
// small incident. It is imported by tests only.
package screentest

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/canscope/canscope/themes"
	"github.com/canscope/canscope/tui/frame"
	"github.com/canscope/canscope/tui/keys"
	"github.com/canscope/canscope/tui/source"
)

// update makes Golden rewrite golden files: go test ./tui/... -update.
var update = flag.Bool("update", false, "rewrite golden files in tui/testdata")

// Updating reports whether -update was given: tests that keep other
// files in sync with the goldens rewrite them too.
func Updating() bool { return *update }

// Now is the fixed clock of every test context.
func Now() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }

// Context returns a screen context of the given terminal size and theme.
func Context(t testing.TB, theme string, width, height int, src source.Set) *frame.Context {
	t.Helper()
	th, err := themes.Lookup(theme)
	if err != nil {
		t.Fatal(err)
	}
	return &frame.Context{
		Width: width, Height: height,
		Styles:    th.Styles(),
		Keys:      keys.DefaultKeyMap(),
		Sources:   Complete(src),
		StorePath: "/tmp/canscope-store",
		Now:       Now,
	}
}

// Open makes a screen with newScreen on a Context of the given terminal
// size and theme, gives it the body the root would (the terminal minus
// the top bar and the status line) and delivers its Init.
func Open[S frame.Screen](t testing.TB, theme string, width, height int, src source.Set, newScreen func(*frame.Context) S) S {
	t.Helper()
	s := newScreen(Context(t, theme, width, height, src))
	s.SetSize(width, height-2)
	Init(s)
	return s
}

// Key returns the key press a key name (as key.Binding spells it) stands for.
func Key(name string) tea.KeyPressMsg {
	special := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "space": tea.KeySpace, "tab": tea.KeyTab,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"backspace": tea.KeyBackspace,
	}
	if name == "shift+tab" {
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	}
	if c, ok := special[name]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	if r, ok := strings.CutPrefix(name, "ctrl+"); ok && len(r) == 1 {
		return tea.KeyPressMsg{Code: rune(r[0]), Mod: tea.ModCtrl}
	}
	r := []rune(name)
	return tea.KeyPressMsg{Code: r[0], Text: name}
}

// Type returns one key press per rune of s.
func Type(s string) []tea.Msg {
	var out []tea.Msg
	for _, r := range s {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

// Keys returns the key presses for a list of key names.
func Keys(names ...string) []tea.Msg {
	out := make([]tea.Msg, len(names))
	for i, n := range names {
		out[i] = Key(n)
	}
	return out
}

// Run delivers msgs to the screen one by one, running every command it
// returns synchronously and feeding the results back, the way the Bubble
// Tea runtime would. Navigation messages (frame.Open…, frame.BackMsg) are
// not fed back; they are returned in order for the test to check.
func Run(s frame.Screen, msgs ...tea.Msg) []tea.Msg {
	var nav []tea.Msg
	var deliver func(msg tea.Msg, depth int)
	exec := func(cmd tea.Cmd, depth int) {
		if cmd != nil && depth < 64 {
			deliver(cmd(), depth+1)
		}
	}
	deliver = func(msg tea.Msg, depth int) {
		switch msg := msg.(type) {
		case nil:
		case tea.BatchMsg:
			for _, c := range msg {
				exec(c, depth)
			}
		case frame.OpenDetailMsg, frame.OpenDiffMsg, frame.OpenRunMsg, frame.OpenRestoreMsg, frame.OpenHeadroomMsg, frame.BackMsg, frame.StoreChangedMsg:
			nav = append(nav, msg)
		default:
			exec(s.Update(msg), depth)
		}
	}
	for _, m := range msgs {
		deliver(m, 0)
	}
	return nav
}

// Init runs the screen's Init command and delivers the results.
func Init(s frame.Screen) []tea.Msg {
	if cmd := s.Init(); cmd != nil {
		return Run(s, cmd())
	}
	return nil
}

// Plain strips ANSI styling and trailing spaces from a rendered view.
func Plain(view string) string {
	lines := strings.Split(ansi.Strip(view), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// Dir is tui/testdata, where every screen's golden files live so the
// README captures come from one place.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}

// Golden compares got (ANSI-stripped) with tui/testdata/<test name>.golden,
// or rewrites that file under -update.
func Golden(t testing.TB, got string) {
	t.Helper()
	got = Plain(got) + "\n"
	path := filepath.Join(Dir(), filepath.FromSlash(t.Name())+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./tui/... -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("view differs from %s (run with -update to accept):\n--- got ---\n%s--- want ---\n%s", path, got, want)
	}
}

// CheckSize fails when a rendered view is not exactly width×height cells:
// every screen must fill its box so the root can stack boxes blindly.
func CheckSize(t testing.TB, view string, width, height int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != height {
		t.Errorf("view has %d lines, want %d", len(lines), height)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != width {
			t.Errorf("line %d is %d cells wide, want %d: %q", i, w, width, ansi.Strip(l))
		}
	}
}

// Shot checks a screen opened with Open on a width×height terminal: its
// view fills the body exactly and matches the test's golden file.
func Shot(t testing.TB, s frame.Screen, width, height int) {
	t.Helper()
	v := s.View()
	CheckSize(t, v, width, height-2)
	Golden(t, v)
}
