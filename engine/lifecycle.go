package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/stable"
)

// UpgradeOptions are the install_code upgrade options.
type UpgradeOptions struct {
	// SkipPreUpgrade does not run the old module's canister_pre_upgrade
	// (install_code's skip_pre_upgrade = opt true), the way out when it
	// traps.
	SkipPreUpgrade bool
	// KeepMainMemory keeps the heap: the new module runs on the old heap
	// (wasm_memory_persistence keep, as MainMemoryHandling decides),
	// without its data segments.
	KeepMainMemory bool
	// Discard runs the upgrade to its end and reports it as a committed
	// one (status, pages changed, sizes), then leaves the canister as it
	// was, as a trap does: the old module, heap, globals, stable memory
	// and timer. A traced upgrade records its run this way so the same
	// canister serves the jumps that re-execute it (restoring the
	// snapshot again costs a heap's worth of reads and hashes).
	Discard bool
}

// Install installs mod on a canister without code: the start function,
// then canister_init with arg. On a trap the canister stays without code.
func (c *Canister) Install(ctx context.Context, mod *Module, arg []byte) (Result, error) {
	if c.code != nil {
		return Result{}, fmt.Errorf("install: %w", ErrInstalled)
	}
	return c.install(ctx, mod, arg)
}

// Reinstall replaces the code and wipes the heap, stable memory, globals,
// certified data and timer, then runs the start function and
// canister_init with arg. On a trap everything stays as it was.
func (c *Canister) Reinstall(ctx context.Context, mod *Module, arg []byte) (Result, error) {
	fresh, err := stable.New(0, stable.Options{})
	if err != nil {
		return Result{}, fmt.Errorf("reinstall: %w", err)
	}
	oldStable, oldData, oldTimer := c.st.Stable, c.st.CertifiedData, c.st.GlobalTimer
	c.st.Stable, c.st.CertifiedData, c.st.GlobalTimer = fresh, nil, 0
	res, err := c.install(ctx, mod, arg)
	if err != nil || res.Status != StatusOK {
		c.st.Stable, c.st.CertifiedData, c.st.GlobalTimer = oldStable, oldData, oldTimer
		fresh.Close()
		return res, err
	}
	// Every page the old stable memory held, or changed since the last
	// Mark, is gone: Changed must report it.
	for _, p := range oldStable.Changed() {
		c.stableDropped[p] = struct{}{}
	}
	for _, idx := range oldStable.Indices() {
		c.stableDropped[idx] = struct{}{}
	}
	oldStable.Close() // its spill file, if it has one
	return res, nil
}

// install runs the install steps for a new incarnation of mod and swaps it
// in on success.
func (c *Canister) install(ctx context.Context, mod *Module, arg []byte) (out Result, err error) {
	inc, err := c.newIncarnation(ctx, mod)
	if err != nil {
		return Result{}, fmt.Errorf("install: %w", err)
	}
	if err := c.instantiate(ctx, inc, true); err != nil {
		inc.close(ctx)
		return Result{}, fmt.Errorf("install: %w", err)
	}
	if err := inc.settleData(); err != nil {
		inc.close(ctx)
		return Result{}, fmt.Errorf("install: %w", err)
	}
	b := c.installBudget(mod)
	res := Result{Limit: c.limits.Install}
	if c.code != nil {
		res.HeapSizeBefore = c.code.heap.Size()
	}
	defer func() {
		if err == nil {
			c.report(&out, b)
		}
	}()
	c.st.Begin()
	trap, msg, err := c.startAndRun(ctx, inc, b, "canister_init", ic0.Init, arg)
	if trap == nil && err == nil {
		trap = c.checkInstalledHeap(inc)
	}
	res.Instructions, res.Phases = b.used, b.phases
	if msg != nil {
		res.DebugPrints, res.Calls = msg.DebugPrints, msg.Calls
	}
	if err != nil || trap != nil {
		c.st.Rollback()
		inc.close(ctx)
		if errors.Is(err, errFullHeap) {
			if serr := c.useInterpreter(ctx); serr != nil {
				return Result{}, fmt.Errorf("install: %w", serr)
			}
		}
		if err != nil {
			return Result{}, fmt.Errorf("install: %w", err)
		}
		res.Status, res.Trap = StatusTrapped, trap
		res.HeapSizeAfter = res.HeapSizeBefore
		return res, nil
	}
	res, err = c.swap(ctx, inc, res)
	return res, err
}

// installBudget returns the budget of an install_code message installing
// mod: the install limit and slice, with the compilation charge taken
// first (install.rs and upgrade.rs reduce the limits by
// instructions_from_compilation; rs/execution_environment/src/
// hypervisor.rs create_execution_state charges the compilation cost of
// the new module) and reported as the phase "compile".
func (c *Canister) installBudget(mod *Module) *budget {
	b := &budget{limit: c.limits.Install, slice: c.limits.Slice}
	cost := mod.CompileCost(meter.Charge(c.limits.CompileCost))
	b.used = min(cost, b.limit)
	b.phases = append(b.phases, Phase{Name: "compile", Instructions: b.used})
	return b
}

