package main

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/canscope/canscope/engine/workbench"
)

var updateGolden = flag.Bool("update", false, "rewrite cmd/canscope/testdata/*.golden")

// TestHeadroom builds a lineage of five snapshots of the incident
// canister, one a month, each holding 1 MiB more data, so pre_upgrade's
// instructions grow linearly with the memory. The projection must match
// the hand computation from the first and last points within 5 %, a
// second run must come from the cache, and the chart must fit 80x24.
func TestHeadroom(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache"))
	store := filepath.Join(tmp, "store")
	must := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := canscopeCode(store, args...)
		if code != 0 {
			t.Fatalf("canscope %v: exit %d: %s", args, code, stderr)
		}
		return stdout
	}
	must("install", "../../engine/testdata/incident.wasm", "--name", "prod", "--time", "2026-01-01T00:00:00Z")
	for _, month := range []string{"02", "03", "04", "05"} {
		must("call", "prod", "add_chunks", "--arg-hex", "1000000000000000", "--time", "2026-"+month+"-01T00:00:00Z", "--commit")
	}
	var h headroomJSON
	if err := json.Unmarshal([]byte(must("headroom", "prod", "--json")), &h); err != nil {
		t.Fatal(err)
	}
	if len(h.Points) != 5 || h.Cached != 0 {
		t.Fatalf("%d points, %d cached", len(h.Points), h.Cached)
	}
	use := func(p workbench.HeadroomPoint, name string) float64 {
		for _, u := range p.Uses {
			if u.Name == name {
				return float64(u.Used)
			}
		}
		t.Fatalf("%s has no %q use", p.Snapshot.Ref(), name)
		return 0
	}
	const name = "pre_upgrade instructions"
	var pr workbench.Projection
	for _, p := range h.Projections {
		if p.Name == name {
			pr = p
		}
	}
	if pr.BySize == nil || pr.ByTime == nil || pr.BySize.R2 < 0.99 {
		t.Fatalf("projection %+v", pr)
	}
	// By hand: the line through the first and the last snapshot.
	first, last := h.Points[0], h.Points[4]
	slope := (use(last, name) - use(first, name)) / float64(last.MemoryBytes-first.MemoryBytes)
	atSize := float64(first.MemoryBytes) + (float64(pr.Limit)-use(first, name))/slope
	if d := math.Abs(pr.AtMemoryBytes-atSize) / atSize; d > 0.05 {
		t.Errorf("limit reached at %.4g bytes of memory, by hand %.4g (%.1f%% off)", pr.AtMemoryBytes, atSize, 100*d)
	}
	perNs := (use(last, name) - use(first, name)) / float64(last.Time-first.Time)
	atTime := float64(first.Time) + (float64(pr.Limit)-use(first, name))/perNs
	if d := math.Abs(pr.AtTime-atTime) / atTime; d > 0.05 {
		t.Errorf("limit reached at %.4g ns, by hand %.4g (%.1f%% off)", pr.AtTime, atTime, 100*d)
	}

	if err := json.Unmarshal([]byte(must("headroom", "prod", "--json")), &h); err != nil || h.Cached != 5 {
		t.Errorf("second run: %d of 5 from the cache (%v)", h.Cached, err)
	}

	chart := headroomChart(h, 80, 24)
	lines := strings.Split(strings.TrimSuffix(chart, "\n"), "\n")
	if len(lines) > 24 {
		t.Errorf("chart has %d rows, want at most 24", len(lines))
	}
	for _, l := range lines {
		if utf8.RuneCountInString(l) > 80 {
			t.Errorf("chart row wider than 80: %q", l)
		}
	}
	golden := filepath.Join("testdata", "headroom_chart.golden")
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(chart), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if chart != string(want) {
		t.Errorf("chart differs from %s (go test -run TestHeadroom -update rewrites it):\n%s", golden, chart)
	}

	// One snapshot: the text says a trend needs two.
	must("install", "../../engine/testdata/counter.wasm", "--name", "solo")
	if out := must("headroom", "solo"); !strings.Contains(out, "a trend needs two") {
		t.Errorf("one snapshot:\n%s", out)
	}
	if code, _, stderr := canscopeCode(store, "headroom", "nosuch"); code != exitError || !strings.Contains(stderr, `no snapshot is named "nosuch"`) {
		t.Errorf("unknown name: exit %d, %s", code, stderr)
	}
}
