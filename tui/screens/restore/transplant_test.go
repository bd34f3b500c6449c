package restore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/frame"
	st "github.com/canscope/canscope/tui/internal/screentest"
	"github.com/canscope/canscope/tui/source"
)

// toReport opens transplant, types the fixture module and checks it.
func toReport() []tea.Msg {
	return append(append(st.Keys("tab", "tab"), st.Type("fixed.wasm")...), st.Key("enter"))
}

func openTransplant(t *testing.T, theme string, w, h int, tr *st.Transplanter) *Model {
	t.Helper()
	src := source.Set{Catalog: tr.Store, Forker: tr.Store, Exporter: tr.Store, Transplanter: tr}
	return open(t, theme, w, h, src, tr.Store.ID(t, "ledger@3"))
}

func TestTransplant(t *testing.T) {
	t.Chdir("testdata") // the fixture module is typed as a relative path
	then := func(keys ...[]tea.Msg) []tea.Msg {
		out := toReport()
		for _, k := range keys {
			out = append(out, k...)
		}
		return out
	}
	ok, fail := st.PassingReport(), st.FailingReport()
	tests := []struct {
		name   string
		w, h   int
		report source.CompatReport
		steps  []source.RehearsalStep
		keys   []tea.Msg
	}{
		{"input_80x24", 80, 24, ok, nil, append(st.Keys("tab", "tab"), st.Type("fixed.wasm")...)},
		{"report_ok_80x24", 80, 24, ok, nil, toReport()},
		{"report_ok_160x48", 160, 48, ok, nil, toReport()},
		{"report_fail_80x24", 80, 24, fail, nil, toReport()},
		{"report_fail_160x48", 160, 48, fail, nil, toReport()},
		{"name_80x24", 80, 24, ok, nil, then(st.Keys("enter"), st.Type("fixed"))},
		{"confirm_80x24", 80, 24, ok, nil, then(st.Keys("enter"), st.Type("fixed"), st.Keys("enter"))},
		{"confirm_forced_80x24", 80, 24, fail, nil, then(st.Keys("F", "enter"))},
		{"confirm_forced_160x48", 160, 48, fail, nil, then(st.Keys("F", "enter"))},
		{"rehearsal_ok_80x24", 80, 24, ok, st.OKSteps(), then(st.Keys("enter"), st.Type("fixed"), st.Keys("enter", "y"))},
		{"rehearsal_ok_160x48", 160, 48, ok, st.OKSteps(), then(st.Keys("enter", "enter", "y"))},
		{"rehearsal_trapped_80x24", 80, 24, ok, st.TrappedSteps(), then(st.Keys("enter", "enter", "y"))},
		{"rehearsal_trapped_160x48", 160, 48, ok, st.TrappedSteps(), then(st.Keys("enter", "enter", "y"))},
		{"export_input_80x24", 80, 24, ok, st.OKSteps(), then(st.Keys("enter", "enter", "y", "e"), st.Type("repaired"))},
		{"rehearsal_data_lost_80x24", 80, 24, ok, st.OKSteps(), then(st.Keys("enter", "enter", "y"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verify := st.SurvivedVerify()
			if strings.Contains(tt.name, "data_lost") {
				verify = st.LostVerify()
			}
			tr := &st.Transplanter{Store: st.Incident(), Report: tt.report, Steps: tt.steps, Verify: verify}
			m := openTransplant(t, "dark", tt.w, tt.h, tr)
			st.Run(m, tt.keys...)
			st.Shot(t, m, tt.w, tt.h)
		})
	}
}

// TestTransplantWritesOnlyAfterConfirm walks the repair and checks the
// store at each step: nothing before y, then one transplanted snapshot
// with the checked module, rehearsed, then exported.
func TestTransplantWritesOnlyAfterConfirm(t *testing.T) {
	t.Chdir("testdata")
	module, err := os.ReadFile("fixed.wasm")
	if err != nil {
		t.Fatal(err)
	}
	tr := &st.Transplanter{Store: st.Incident(), Report: st.PassingReport(), Steps: st.OKSteps()}
	m := openTransplant(t, "dark", 80, 24, tr)
	base := tr.Store.ID(t, "ledger@3")
	count := func() int { list, _ := tr.Store.List(); return len(list) }

	st.Run(m, toReport()...)
	if m.transplant.stage != transplantReport {
		t.Fatalf("stage %d after the check, want the report", m.transplant.stage)
	}
	st.Run(m, st.Key("enter"))
	st.Run(m, st.Type("fixed")...)
	st.Run(m, st.Keys("enter", "esc", "enter")...) // confirm, back to the name, confirm again
	if m.transplant.stage != transplantConfirm || count() != 6 {
		t.Fatalf("stage %d with %d snapshots, want the confirmation and the store unchanged", m.transplant.stage, count())
	}
	nav := st.Run(m, st.Key("y"))
	if len(nav) != 1 || nav[0] != (frame.StoreChangedMsg{}) {
		t.Errorf("a transplant should announce a store change, got %v", nav)
	}
	made, err := tr.Store.Manifest(tr.Store.ID(t, "fixed@1"))
	if err != nil {
		t.Fatal(err)
	}
	if made.MadeBy != snapshots.MadeByTransplant || made.Parent == nil || *made.Parent != base || made.Module != snapshots.HashOf(module) {
		t.Errorf("transplanted snapshot = %+v", made.Snapshot)
	}
	if len(tr.Rehearsed) != 1 || tr.Rehearsed[0] != made.ID || !m.transplant.rehearsal.OK() || m.transplant.stage != transplantDone {
		t.Fatalf("rehearsed %v, outcome %+v, stage %d", tr.Rehearsed, m.transplant.rehearsal, m.transplant.stage)
	}

	dir := filepath.Join(t.TempDir(), "upload")
	st.Run(m, st.Key("e"))
	st.Run(m, st.Type(dir)...)
	st.Run(m, st.Key("enter"))
	// The test's fixed.wasm does not declare the ledger fixture's
	// globals, so the IC's load check refuses the repaired snapshot (as
	// it would on the IC): y writes nothing, F forces it.
	st.Run(m, st.Key("y"))
	if !m.restore.checkFailed() || len(tr.Store.Exported) != 0 {
		t.Fatalf("the export check passed or y wrote a refused snapshot: %v", tr.Store.Exported)
	}
	st.Run(m, st.Key("F"))
	if len(tr.Store.Exported) != 1 || tr.Store.Exported[0] != dir {
		t.Fatalf("exported %v, want [%s]", tr.Store.Exported, dir)
	}
	m.SetSize(300, 30)
	v := st.Plain(m.View())
	for _, want := range []string{
		"fixed@1 · canister " + st.LedgerCanister, // the export is of the repaired snapshot
		"icp canister snapshot upload " + st.LedgerCanister + " -i " + dir + " -n ic",
		"icp canister install " + st.LedgerCanister + " --mode upgrade --wasm " + filepath.Join(mustGetwd(t), "fixed.wasm") + " -n ic",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// TestTransplantRefusedUnlessForced checks that a failing report blocks
// enter, that F goes on with a warning, and that the forced transplant
// reaches the store as forced.
func TestTransplantRefusedUnlessForced(t *testing.T) {
	t.Chdir("testdata")
	tr := &st.Transplanter{Store: st.Incident(), Report: st.FailingReport(), Steps: st.OKSteps()}
	m := openTransplant(t, "dark", 80, 24, tr)
	st.Run(m, toReport()...)
	st.Run(m, st.Key("enter"))
	if m.transplant.stage != transplantReport {
		t.Fatalf("enter on a failing report moved to stage %d", m.transplant.stage)
	}
	for _, b := range m.Bindings() {
		if b.Help().Key == "enter" {
			t.Error("a failing report offers enter")
		}
	}
	st.Run(m, st.Keys("F", "enter")...)
	if !m.transplant.forced || m.transplant.stage != transplantConfirm {
		t.Fatalf("forced %v stage %d", m.transplant.forced, m.transplant.stage)
	}
	if v := st.Plain(m.View()); !strings.Contains(v, "FORCED past failed checks: globals") {
		t.Errorf("the confirmation does not warn about the forced checks:\n%s", v)
	}
	st.Run(m, st.Key("y"))
	if _, err := tr.Store.Manifest(tr.Store.ID(t, "ledger@4")); err != nil {
		t.Fatal(err)
	}
}

// TestTransplantTrappedOffersNoExport: a rehearsal that traps must not
// lead to an export.
func TestTransplantTrappedOffersNoExport(t *testing.T) {
	t.Chdir("testdata")
	tr := &st.Transplanter{Store: st.Incident(), Report: st.PassingReport(), Steps: st.TrappedSteps()}
	m := openTransplant(t, "dark", 80, 24, tr)
	st.Run(m, toReport()...)
	st.Run(m, st.Keys("enter", "enter", "y", "e")...)
	if m.action != actionTransplant || m.transplant.stage != transplantDone {
		t.Fatalf("e after a trapped rehearsal moved to action %d stage %d", m.action, m.transplant.stage)
	}
	st.Run(m, st.Key("r")) // rehearse again: same outcome, still no export
	if len(tr.Rehearsed) != 2 || m.transplant.rehearsal.OK() {
		t.Errorf("rehearsed %d times, outcome %+v", len(tr.Rehearsed), m.transplant.rehearsal)
	}
}

func TestTransplantUnreadableModule(t *testing.T) {
	t.Chdir("testdata")
	tr := &st.Transplanter{Store: st.Incident(), Report: st.PassingReport()}
	m := openTransplant(t, "dark", 80, 24, tr)
	st.Run(m, append(append(st.Keys("tab", "tab"), st.Type("missing.wasm")...), st.Key("enter"))...)
	if m.transplant.stage != transplantInput || m.err == nil || !strings.Contains(m.err.Error(), "check missing.wasm against ledger@3: read the fixed module") {
		t.Fatalf("stage %d err %v", m.transplant.stage, m.err)
	}
	st.CheckSize(t, m.View(), 80, 22)
	if v := st.Plain(m.View()); !strings.Contains(v, "no such file") {
		t.Errorf("the error is cut short:\n%s", v)
	}
}

// TestTransplantCancel cancels a check and a rehearsal in flight: each
// returns at once and the late result is dropped.
func TestTransplantCancel(t *testing.T) {
	t.Chdir("testdata")
	tr := &st.Transplanter{Store: st.Incident(), Report: st.PassingReport(), Steps: st.OKSteps(), Block: true}
	m := openTransplant(t, "dark", 80, 24, tr)
	st.Run(m, toReport()[:len(toReport())-1]...)
	batch := m.Update(st.Key("enter"))().(tea.BatchMsg)
	late := make(chan tea.Msg)
	go func() { late <- batch[0]() }()
	if m.transplant.stage != transplantChecking || !strings.Contains(st.Plain(m.View()), "checking fixed.wasm against ledger@3") {
		t.Fatalf("stage %d:\n%s", m.transplant.stage, st.Plain(m.View()))
	}
	st.Run(m, st.Key("x"))
	if m.transplant.stage != transplantInput || m.notice != "check cancelled" {
		t.Fatalf("after x: stage %d notice %q", m.transplant.stage, m.notice)
	}
	st.Run(m, <-late) // the check saw the cancellation; its result is ignored
	if m.transplant.stage != transplantInput || m.err != nil {
		t.Fatalf("the cancelled check's result was applied: stage %d err %v", m.transplant.stage, m.err)
	}

	tr.Block = false
	st.Run(m, st.Keys("enter", "enter", "enter")...) // check, name, confirm
	tr.Block = true
	transplanted := m.Update(st.Key("y"))().(tea.BatchMsg)[0]()
	m.Update(transplanted) // starts the rehearsal, which blocks
	if m.transplant.stage != transplantRehearsing {
		t.Fatalf("stage %d, want the rehearsal running", m.transplant.stage)
	}
	st.Run(m, st.Key("x"))
	if m.transplant.stage != transplantDone || !strings.Contains(m.notice, "rehearsal cancelled") || m.transplant.rehearsal.OK() {
		t.Errorf("after x: stage %d notice %q", m.transplant.stage, m.notice)
	}
	for _, b := range m.Bindings() {
		if b.Help().Key == "e" {
			t.Error("export offered without a finished rehearsal")
		}
	}
	m.Close() // nothing running any more; must not panic
}

// TestTransplantFlowsHandOver walks the hand-overs between the flows'
// own stages: e takes a rehearsed repair into the restore flow, esc there
// returns to the repair, and tab from the export to the transplant starts it
// at its input again (the repaired snapshot stays the subject).
func TestTransplantFlowsHandOver(t *testing.T) {
	t.Chdir("testdata")
	tr := &st.Transplanter{Store: st.Incident(), Report: st.PassingReport(), Steps: st.OKSteps()}
	m := openTransplant(t, "dark", 80, 24, tr)
	st.Run(m, toReport()...)
	st.Run(m, st.Keys("enter", "enter", "y", "e")...)
	if m.action != actionRestore || m.restore.stage != restoreInput || m.transplant.stage != transplantDone {
		t.Fatalf("after e: action %d restore stage %d transplant stage %d", m.action, m.restore.stage, m.transplant.stage)
	}
	st.Run(m, st.Key("esc"))
	if m.action != actionTransplant || !strings.Contains(st.Plain(m.View()), "e exports") {
		t.Fatalf("esc from the export did not return to the repair: action %d\n%s", m.action, st.Plain(m.View()))
	}
	st.Run(m, st.Keys("e", "tab")...)
	if m.action != actionTransplant || m.transplant.stage != transplantInput || !strings.Contains(st.Plain(m.View()), "fixed module:") {
		t.Fatalf("tab back to the transplant: action %d stage %d\n%s", m.action, m.transplant.stage, st.Plain(m.View()))
	}
}