// checkInstalledHeap is install_code's final wasm_memory_limit check of
// the new heap (rs/execution_environment/src/execution/install_code.rs,
// InstallCodeHelper::finish).
func (c *Canister) checkInstalledHeap(inc *incarnation) *Trap {
	if size := inc.heap.Live(); c.wasmLimit != 0 && size > c.wasmLimit {
		return trapOf(ic0.WasmMemoryLimit(size, c.wasmLimit))
	}
	return nil
}

// report fills the headroom report and stable byte counts of res: the
// heap left by a successful operation, or the largest heap a failed one
// reached.
func (c *Canister) report(res *Result, b *budget) {
	heapAfter := res.HeapSizeAfter
	if res.Status != StatusOK {
		heapAfter = b.use.peakHeap
	}
	res.Limits = limitsOf(b, heapAfter, c.wasmLimit)
	res.StableBytesWritten, res.StableBytesRead = b.use.bytesWritten, b.use.bytesRead
}

// startAndRun runs inc's start function (if any) and then export (if
// exported) in context ictx with arg, all under one meter. It returns
// the last message run.
func (c *Canister) startAndRun(ctx context.Context, inc *incarnation, b *budget, export string, ictx ic0.Context, arg []byte) (*Trap, *ic0.Message, error) {
	var prints []string
	var calls []ic0.OutgoingCall
	var msg *ic0.Message
	steps := []struct {
		export string
		ictx   ic0.Context
		arg    []byte
	}{{startExport, ic0.Start, nil}, {export, ictx, arg}}
	if b.used >= b.limit {
		// The compilation charge alone used the whole limit.
		return trapOf(ic0.InstructionLimit(b.limit)), nil, nil
	}
	for _, s := range steps {
		if s.export == startExport && !inc.mod.hasStart || s.export != startExport && !inc.mod.HasExport(s.export) {
			continue
		}
		msg = &ic0.Message{Context: s.ictx, Arg: s.arg, CanisterVersion: c.version}
		trap, err := c.execute(call{ctx: ctx, inc: inc, export: s.export, msg: msg, budget: b, fresh: true})
		prints, calls = append(prints, msg.DebugPrints...), append(calls, msg.Calls...)
		msg.DebugPrints, msg.Calls = prints, calls
		if err != nil || trap != nil {
			return trap, msg, err
		}
	}
	return nil, msg, nil
}

// settleData commits the data segments instantiation wrote into a new
// incarnation's heap: the replica builds them into the heap before any
// execution, so they are not dirty pages of start, init or post_upgrade,
// while those executions' own writes to the same pages are. A failed
// install or upgrade discards the whole incarnation, so committing early
// changes nothing else.
func (inc *incarnation) settleData() error {
	pages, err := inc.heap.Commit()
	if err != nil {
		return err
	}
	inc.dataPages = append([]uint32(nil), pages...)
	return nil
}

// swap commits the new incarnation inc as the canister's code, replacing
// (and closing) the old one.
func (c *Canister) swap(ctx context.Context, inc *incarnation, res Result) (Result, error) {
	pages, err := inc.commit()
	if err != nil {
		c.st.Rollback()
		inc.close(ctx)
		return Result{}, fmt.Errorf("commit new module: %w", err)
	}
	c.st.Commit()
	if c.code != nil {
		if err := c.code.close(ctx); err != nil {
			return Result{}, fmt.Errorf("close old module: %w", err)
		}
		if !inc.kept {
			c.heapReplaced = true
		}
	} else if c.sizeAtMark > 0 {
		c.heapReplaced = true
	}
	c.code = inc
	c.version++
	res.Status = StatusOK
	res.HeapPagesChanged = mergePages(inc.dataPages, pages)
	inc.dataPages = nil
	res.HeapSizeAfter = inc.heap.Size()
	res.StablePagesChanged = c.st.Stable.LastChanged()
	return res, nil
}

