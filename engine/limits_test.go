package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/internal/peakrss"
	"github.com/canscope/canscope/engine/meter"
)

// limitsCanister installs core/limits.wasm under the given options.
func limitsCanister(t *testing.T, e *Engine, opts Options) *Canister {
	t.Helper()
	ctx := context.Background()
	c, err := e.NewCanister(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(ctx) })
	res, err := c.Install(ctx, load(t, e, "core/limits.wasm"), nil)
	mustOK(t, res, err)
	return c
}

// mustTrap fails the test unless res trapped with code and its text
// contains want.
func mustTrap(t *testing.T, res Result, err error, code ic0.ErrorCode, want string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusTrapped || res.Trap.Code != code || !strings.Contains(res.Trap.Message, want) {
		t.Fatalf("status %s %s, want a %s trap containing %q", res.Status, res.ErrorText("test"), code, want)
	}
}

func limitOf(res Result, name string) LimitUse {
	for _, l := range res.Limits {
		if l.Name == name {
			return l
		}
	}
	return LimitUse{}
}

// The dirty heap page charge, by hand: dirty2 is one block, 1 (function
// entry) + 2×(i32.const, i64.const, i64.store: 1 each) + call 5 = 12
// instructions, msg_reply's overhead 500, and 2 dirtied 4 KiB heap pages
// at dirty_page_overhead 1000 (wasmtime_embedder_tests.rs,
// charge_for_dirty_heap).
func TestDirtyHeapPageCharge(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := limitsCanister(t, e, Options{})
	res, err := c.Update(ctx, "dirty2", nil)
	mustOK(t, res, err)
	if want := uint64(12 + 500 + 2*1000); res.Instructions != want {
		t.Errorf("dirty2 used %d instructions, want %d", res.Instructions, want)
	}
	if res.Phases[0].DirtyHeapPages != 2 {
		t.Errorf("phase %+v, want 2 dirty heap pages", res.Phases[0])
	}
	// Rewriting the same pages in the next message dirties them again.
	res, err = c.Update(ctx, "dirty2", nil)
	mustOK(t, res, err)
	if res.Instructions != 2512 {
		t.Errorf("second dirty2 used %d", res.Instructions)
	}
	// On a subnet without the charge (system subnets), only the code counts.
	s := limitsCanister(t, e, Options{Limits: meter.Limits{DirtyPageOverhead: meter.NoCharge}})
	res, err = s.Update(ctx, "dirty2", nil)
	mustOK(t, res, err)
	if res.Instructions != 512 {
		t.Errorf("without the charge dirty2 used %d, want 512", res.Instructions)
	}
}

// A stable write costs a byte each plus 1000 per 4 KiB stable page it
// dirties first; the same code writing one more page costs exactly 4096 +
// 1000 more.
func TestStableDirtyPageCharge(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	one := limitsCanister(t, e, Options{})
	two := limitsCanister(t, e, Options{})
	r1, err := one.Update(ctx, "stable_write", u64(4096))
	mustOK(t, r1, err)
	r2, err := two.Update(ctx, "stable_write", u64(8192))
	mustOK(t, r2, err)
	if d := r2.Instructions - r1.Instructions; d != 4096+1000 {
		t.Errorf("one more stable page cost %d instructions, want 5096", d)
	}
	if r2.StableBytesWritten != 8192 {
		t.Errorf("stable bytes written %d", r2.StableBytesWritten)
	}
	if l := limitOf(r2, LimitStableDirtyBytes); l.Used != 8192 || l.Limit != 2<<30 {
		t.Errorf("stable_dirty_bytes %+v, want 8192 of 2 GiB", l)
	}
}

