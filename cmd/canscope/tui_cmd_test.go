package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/fsstore"
)

func newTestApp(env map[string]string) (*app, *bytes.Buffer) {
	var out bytes.Buffer
	return &app{stdout: &out, stderr: &out, getenv: func(k string) string { return env[k] }}, &out
}

func themeCmd(value string) *cobra.Command {
	cmd := &cobra.Command{Use: "canscope"}
	cmd.Flags().String(themeFlag, "", "")
	if value != "" {
		cmd.Flags().Set(themeFlag, value)
	}
	return cmd
}

func TestRunTUIRefusesWithoutTerminal(t *testing.T) {
	tests := []struct {
		name  string
		theme string
		env   map[string]string
		want  string
	}{
		{"no terminal", "", nil, "the terminal UI needs a terminal"},
		{"bad flag", "sepia", nil, `theme "sepia": unknown`},
		{"bad env", "", map[string]string{"CANSCOPE_THEME": "neon"}, `theme "neon": unknown`},
		{"flag wins", "light", map[string]string{"CANSCOPE_THEME": "neon"}, "the terminal UI needs a terminal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newTestApp(tt.env)
			err := a.runTUI(themeCmd(tt.theme))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("runTUI error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDemoLoader(t *testing.T) {
	a, out := newTestApp(nil)
	root := &cobra.Command{Use: "canscope"}
	if a.demoLoader(root) != nil {
		t.Fatal("a build without a demo command must not offer the demo")
	}
	ran := 0
	root.AddCommand(&cobra.Command{Use: "demo", RunE: func(*cobra.Command, []string) error {
		ran++
		fmt.Fprintln(a.stdout, "demo output that would corrupt the screen")
		return nil
	}})
	load := a.demoLoader(root)
	if load == nil {
		t.Fatal("the demo command was not found")
	}
	if err := load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ran != 1 || out.Len() != 0 {
		t.Errorf("demo ran %d times and wrote %q to the terminal", ran, out.String())
	}
	if a.stdout != out {
		t.Error("the demo loader did not restore stdout")
	}
}

// TestStoreExporter exports a real snapshot and checks the UI gets the
// very commands `canscope restore` prints.
func TestStoreExporter(t *testing.T) {
	store, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	module, err := store.PutBlob([]byte("\x00asm\x01\x00\x00\x00"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := store.Commit(context.Background(), &snapshots.Manifest{
		Snapshot: snapshots.Snapshot{Name: "ledger", MadeBy: snapshots.MadeByInstall, CanisterID: "bkyz2-fmaaa-aaaaa-qaaaq-cai"},
		Module:   module,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	cmds, err := storeExporter{store}.Export(context.Background(), snap.ID, dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := restoreCommands(snap.CanisterID, dir); !slices.Equal(cmds, want) {
		t.Errorf("commands = %q, want %q", cmds, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "metadata.json")); err != nil {
		t.Errorf("export wrote no metadata.json: %v", err)
	}
}
