package restore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/tui/frame"
	st "github.com/canscope/canscope/tui/internal/screentest"
	"github.com/canscope/canscope/tui/source"
)

func open(t *testing.T, theme string, w, h int, src source.Set, id snapshots.ID) *Model {
	t.Helper()
	return st.Open(t, theme, w, h, src, func(c *frame.Context) *Model { return New(c, id) })
}

func TestRestore(t *testing.T) {
	// Relative export paths resolve against the working directory; pin
	// it so the golden shows a stable absolute path.
	t.Chdir("/tmp")
	tests := []struct {
		name string
		w, h int
		keys []tea.Msg
	}{
		{"fork_input_80x24", 80, 24, st.Type("hotfix-2")},
		{"fork_confirm_80x24", 80, 24, append(st.Type("hotfix-2"), st.Key("enter"))},
		{"fork_done_80x24", 80, 24, append(st.Type("hotfix-2"), st.Keys("enter", "y")...)},
		{"restore_input_80x24", 80, 24, st.Keys("tab")},
		{"restore_confirm_80x24", 80, 24, append(append(st.Keys("tab"), st.Type("restore-ledger")...), st.Key("enter"))},
		{"restore_commands_160x48", 160, 48, append(append(st.Keys("tab"), st.Type("restore-ledger")...), st.Keys("enter", "y", "c")...)},
		{"fork_bad_name_80x24", 80, 24, append(st.Type("a@b"), st.Key("enter"))},
		{"restore_refused_80x24", 80, 24, append(append(st.Keys("tab"), st.Type("restore-counter")...), st.Key("enter"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := st.Incident()
			ref := "ledger@3"
			if strings.Contains(tt.name, "refused") {
				ref = "counter@1" // its module is not wasm: the IC refuses it
			}
			m := open(t, "dark", tt.w, tt.h, source.Set{Catalog: store, Forker: store, Exporter: store}, store.ID(t, ref))
			st.Run(m, tt.keys...)
			st.Shot(t, m, tt.w, tt.h)
		})
	}
}

func TestForkWritesOnlyAfterConfirm(t *testing.T) {
	store := st.Incident()
	m := open(t, "dark", 80, 24, source.Set{Catalog: store, Forker: store, Exporter: store}, store.ID(t, "ledger@3"))
	st.Run(m, append(st.Type("hotfix-2"), st.Key("enter"))...)
	if list, _ := store.List(); len(list) != 6 {
		t.Fatalf("the store changed before confirmation: %d snapshots", len(list))
	}
	st.Run(m, st.Key("esc")) // back to the input, nothing written
	if m.fork.stage != forkInput {
		t.Fatalf("esc at the confirmation should return to the input, stage %d", m.fork.stage)
	}
	nav := st.Run(m, st.Keys("enter", "y")...)
	if len(nav) != 1 || nav[0] != (frame.StoreChangedMsg{}) {
		t.Errorf("a fork should announce a store change, got %v", nav)
	}
	fork, err := store.Manifest(store.ID(t, "hotfix-2@1"))
	if err != nil {
		t.Fatal(err)
	}
	if fork.MadeBy != snapshots.MadeByFork || *fork.ForkedFrom != store.ID(t, "ledger@3") {
		t.Errorf("fork = %+v", fork.Snapshot)
	}
}

func TestRestoreExports(t *testing.T) {
	store := st.Incident()
	dir := filepath.Join(t.TempDir(), "out")
	m := open(t, "dark", 80, 24, source.Set{Catalog: store, Forker: store, Exporter: store}, store.ID(t, "ledger@3"))
	st.Run(m, append(append(st.Keys("tab"), st.Type(dir)...), st.Keys("enter", "y")...)...)
	if len(store.Exported) != 1 || store.Exported[0] != dir {
		t.Fatalf("exported = %v, want [%s]", store.Exported, dir)
	}
	// At 80 columns the long upload command continues on the next line
	// with a shell continuation; pasted, it is the whole command.
	if v := strings.ReplaceAll(st.Plain(m.View()), " \\\n    ", " "); !strings.Contains(v, "-i "+dir) {
		t.Errorf("the upload command lost its end at 80 columns:\n%s", st.Plain(m.View()))
	}
	m.SetSize(300, 20)
	v := st.Plain(m.View())
	for _, want := range []string{
		"icp canister snapshot upload " + st.LedgerCanister + " -i " + dir + " -n ic",
		"icp canister snapshot restore " + st.LedgerCanister + " <uploaded-snapshot-id> -n ic",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
}

func TestCommandLines(t *testing.T) {
	plain := func(s ...string) string { return strings.Join(s, "") }
	tests := []struct {
		cmd   string
		width int
		want  []string
	}{
		{"dfx canister start abc", 80, []string{"dfx canister start abc"}},
		{"dfx canister snapshot create abc   # a way back: keep the id it prints", 80,
			[]string{"# a way back: keep the id it prints", "dfx canister snapshot create abc"}},
		{"dfx canister snapshot upload abc --dir /tmp/out", 30,
			[]string{`dfx canister snapshot upload \`, `    abc --dir /tmp/out`}},
		{"averyveryverylongword x", 5, []string{`averyveryverylongword \`, "    x"}},
	}
	for _, tt := range tests {
		got := commandLines(tt.cmd, tt.width, plain)
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("commandLines(%q, %d) = %q, want %q", tt.cmd, tt.width, got, tt.want)
		}
	}
}

// TestRestoreIgnoresAnotherScreensResult: the root hands background
// results to every open screen; a closed restore screen's fork must not
// show as done in the restore screen opened after it.
func TestRestoreIgnoresAnotherScreensResult(t *testing.T) {
	store := st.Incident()
	src := source.Set{Catalog: store, Forker: store, Exporter: store}
	closed := open(t, "dark", 80, 24, src, store.ID(t, "ledger@3"))
	st.Run(closed, append(st.Type("hotfix-2"), st.Key("enter"))...)
	fork := closed.Update(st.Key("y"))
	closed.Close()

	m := open(t, "dark", 80, 24, src, store.ID(t, "ledger@2"))
	m.Update(fork())
	if m.fork.stage != forkInput || m.fork.result != nil {
		t.Errorf("another screen's fork landed here: stage %d forked %v", m.fork.stage, m.fork.result)
	}
}

// ctxExporter records the context of the export it was asked for.
type ctxExporter struct{ ctx context.Context }

func (e *ctxExporter) Check(context.Context, snapshots.ID) (source.ExportReport, error) {
	return source.ExportReport{OK: true}, nil
}

func (e *ctxExporter) Export(ctx context.Context, _ snapshots.ID, _ string, _ source.ExportRequest) (dfx.Sequence, error) {
	e.ctx = ctx
	return dfx.Sequence{}, ctx.Err()
}

// TestExportCancel: an export can be long; x cancels it and so does
// closing the screen, and a cancelled export's result is dropped.
func TestExportCancel(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, stop := range []string{"x", "close"} {
		t.Run(stop, func(t *testing.T) {
			store := st.Incident()
			exp := &ctxExporter{}
			m := open(t, "dark", 80, 24, source.Set{Catalog: store, Exporter: exp}, store.ID(t, "ledger@3"))
			st.Run(m, append(append(st.Keys("tab"), st.Type("out")...), st.Key("enter"))...)
			batch := m.Update(st.Key("y"))().(tea.BatchMsg) // the export and the spinner
			if m.restore.stage != restoreWorking {
				t.Fatalf("after y: stage %d, want working", m.restore.stage)
			}
			if stop == "x" {
				m.Update(st.Key("x"))
			} else {
				m.Close()
			}
			done := batch[0]() // the export, started now, under the cancelled context
			if exp.ctx == nil || exp.ctx.Err() == nil {
				t.Fatalf("the export's context is still live after %s", stop)
			}
			m.Update(done)
			if m.restore.stage == restoreDone || m.err != nil {
				t.Errorf("a cancelled export's result landed: stage %d err %v", m.restore.stage, m.err)
			}
			if stop == "x" && (m.restore.stage != restoreInput || m.notice != "export cancelled") {
				t.Errorf("after x: stage %d notice %q", m.restore.stage, m.notice)
			}
		})
	}
}

// TestRestoreCopyClaims: c says the commands were copied only when the
// terminal reported OSC 52 clipboard support; otherwise it says to select
// them and sends nothing.
func TestRestoreCopyClaims(t *testing.T) {
	t.Chdir("/tmp")
	for _, clip := range []bool{false, true} {
		store := st.Incident()
		m := open(t, "dark", 160, 48, source.Set{Catalog: store, Forker: store, Exporter: store}, store.ID(t, "ledger@3"))
		m.ctx.Clipboard = clip
		st.Run(m, append(append(st.Keys("tab"), st.Type("restore-ledger")...), st.Keys("enter", "y")...)...)
		cmd := m.Update(st.Key("c"))
		v := st.Plain(m.View())
		switch {
		case clip && (cmd == nil || !strings.Contains(v, "copied to the clipboard")):
			t.Errorf("with OSC 52: cmd %v, view:\n%s", cmd, v)
		case !clip && (cmd != nil || strings.Contains(v, "copied") || !strings.Contains(v, "select the text to copy")):
			t.Errorf("without OSC 52: cmd %v, view:\n%s", cmd != nil, v)
		}
	}
}

// TestRefusedExportNeedsForce: a snapshot the IC would refuse is not
// written on y; the confirmation says what fails, and only F (the
// operator's force) writes it, saying again that the IC will refuse it.
func TestRefusedExportNeedsForce(t *testing.T) {
	store := st.Incident()
	dir := filepath.Join(t.TempDir(), "out")
	m := open(t, "dark", 80, 24, source.Set{Catalog: store, Forker: store, Exporter: store}, store.ID(t, "counter@1"))
	st.Run(m, append(append(st.Keys("tab"), st.Type(dir)...), st.Keys("enter", "y")...)...)
	if len(store.Exported) != 0 || m.restore.stage != restoreConfirm {
		t.Fatalf("y exported a snapshot the IC refuses: exported %v, stage %d", store.Exported, m.restore.stage)
	}
	v := st.Plain(m.View())
	for _, want := range []string{"FAIL module valid at load_canister_snapshot", "The IC will refuse it", "F exports it anyway"} {
		if !strings.Contains(strings.Join(strings.Fields(v), " "), want) {
			t.Errorf("the confirmation lacks %q:\n%s", want, v)
		}
	}
	st.Run(m, st.Key("F"))
	if len(store.Exported) != 1 || m.restore.stage != restoreDone {
		t.Fatalf("F did not export: exported %v, stage %d, err %v", store.Exported, m.restore.stage, m.err)
	}
	if v := st.Plain(m.View()); !strings.Contains(v, "Forced: the IC will refuse it") {
		t.Errorf("the forced export does not say the IC will refuse it:\n%s", v)
	}
}

// TestRefusedExportCutSaysSo: on a screen too short for the whole report
// the cut is named and the force prompt stays.
func TestRefusedExportCutSaysSo(t *testing.T) {
	store := st.Incident()
	m := open(t, "dark", 80, 16, source.Set{Catalog: store, Forker: store, Exporter: store}, store.ID(t, "counter@1"))
	st.Run(m, append(append(st.Keys("tab"), st.Type("/tmp/out")...), st.Key("enter"))...)
	v := strings.Join(strings.Fields(st.Plain(m.View())), " ")
	for _, want := range []string{"more lines of the report: canscope check counter@1 shows it whole", "F exports it anyway"} {
		if !strings.Contains(v, want) {
			t.Errorf("the view lacks %q:\n%s", want, st.Plain(m.View()))
		}
	}
}