// Stable page limits per execution: just under passes, just over traps
// with the replica's text and IC0524 and leaves the state as it was. The
// limits are lowered (they are per-subnet settings) so that the test
// writes kilobytes, not gigabytes; meter's constants hold the replica's.
func TestStablePageLimitsPerExecution(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	const page = meter.OSPageSize
	limits := meter.Limits{
		StableDirtyPages:    meter.PageLimit{Message: 4, Upgrade: 6, Query: 1},
		StableAccessedPages: meter.PageLimit{Message: 5, Upgrade: 8, Query: 2},
	}
	c := limitsCanister(t, e, Options{Limits: limits})
	res, err := c.Update(ctx, "stable_write", u64(4*page))
	mustOK(t, res, err)
	sizeBefore := c.st.Stable.Size()
	res, err = c.Update(ctx, "write_trap", u64(4*page)) // rolls back on its own trap
	mustTrap(t, res, err, ic0.CodeCanisterTrapped, "unreachable")
	res, err = c.Update(ctx, "stable_write", u64(4*page+1))
	mustTrap(t, res, err, ic0.CodeMemoryAccessLimitExceeded,
		"Canister exceeded memory access limits: Exceeded the limit for the number of modified pages in the stable memory in a single execution: limit 16 KB for regular messages, 24 KB for upgrade messages and 4 KB for queries.")
	if c.st.Stable.Size() != sizeBefore {
		t.Errorf("stable size %d after the trap, want %d", c.st.Stable.Size(), sizeBefore)
	}

	res, err = c.Update(ctx, "stable_read", u64(5*page))
	mustOK(t, res, err)
	res, err = c.Update(ctx, "stable_read", u64(5*page+1))
	mustTrap(t, res, err, ic0.CodeMemoryAccessLimitExceeded,
		"Exceeded the limit for the number of accessed pages in the stable memory in a single message execution: limit 20 KB for regular messages and 8 KB for queries.")
	res, err = c.Query(ctx, "stable_read_query", u64(2*page))
	mustOK(t, res, err)
	res, err = c.Query(ctx, "stable_read_query", u64(2*page+1))
	mustTrap(t, res, err, ic0.CodeMemoryAccessLimitExceeded, "accessed pages")

	// pre_upgrade has the upgrade limit.
	res, err = c.Update(ctx, "set_upgrade_write", u64(6*page))
	mustOK(t, res, err)
	res, err = c.Upgrade(ctx, nil, nil, UpgradeOptions{})
	mustOK(t, res, err)
	if l := limitOf(res, LimitStableDirtyBytes); l.Used != 6*page || l.Limit != 6*page {
		t.Errorf("upgrade stable_dirty_bytes %+v, want 6 pages of 6", l)
	}
	res, err = c.Update(ctx, "set_upgrade_write", u64(6*page+1))
	mustOK(t, res, err)
	version := c.Version()
	res, err = c.Upgrade(ctx, nil, nil, UpgradeOptions{})
	mustTrap(t, res, err, ic0.CodeMemoryAccessLimitExceeded, "modified pages")
	if c.Version() != version {
		t.Errorf("failed upgrade changed the version")
	}
}

// wasm_memory_limit: a grow past it traps in updates with IC0539 and the
// replica's text; an update does not start on a heap already over it.
func TestWasmMemoryLimit(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	limit := uint64(2 * PageSize)
	c := limitsCanister(t, e, Options{WasmMemoryLimit: &limit})
	res, err := c.Update(ctx, "grow", u64(1))
	mustOK(t, res, err)
	res, err = c.Update(ctx, "grow", u64(1))
	mustTrap(t, res, err, ic0.CodeWasmMemoryLimitExceeded,
		"Canister exceeded its current Wasm memory limit of 131072 bytes. The peak Wasm memory usage was 196608 bytes. If the canister reaches 4GiB")
	if got := c.code.heap.Size(); got != 2*PageSize {
		t.Errorf("heap %d after the trap", got)
	}
	if l := limitOf(res, LimitHeapBytes); l.Limit != limit {
		t.Errorf("heap_bytes %+v", l)
	}
	c.SetWasmMemoryLimit(PageSize)
	res, err = c.Update(ctx, "dirty2", nil)
	mustTrap(t, res, err, ic0.CodeWasmMemoryLimitExceeded, "limit of 65536 bytes. The peak Wasm memory usage was 131072 bytes.")
	if !strings.Contains(res.ErrorText("x"), "Try checking the canister for a possible memory leak or modifying it to use more stable memory instead of Wasm memory. See documentation: https://internetcomputer.org/docs/current/references/execution-errors#wasm-memory-limit-exceeded") {
		t.Errorf("error text %q", res.ErrorText("x"))
	}
	c.SetWasmMemoryLimit(0) // no limit
	res, err = c.Update(ctx, "grow", u64(10))
	mustOK(t, res, err)
}