// Upgrade upgrades the canister to mod (nil: the installed module again):
// the old module's canister_pre_upgrade (unless opts.SkipPreUpgrade),
// then the heap (unless opts.KeepMainMemory) and globals are discarded, mod
// is instantiated, its start function and canister_post_upgrade with arg
// run. Stable memory is kept.
// A trap in any step leaves the old module and the whole state as they
// were; the instruction limit covers all steps together.
func (c *Canister) Upgrade(ctx context.Context, mod *Module, arg []byte, opts UpgradeOptions) (out Result, err error) {
	old := c.code
	if old == nil {
		return Result{}, fmt.Errorf("upgrade: %w", ErrNoModule)
	}
	if mod == nil {
		mod = old.mod
	}
	b := &budget{limit: c.limits.Install, slice: c.limits.Slice}
	res := Result{Limit: c.limits.Install, HeapSizeBefore: old.heap.Size()}
	defer func() {
		if err == nil {
			c.report(&out, b)
		}
	}()
	c.st.Begin()
	var prints []string
	var calls []ic0.OutgoingCall
	fail := func(trap *Trap, err error, inc *incarnation) (Result, error) {
		c.st.Rollback()
		if inc != nil {
			inc.close(ctx)
		}
		if rerr := c.rollback(ctx, old); rerr != nil {
			return Result{}, fmt.Errorf("upgrade: roll back: %w", rerr)
		}
		if errors.Is(err, errFullHeap) {
			if serr := c.useInterpreter(ctx); serr != nil {
				return Result{}, fmt.Errorf("upgrade: %w", serr)
			}
		}
		if err != nil {
			return Result{}, fmt.Errorf("upgrade: %w", err)
		}
		res.Instructions, res.Phases = b.used, b.phases
		res.DebugPrints, res.Calls = prints, calls
		res.Status, res.Trap, res.HeapSizeAfter = StatusTrapped, trap, old.heap.Size()
		return res, nil
	}
	if !opts.SkipPreUpgrade && old.mod.HasExport("canister_pre_upgrade") {
		msg := &ic0.Message{Context: ic0.PreUpgrade, CanisterVersion: c.version}
		trap, err := c.execute(call{ctx: ctx, inc: old, export: "canister_pre_upgrade", msg: msg, budget: b})
		prints, calls = msg.DebugPrints, msg.Calls
		if err != nil || trap != nil {
			return fail(trap, err, nil)
		}
	}
	// The old heap runs nothing more: a failed upgrade rolls it back, a
	// successful one closes it. Rolling it back now releases the pages
	// pre_upgrade wrote or mapped (the whole heap, for one that saves it
	// all), so they are not held beside the new heap post_upgrade fills.
	// A kept heap is copied first (instantiateOnKept rolls it back then).
	if !opts.KeepMainMemory {
		if _, err := old.heap.Rollback(); err != nil {
			return fail(nil, fmt.Errorf("discard pre_upgrade's heap: %w", err), nil)
		}
	}
	// The new module is compiled after pre_upgrade (upgrade.rs, stage 2).
	compile := c.installBudget(mod)
	b.used = min(b.used+compile.used, b.limit)
	b.phases = append(b.phases, compile.phases...)
	inc, err := c.newIncarnation(ctx, mod)
	if err != nil {
		return fail(nil, err, nil)
	}
	if opts.KeepMainMemory {
		if err := c.instantiateOnKept(ctx, inc, old); err != nil {
			return fail(nil, err, inc)
		}
	} else {
		if err := c.instantiate(ctx, inc, true); err != nil {
			return fail(nil, err, inc)
		}
		if err := inc.settleData(); err != nil {
			return fail(nil, err, inc)
		}
	}
	// An upgrade deactivates the global timer; post_upgrade may set it.
	c.st.GlobalTimer = 0
	trap, msg, err := c.startAndRun(ctx, inc, b, "canister_post_upgrade", ic0.PostUpgrade, arg)
	if trap == nil && err == nil {
		trap = c.checkInstalledHeap(inc)
	}
	if msg != nil {
		prints, calls = append(prints, msg.DebugPrints...), append(calls, msg.Calls...)
	}
	if err != nil || trap != nil {
		return fail(trap, err, inc)
	}
	res.Instructions, res.Phases = b.used, b.phases
	res.DebugPrints, res.Calls = prints, calls
	if opts.Discard {
		return c.discard(ctx, inc, old, res)
	}
	res, err = c.swap(ctx, inc, res)
	return res, err
}

// discard reports inc's finished upgrade as swap would, without
// committing it, and rolls the canister back to old as a trapped upgrade
// does (UpgradeOptions.Discard).
func (c *Canister) discard(ctx context.Context, inc, old *incarnation, res Result) (Result, error) {
	pages := inc.dirty // as commit: what Dirty returned, nil when not asked yet
	if pages == nil {
		var err error
		if pages, err = inc.heap.Dirty(); err != nil {
			c.st.Rollback()
			inc.close(ctx)
			return Result{}, fmt.Errorf("upgrade: %w", err)
		}
	}
	res.Status = StatusOK
	res.HeapPagesChanged = mergePages(inc.dataPages, pages)
	res.HeapSizeAfter = inc.heap.Live() // Size once committed
	res.StablePagesChanged = c.st.Stable.Pending()
	c.st.Rollback()
	inc.close(ctx)
	if err := c.rollback(ctx, old); err != nil {
		return Result{}, fmt.Errorf("upgrade: roll back: %w", err)
	}
	return res, nil
}
