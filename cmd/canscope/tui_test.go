package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/engine/workbench/demo"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/snapshots/fsstore"
	"github.com/canscope/canscope/themes"
	"github.com/canscope/canscope/tui"
	"github.com/canscope/canscope/tui/bridge"
	"github.com/canscope/canscope/tui/source"
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

// newTestSession opens a session (store, engine, bench) on a fresh store,
// closed when the test ends.
func newTestSession(t *testing.T) *session {
	t.Helper()
	a := &app{storeFlag: t.TempDir(), getenv: func(string) string { return "" }}
	s, err := a.openSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close(context.Background()) })
	return s
}

// testSources wires the UI to s as runTUI does; the tracer is closed when
// the test ends, before the session.
func testSources(t *testing.T, s *session) source.Set {
	t.Helper()
	tracer := trace.New(s.bench, s.store)
	t.Cleanup(func() {
		if err := tracer.Close(context.Background()); err != nil {
			t.Errorf("close tracer: %v", err)
		}
	})
	return bridge.New(s.store, s.bench, tracer)
}

// TestTUIDemo loads the demo through the UI's source into an empty store.
func TestTUIDemo(t *testing.T) {
	ctx := context.Background()
	s := newTestSession(t)
	if err := testSources(t, s).Demo(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.Resolve(demo.IncidentName); err != nil {
		t.Errorf("after the demo: %v", err)
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
	seq, err := bridge.New(store, nil, nil).Exporter.Export(context.Background(), snap.ID, dir, source.ExportRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if want := dfx.Commands(dfx.ToolICP, snap.CanisterID, dir, dfx.Upgrade{}); !reflect.DeepEqual(seq, want) {
		t.Errorf("commands = %q, want %q", seq, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "metadata.json")); err != nil {
		t.Errorf("export wrote no metadata.json: %v", err)
	}
	// Into the same, now full, directory: one line that names the
	// snapshot and the directory once (the restore screen shows it as is).
	_, err = bridge.New(store, nil, nil).Exporter.Export(context.Background(), snap.ID, dir, source.ExportRequest{})
	if err == nil || strings.Count(err.Error(), dir) != 1 || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("export into a full directory: %v", err)
	}
}

// press returns the key presses for keys: names of special keys
// ("enter", "tab", "esc") or text typed rune by rune.
func press(keys ...string) []tea.Msg {
	special := map[string]rune{"enter": tea.KeyEnter, "tab": tea.KeyTab, "esc": tea.KeyEscape}
	var out []tea.Msg
	for _, k := range keys {
		if c, ok := special[k]; ok {
			out = append(out, tea.KeyPressMsg{Code: c})
			continue
		}
		for _, r := range k {
			out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
		}
	}
	return out
}

// drive delivers msgs to the UI's root model as the Bubble Tea runtime
// would, running every command synchronously; background work (the
// rehearsal) is waited for by the commands that deliver its results.
func drive(m tea.Model, msgs ...tea.Msg) {
	var deliver func(msg tea.Msg, depth int)
	deliver = func(msg tea.Msg, depth int) {
		switch msg := msg.(type) {
		case nil, tea.QuitMsg:
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
}

// incidentStore installs the incident canister on a bench over a fresh
// store, adds 1 MiB of data, grows stable memory past 4 GiB (so its
// pre_upgrade traps) and commits it as prod@1; it returns the session and
// the stats query's reply on that state.
func incidentStore(t *testing.T) (*session, []byte) {
	t.Helper()
	ctx := context.Background()
	s := newTestSession(t)
	code, err := os.ReadFile("../../engine/testdata/incident.wasm")
	if err != nil {
		t.Fatal(err)
	}
	run, res, err := s.bench.Install(ctx, code, nil, "bkyz2-fmaaa-aaaaa-qaaaq-cai")
	if err != nil || res.Status != engine.StatusOK {
		t.Fatalf("install: %v %+v", err, res.Trap)
	}
	defer run.Close(ctx)
	for _, call := range []struct {
		method string
		arg    uint64
	}{{"add_chunks", 16}, {"grow_stable", 65537}} {
		if res, err := run.Canister.Update(ctx, call.method, binary.LittleEndian.AppendUint64(nil, call.arg)); err != nil || res.Status != engine.StatusOK {
			t.Fatalf("%s: %v %+v", call.method, err, res.Trap)
		}
	}
	stats, err := run.Canister.Query(ctx, "stats", nil)
	if err != nil || stats.Status != engine.StatusOK {
		t.Fatalf("stats: %v %+v", err, stats.Trap)
	}
	if _, err := run.Commit(ctx, workbench.CommitOptions{Name: "prod", MadeBy: snapshots.MadeByInstall}); err != nil {
		t.Fatal(err)
	}
	return s, stats.Reply
}

// TestTUIRepair drives the terminal UI through the repair of the
// incident on a real store and engine: an incompatible module is refused
// and writes nothing; the fixed module is transplanted, its rehearsal
// passes, and the export is a dfx directory of the repaired snapshot.
func TestTUIRepair(t *testing.T) {
	s, before := incidentStore(t)
	th, err := themes.Lookup("dark")
	if err != nil {
		t.Fatal(err)
	}
	m := tui.New(tui.Options{Sources: testSources(t, s), StorePath: s.store.Location(), Theme: th})
	drive(m, tea.WindowSizeMsg{Width: 120, Height: 40}, m.Init()())
	screen := func() string { return ansi.Strip(m.Render()) }
	fixtures, err := filepath.Abs("../../engine/testdata")
	if err != nil {
		t.Fatal(err)
	}

	// counter.wasm has one global where the snapshot has five.
	drive(m, press("f", "tab", "tab", filepath.Join(fixtures, "counter.wasm"), "enter")...)
	if v := screen(); !strings.Contains(v, "FAIL  globals") || !strings.Contains(v, "snapshot has 5 globals, module has 1") {
		t.Fatalf("counter.wasm not refused:\n%s", v)
	}
	drive(m, press("enter")...) // no way on without F
	if list, _ := s.store.List(); len(list) != 1 {
		t.Fatalf("the refused module changed the store: %d snapshots", len(list))
	}

	drive(m, press("esc")...)
	drive(m, press("tab", "tab", "tab")...) // back round to transplant: the path is kept
	for range len(filepath.Join(fixtures, "counter.wasm")) {
		drive(m, tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	fixed := filepath.Join(fixtures, "incident_fixed.wasm")
	drive(m, press(fixed, "enter")...)
	if v := screen(); !strings.Contains(v, "All checks pass") {
		t.Fatalf("incident_fixed.wasm does not pass:\n%s", v)
	}
	drive(m, press("enter", "fixed", "enter")...)
	if list, _ := s.store.List(); len(list) != 1 {
		t.Fatalf("the store changed before confirmation: %d snapshots", len(list))
	}
	drive(m, press("y")...)
	v := screen()
	for _, want := range []string{"Transplanted as fixed@1", "ok       upgrade   ", "ok       upgrade again", "The next upgrade succeeds"} {
		if !strings.Contains(v, want) {
			t.Fatalf("rehearsal screen lacks %q:\n%s", want, v)
		}
	}

	list, err := s.store.List()
	if err != nil || len(list) != 2 {
		t.Fatalf("store after the transplant: %d snapshots, %v", len(list), err)
	}
	prod, made := list[0], list[1]
	code, err := os.ReadFile(fixed)
	if err != nil {
		t.Fatal(err)
	}
	if made.Ref() != "fixed@1" || made.MadeBy != snapshots.MadeByTransplant || made.Parent == nil || *made.Parent != prod.ID || made.ModuleHash != snapshots.HashOf(code) {
		t.Errorf("transplanted snapshot = %+v", made)
	}
	// The rehearsal wrote nothing; a real upgrade of the repaired state
	// keeps the data.
	r, err := s.bench.Open(context.Background(), made.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	if res, err := r.Canister.Upgrade(context.Background(), nil, nil, engine.UpgradeOptions{}); err != nil || res.Status != engine.StatusOK {
		t.Fatalf("upgrade of the repaired snapshot: %v %+v", err, res.Trap)
	}
	if after, err := r.Canister.Query(context.Background(), "stats", nil); err != nil || !bytes.Equal(after.Reply, before) {
		t.Errorf("stats after the upgrade = %x, want %x (%v)", after.Reply, before, err)
	}

	dir := filepath.Join(t.TempDir(), "upload")
	drive(m, press("e", dir, "enter", "y")...)
	if v := screen(); !strings.Contains(v, "icp canister snapshot upload bkyz2-fmaaa-aaaaa-qaaaq-cai -i "+dir+" -n ic") {
		t.Errorf("export screen lacks the upload command:\n%s", v)
	}
	md, err := os.ReadFile(filepath.Join(dir, dfx.MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := dfx.ParseMetadata(md)
	if err != nil {
		t.Fatal(err)
	}
	module, err := os.ReadFile(filepath.Join(dir, "wasm_module.bin"))
	if err != nil {
		t.Fatal(err)
	}
	stable, err := os.Stat(filepath.Join(dir, "stable_memory.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(module, code) || meta.ModuleSize != uint64(len(code)) || uint64(stable.Size()) != meta.StableSize || meta.StableSize <= 4<<30 {
		t.Errorf("export: module %d bytes (want the fixed module, %d), metadata module_size %d, stable %d bytes vs metadata %d",
			len(module), len(code), meta.ModuleSize, stable.Size(), meta.StableSize)
	}
}

// TestBenchTransplanterRehearse rehearses the unrepaired incident: the
// first upgrade traps in the old pre_upgrade and the rehearsal stops
// there; a cancelled rehearsal reports the cancellation, not a result.
func TestBenchTransplanterRehearse(t *testing.T) {
	s, _ := incidentStore(t)
	list, err := s.store.List()
	if err != nil {
		t.Fatal(err)
	}
	tr := bridge.New(s.store, s.bench, nil).Transplanter
	var heard []source.RehearsalStep
	got, err := tr.Rehearse(context.Background(), list[0].ID, func(st source.RehearsalStep) { heard = append(heard, st) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Steps) != 1 || len(heard) != 1 || got.OK() {
		t.Fatalf("rehearsal = %+v, progress heard %d steps", got, len(heard))
	}
	step := got.Steps[0]
	if step.Name != "upgrade" || step.Status != "trapped" || !strings.Contains(step.TrapMessage, "32 bit stable memory api used on a memory larger than 4GB") ||
		step.TrapFunction == "" || !slices.ContainsFunc(step.Backtrace, func(f string) bool { return strings.Contains(f, "pre_upgrade") }) || step.Instructions == 0 {
		t.Errorf("step = %+v", step)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Rehearse(ctx, list[0].ID, func(source.RehearsalStep) { t.Error("a cancelled rehearsal reported a step") }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled rehearsal: err = %v, want context.Canceled", err)
	}
	if after, _ := s.store.List(); len(after) != 1 {
		t.Errorf("rehearsals wrote %d snapshots", len(after)-1)
	}
}

// TestBenchTransplanterVerifies checks that the UI's rehearsal runs the
// data-survival check of `upgrade --verify`: the Rust ledger's count and
// checksum reply the same before and after both upgrades.
func TestBenchTransplanterVerifies(t *testing.T) {
	ctx := context.Background()
	s := newTestSession(t)
	code, err := os.ReadFile("../../engine/testdata/rust_ledger.wasm")
	if err != nil {
		t.Fatal(err)
	}
	run, res, err := s.bench.Install(ctx, code, nil, "")
	if err != nil || res.Status != engine.StatusOK {
		t.Fatalf("install: %v %+v", err, res.Trap)
	}
	defer run.Close(ctx)
	if res, err := run.Canister.Update(ctx, "insert", []byte("DIDL\x00\x01\x78\x03\x00\x00\x00\x00\x00\x00\x00")); err != nil || res.Status != engine.StatusOK {
		t.Fatalf("insert: %v %+v", err, res.Trap)
	}
	snap, err := run.Commit(ctx, workbench.CommitOptions{Name: "led", MadeBy: snapshots.MadeByInstall})
	if err != nil {
		t.Fatal(err)
	}
	got, err := bridge.New(s.store, s.bench, nil).Transplanter.Rehearse(ctx, snap.ID, func(source.RehearsalStep) {})
	if err != nil {
		t.Fatal(err)
	}
	if !got.OK() || !got.DataSurvived() || len(got.Verify) != 2 {
		t.Fatalf("rehearsal = %+v", got)
	}
	if v := got.Verify[1]; v.Method != "count" || v.Before != "(3 : nat64)" || len(v.After) != 2 || v.After[1] != "(3 : nat64)" {
		t.Errorf("count = %+v", v)
	}
}
