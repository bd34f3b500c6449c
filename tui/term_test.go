package tui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInTmux runs the built binary in a real terminal (tmux) on the demo
// store (`canscope demo`), sends keys and reads the screen back: the check
// that the program, not just the models, works. Every scenario ends by
// quitting from a different screen and asserts that the program exited 0
// with no "panic" on stderr. It skips when tmux is not installed.
func TestInTmux(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed (apt-get install -y tmux)")
	}
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "canscope")
	build := exec.Command("go", "build", "-o", bin, "github.com/canscope/canscope/cmd/canscope")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build canscope: %v\n%s", err, out)
	}
	storeDir := filepath.Join(dir, "store")
	if out, err := exec.Command(bin, "--store", storeDir, "demo").CombinedOutput(); err != nil {
		t.Fatalf("canscope demo: %v\n%s", err, out)
	}
	for _, tc := range tmuxScenarios {
		t.Run(tc.name, func(t *testing.T) {
			// A private server per scenario: the test never touches the
			// user's tmux, and a server that exits with the previous
			// program does not race the next one's start.
			socket := fmt.Sprintf("canscope-test-%d-%s", os.Getpid(), tc.name)
			t.Cleanup(func() { _ = exec.Command(tmux, "-L", socket, "kill-server").Run() })
			term := startTerm(t, tmux, socket, bin, storeDir, filepath.Join(dir, tc.name))
			term.waitFor("canscope Snapshots", "demo-ledger@1", "? help")
			tc.drive(term)
			term.quit(tc.quit)
		})
	}
}

// tmuxScenarios walk the program through a screen each and quit from it.
var tmuxScenarios = []struct {
	name  string
	drive func(*term)
	quit  string // the key that quits: "q" or "C-c"
}{
	{"snapshots_q", func(*term) {}, "q"},
	{"help_ctrl_c", func(tm *term) {
		tm.keys("?")
		tm.waitFor("Keys · Snapshots", "mark for diff")
	}, "C-c"},
	{"detail_q", func(tm *term) {
		tm.keys("j", "Enter")
		tm.waitFor("Snapshot demo-ledger@2", "METADATA")
		tm.keys("Escape")
		tm.waitFor("11 snapshots of 2 canisters")
		tm.keys("j", "Enter")
		tm.waitFor("Snapshot demo-ledger@3")
	}, "q"},
	{"diff_q", func(tm *term) {
		tm.keys("Space", "j", "Space", "d")
		tm.waitFor("Diff demo-ledger@1 → demo-ledger@2", "heap page")
	}, "q"},
	// demo-ledger@4's stable memory grew past 4 GiB: n visits the
	// changed heap page, then every page of the added range that holds
	// data (the one at 4 GiB), saying how many zero pages it skipped.
	{"diff_added_range_q", func(tm *term) {
		tm.keys("j", "j", "Space", "j", "Space", "d")
		tm.waitFor("Diff demo-ledger@3 → demo-ledger@4", "heap page 15 at 0xf0000", "stable 0x0–0x100010000 4.0 GiB added")
		tm.keys("n")
		tm.waitFor("stable page 65536 at 0x100000000", "added range: page 1 of 1 with data · 65536 zero pages skipped")
		tm.keys("n")
		tm.waitFor("stable page 65536 at 0x100000000")
		tm.keys("N")
		tm.waitFor("heap page 15 at 0xf0000")
	}, "q"},
	{"run_form_ctrl_c", func(tm *term) {
		tm.keys("r")
		tm.waitFor("Run on demo-ledger@1", "What should the engine run on this snapshot?")
	}, "C-c"},
	// The incident: upgrade demo-ledger@5, whose pre_upgrade traps once
	// stable memory passed 4 GiB; the timeline opens on the trap.
	{"timeline_q", upgradeIncident, "q"},
	{"timeline_ctrl_c", func(tm *term) {
		upgradeIncident(tm)
		tm.keys("g")
		tm.waitFor("CALL STACK at event 0")
		tm.keys("t")
		tm.waitFor("▸   11")
		tm.keys("Left")
		tm.waitFor("CALL STACK at event 10")
	}, "C-c"},
	// The fork form's name input takes q: ctrl+c still quits.
	// skip_pre_upgrade gets past the trap, and the verdict says what it
	// cost: the heap was discarded and post_upgrade found no saved state.
	{"skip_pre_upgrade_q", func(tm *term) {
		tm.keys("j", "j", "j", "j", "r")
		tm.waitFor("Run on demo-ledger@5")
		tm.keys("Space", "Tab", "Tab", "Tab", "Tab", "Space")
		tm.waitFor("[x] skip_pre_upgrade", "the heap is discarded")
		tm.keys("Enter")
		tm.waitFor("Timeline demo-ledger@5 · upgrade skipping pre_upgrade", "ok",
			"heap discarded; post_upgrade read 64 bytes of stable memory, all zero (never written)",
			`debug incident: no saved state in stable memory, starting empty`)
	}, "q"},
	// A query on the Motoko wallet: the reply decoded as Candid, with the
	// method's declared types shown on the form.
	{"query_reply_q", func(tm *term) {
		tm.keys("G", "r")
		tm.waitFor("Run on demo-wallet@4")
		tm.keys("Tab", "g", "e", "t")
		tm.waitFor("get : () -> (nat, text, vec nat, nat) query")
		tm.keys("Enter")
		tm.waitFor("Timeline demo-wallet@4 · call get", "ok", `reply (17, "payout", vec { 5; 12 }, 1)`)
	}, "q"},
	{"restore_ctrl_c", func(tm *term) {
		tm.keys("f")
		tm.waitFor("Fork / restore demo-ledger@1", "new name:")
	}, "C-c"},
}