// One operation charged more than a slice can hold fails with
// SliceOverrun (IC0522) as dts.rs computes it; a charge whose carry-over
// leaves the next slice instructions passes.
func TestSliceOverrun(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := limitsCanister(t, e, Options{Limits: meter.Limits{Slice: 20_000}})
	res, err := c.Update(ctx, "stable_write", u64(20_000))
	mustOK(t, res, err)
	res, err = c.Update(ctx, "stable_write", u64(45_000))
	mustTrap(t, res, err, ic0.CodeInstructionLimitExceeded, "Canister attempted to perform a large memory operation that used ")
	if !strings.HasSuffix(res.Trap.Message, " instructions and exceeded the slice limit 20000.") {
		t.Errorf("text %q", res.Trap.Message)
	}
	if l := limitOf(res, LimitLargestSliceCharge); l.Used != 45_000+20 || l.Limit != 20_000 {
		t.Errorf("largest_slice_charge %+v", l)
	}
	// Queries are not sliced.
	res, err = c.Query(ctx, "stable_read_query", u64(45_000))
	mustOK(t, res, err)
}

// The compilation charge, by hand on an unmetered engine (where the count
// is of the module as given): core/start.wat has 11 + 16 + 5 + 4
// instructions in its four functions (final ends included) and one global
// (2), 38 × 6000.
func TestCompileCharge(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{Unmetered: true})
	mod := load(t, e, "core/start.wasm")
	c, err := e.NewCanister(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	res, err := c.Install(ctx, mod, nil)
	mustOK(t, res, err)
	if p := res.Phases[0]; p.Name != "compile" || p.Instructions != 38*6000 {
		t.Errorf("first phase %+v, want compile of 228000", p)
	}

	// Metered: the instrumented module is counted; the upgrade charges it
	// between pre_upgrade and post_upgrade, from the same budget.
	m := newEngine(t, Config{})
	lim := load(t, m, "core/limits.wasm")
	lc := limitsCanister(t, m, Options{})
	res, err = lc.Upgrade(ctx, lim, nil, UpgradeOptions{})
	mustOK(t, res, err)
	var sum uint64
	for _, p := range res.Phases {
		sum += p.Instructions
	}
	if res.Phases[1].Name != "compile" || res.Phases[1].Instructions != lim.CompileCost(6000) || sum != res.Instructions {
		t.Errorf("phases %+v (sum %d of %d), want compile %d second", res.Phases, sum, res.Instructions, lim.CompileCost(6000))
	}
	// A compilation charge over the limit fails the upgrade.
	small, err := m.NewCanister(ctx, Options{Limits: meter.Limits{Install: lim.CompileCost(6000)}})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close(ctx)
	res, err = small.Install(ctx, load(t, m, "core/start.wasm"), nil)
	mustOK(t, res, err)
	res, err = small.Upgrade(ctx, lim, nil, UpgradeOptions{})
	mustTrap(t, res, err, ic0.CodeInstructionLimitExceeded, "Canister exceeded the limit of")
}

// Every operation reports its limits.
func TestLimitsReport(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := limitsCanister(t, e, Options{})
	res, err := c.Update(ctx, "dirty2", nil)
	mustOK(t, res, err)
	var names []string
	for _, l := range res.Limits {
		names = append(names, l.Name)
	}
	want := "instructions stable_dirty_bytes stable_accessed_bytes heap_bytes heap_max_bytes largest_slice_charge"
	if strings.Join(names, " ") != want {
		t.Errorf("limits %v", names)
	}
	if l := limitOf(res, LimitInstructions); l.Used != 2512 || l.Limit != meter.UpdateLimit {
		t.Errorf("instructions %+v", l)
	}
	if l := limitOf(res, LimitHeapBytes); l.Used != PageSize || l.Limit != meter.DefaultWasmMemoryLimit {
		t.Errorf("heap_bytes %+v", l)
	}
	if l := limitOf(res, LimitHeapMaxBytes); l.Limit != 1<<32 {
		t.Errorf("heap_max_bytes %+v", l)
	}
}

