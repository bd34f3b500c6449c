package tui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canscope/canscope/snapshots/fsstore"
	st "github.com/canscope/canscope/tui/internal/screentest"
)

// TestInTmux runs the built binary in a real terminal (tmux), sends keys
// and reads the screen back: the check that the program, not just the
// models, works. It skips when tmux is not installed.
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
	store, err := fsstore.Open(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	st.Persist(t, st.Incident(), store)
	store.Close()

	// A private server socket: the test never touches the user's tmux.
	socket := fmt.Sprintf("canscope-test-%d", os.Getpid())
	run := func(args ...string) (string, error) {
		out, err := exec.Command(tmux, append([]string{"-L", socket}, args...)...).CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { run("kill-server") })
	cmdline := fmt.Sprintf("env TERM=xterm-256color CANSCOPE_STORE=%s %s", storeDir, bin)
	if out, err := run("new-session", "-d", "-s", "ui", "-x", "100", "-y", "30", cmdline); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	waitFor := func(want ...string) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		var screen string
		for time.Now().Before(deadline) {
			screen, _ = run("capture-pane", "-p", "-t", "ui")
			all := true
			for _, w := range want {
				all = all && strings.Contains(screen, w)
			}
			if all {
				return screen
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("the screen never showed %q:\n%s", want, screen)
		return ""
	}
	keys := func(k ...string) {
		t.Helper()
		if out, err := run(append([]string{"send-keys", "-t", "ui"}, k...)...); err != nil {
			t.Fatalf("send-keys %v: %v\n%s", k, err, out)
		}
	}

	waitFor("canscope Snapshots", "ledger@1", "trap-point@1", "? help")
	keys("j", "Enter")
	waitFor("Snapshot ledger@2", "METADATA", "upgrade (parent ledger@1)")
	keys("Escape")
	waitFor("6 snapshots of 2 canisters")
	keys("?")
	waitFor("Keys · Snapshots", "mark for diff")
	keys("?", "Space", "j", "j", "Space", "d")
	waitFor("Diff ledger@2 → ledger@3", "heap page 5")
	// Escape and the next key are sent apart: together a terminal reads
	// them as alt+key.
	keys("Escape")
	waitFor("2 marked for diff")
	keys("r")
	waitFor("Run on ledger@3", "What should the engine run on this snapshot?")
	keys("Escape")
	waitFor("2 marked for diff")
	keys("q")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := run("has-session", "-t", "ui"); err != nil {
			return // the program quit and tmux closed the session
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("q did not quit the program")
}
