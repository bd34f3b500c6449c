package screentest

import (
	"context"
	"errors"

	"github.com/canscope/canscope/tui/bridge"
	"github.com/canscope/canscope/tui/source"
)

// Complete fills every source a test left out with a fake, as the
// program always wires all of them (tui/bridge.New): the store (src's
// Catalog when it is a *Memory, else an empty one) forks and exports, the
// incident's failing upgrade runs, a passing transplant, the incident's headroom, the real module
// inspector and stable labeller; the demo loader refuses (tests that load
// the demo give their own).
func Complete(src source.Set) source.Set {
	mem, ok := src.Catalog.(*Memory)
	if !ok {
		mem = NewMemory()
	}
	if src.Catalog == nil {
		src.Catalog = mem
	}
	if src.Forker == nil {
		src.Forker = mem
	}
	if src.Exporter == nil {
		src.Exporter = mem
	}
	if src.Runner == nil {
		src.Runner = FailingUpgrade(mem)
	}
	if src.Transplanter == nil {
		src.Transplanter = &Transplanter{Store: mem, Report: PassingReport(), Steps: OKSteps(), Verify: SurvivedVerify()}
	}
	if src.Headroom == nil {
		src.Headroom = IncidentHeadroom(mem)
	}
	if src.Inspect == nil {
		src.Inspect = bridge.Inspect
	}
	if src.Labeller == nil {
		src.Labeller = bridge.StableLayout
	}
	if src.Demo == nil {
		src.Demo = func(context.Context) error { return errors.New("this test loads no demo") }
	}
	return src
}