// Backtraces belong to traps only; contract violations end with their own
// help: the wrong-mode suggestion, or ErrorHelp::ToolchainError (no link).
func TestErrorTextHelp(t *testing.T) {
	bt := []string{"f", "g"}
	wrong := trapOf(ic0.ContractViolation("x"))
	wrong.Backtrace = bt
	wrong.Suggestion, wrong.DocSection = "Check the ICP documentation to make sure APIs are being called in the correct message types.", "calling-a-system-api-from-the-wrong-mode"
	res := Result{Status: StatusTrapped, Trap: wrong}
	want := "Error from Canister c: Canister violated contract: x.\nCheck the ICP documentation to make sure APIs are being called in the correct message types. See documentation: https://internetcomputer.org/docs/current/references/execution-errors#calling-a-system-api-from-the-wrong-mode"
	if got := res.ErrorText("c"); got != want {
		t.Errorf("wrong mode:\n%s\nwant\n%s", got, want)
	}
	tool := trapOf(ic0.ContractViolation("y"))
	tool.Suggestion = ic0.ToolchainHelp
	res = Result{Status: StatusTrapped, Trap: tool}
	if got := res.ErrorText("c"); got != "Error from Canister c: Canister violated contract: y.\n"+ic0.ToolchainHelp {
		t.Errorf("toolchain: %s", got)
	}
	trapped := trapOf(ic0.Trapped("unreachable"))
	trapped.Backtrace = bt
	res = Result{Status: StatusTrapped, Trap: trapped}
	if got := res.ErrorText("c"); !strings.Contains(got, "Canister Backtrace:\nf\ng\n") {
		t.Errorf("trap without backtrace: %s", got)
	}
}

// A memory.fill charged more than a slice can hold fails with SliceOverrun
// too: its size is charged in wasm, seen when the counter runs below zero.
func TestSliceOverrunInWasm(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{slice: 1000})
	c := limitsCanister(t, e, Options{Limits: meter.Limits{Slice: 20_000}})
	res, err := c.Update(ctx, "fill", u64(15_000))
	mustOK(t, res, err)
	res, err = c.Update(ctx, "fill", u64(45_000))
	mustTrap(t, res, err, ic0.CodeInstructionLimitExceeded, "exceeded the slice limit 20000.")
	if !strings.Contains(res.ErrorText("x"), "Try breaking up large copies within the canister code into smaller chunks. See documentation: https://internetcomputer.org/docs/current/references/execution-errors#slice-overrun") {
		t.Errorf("help: %s", res.ErrorText("x"))
	}
}

// Debug output and trap messages are bounded whatever the canister does
// (issue 21): a query printing 400 MiB keeps the first and last 256 KiB
// and says what it left out; a trap with a 64 MiB message keeps the
// replica's 16 KiB. Peak RSS grows by far less than the output.
func TestBoundedOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("prints 400 MiB")
	}
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := limitsCanister(t, e, Options{})
	before := peakrss.Reset(t)
	res, err := c.Query(ctx, "print_loop", u64(100_000))
	mustOK(t, res, err)
	var kept int
	note := ""
	for _, p := range res.DebugPrints {
		kept += len(p)
		if strings.HasPrefix(p, "… ") {
			note = p
		}
	}
	if kept > 2*ic0.DebugPrintBudget+1024 || !strings.Contains(note, "debug prints (") {
		t.Errorf("kept %d bytes of debug output, note %q", kept, note)
	}
	res, err = c.Update(ctx, "big_trap", u64(1024))
	mustTrap(t, res, err, ic0.CodeCanisterCalledTrap, "Canister called `ic0.trap` with message: ")
	if len(res.Trap.Reason) != 16<<10 {
		t.Errorf("trap message of %d bytes, want 16 KiB", len(res.Trap.Reason))
	}
	grew := peakrss.Read(t) - before
	t.Logf("peak RSS grew by %d KiB", grew>>10)
	if grew > 64<<20 {
		t.Errorf("peak RSS grew by %d MiB for 400 MiB of prints and a 64 MiB trap message", grew>>20)
	}
}

// The data segments are part of the new heap before any execution; a
// start function (or init, post_upgrade) writing into their pages dirties
// them and pays for it. core/start.wat's start function increments the
// i32 at 0x10, in the page its data segment fills.
func TestDirtyDataSegmentPage(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c, err := e.NewCanister(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	res, err := c.Install(ctx, load(t, e, "core/start.wasm"), nil)
	mustOK(t, res, err)
	if p := res.Phases[1]; p.Name != "start" || p.DirtyHeapPages != 1 {
		t.Errorf("start phase %+v, want 1 dirty heap page", p)
	}
	if len(res.HeapPagesChanged) != 1 || res.HeapPagesChanged[0] != 0 {
		t.Errorf("install changed heap pages %v, want [0]", res.HeapPagesChanged)
	}
}