// upgradeIncident rehearses the demo's stuck upgrade from the run screen.
func upgradeIncident(tm *term) {
	tm.keys("j", "j", "j", "j", "r")
	tm.waitFor("Run on demo-ledger@5")
	tm.keys("Space", "Enter")
	tm.waitFor("Timeline demo-ledger@5 · upgrade", "trapped", "32 bit stable memory api", "CALL STACK at event 11")
}

// term is the program running in a tmux window.
type term struct {
	t              *testing.T
	tmux, socket   string
	name           string
	stderr, status string
}

func startTerm(t *testing.T, tmux, socket, bin, store, dir string) *term {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, tmux: tmux, socket: socket, name: filepath.Base(dir),
		stderr: filepath.Join(dir, "stderr"), status: filepath.Join(dir, "status")}
	// The shell records the exit status; the window then stays for a
	// moment so the test can read it.
	script := fmt.Sprintf("TERM=xterm-256color CANSCOPE_STORE=%s %s 2>%s; echo $? >%s.tmp && mv %s.tmp %s",
		store, bin, tm.stderr, tm.status, tm.status, tm.status)
	if out, err := tm.run("new-session", "-d", "-s", tm.name, "-x", "100", "-y", "30", "sh", "-c", script); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	return tm
}

func (tm *term) run(args ...string) (string, error) {
	out, err := exec.Command(tm.tmux, append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	return string(out), err
}

// waitFor waits until the screen shows every string and returns it.
func (tm *term) waitFor(want ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen, _ = tm.run("capture-pane", "-p", "-t", tm.name)
		all := true
		for _, w := range want {
			all = all && strings.Contains(screen, w)
		}
		if all {
			return screen
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.t.Fatalf("the screen never showed %q:\n%s", want, screen)
	return ""
}

// keys sends key presses. Escape and the next key are best sent apart:
// together a terminal reads them as alt+key.
func (tm *term) keys(k ...string) {
	tm.t.Helper()
	for _, key := range k {
		if out, err := tm.run("send-keys", "-t", tm.name, key); err != nil {
			tm.t.Fatalf("send-keys %v: %v\n%s", key, err, out)
		}
		if key == "Escape" {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// quit presses k and checks the program exits 0 with no panic on stderr.
func (tm *term) quit(k string) {
	tm.t.Helper()
	tm.keys(k)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(tm.status); err == nil {
			stderr, _ := os.ReadFile(tm.stderr)
			if code := strings.TrimSpace(string(b)); code != "0" {
				tm.t.Fatalf("%s: exit status %s, stderr:\n%s", k, code, stderr)
			}
			if strings.Contains(strings.ToLower(string(stderr)), "panic") {
				tm.t.Fatalf("%s: stderr shows a panic:\n%s", k, stderr)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	screen, _ := tm.run("capture-pane", "-p", "-t", tm.name)
	tm.t.Fatalf("%s did not quit the program:\n%s", k, screen)
}
