package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/canscope/canscope/engine/heap"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/stable"
	"github.com/canscope/canscope/engine/wasm"
)

// Options configures a canister.
type Options struct {
	// Env is the deterministic environment (time, caller, canister id,
	// ...); nil means ic0.DefaultEnv(). Change it between messages with
	// Canister.SetEnv.
	Env *ic0.Env
	// Recorder, when set, observes every System API call.
	Recorder ic0.Recorder
	// Limits are the replica's limits and charges (instructions per kind
	// of message, slice, stable page limits, dirty page and compilation
	// charges); zero fields take the IC's (meter.DefaultLimits).
	Limits meter.Limits
	// WasmMemoryLimit is the canister's wasm_memory_limit setting in bytes
	// (0: no limit, as on the replica). Nil gives what the replica gives a
	// canister without the setting: meter.DefaultWasmMemoryLimit for a new
	// canister, meter.WasmMemoryLimitFor(heap) for a restored one.
	WasmMemoryLimit *uint64
	// Cycles is the initial cycle balance; zero means ic0.DefaultCycles.
	// Snapshots do not hold the balance, so Restore takes it from here.
	Cycles ic0.Cycles
}

// Canister is one canister: its code, heap, stable memory, globals and
// the rest of its state. Every message runs as a transaction: a trap
// leaves the state byte-identical to before. A Canister is not safe for
// concurrent use.
type Canister struct {
	eng  *Engine
	rt   wazero.Runtime
	host *ic0.Host
	st   *ic0.State
	rec  ic0.Recorder
	// ring records a traced canister's function events (WithTracing);
	// nil when it is not traced.
	ring *EventRing

	version uint64
	code    *incarnation // nil: no module installed
	running *budget      // the running message's budget, nil between messages
	// live is the running message's count for other goroutines
	// (LiveInstructions): published at every metering slice.
	live   liveCount
	limits meter.Limits
	// wasmLimit is the wasm_memory_limit setting (0: none).
	wasmLimit uint64
	// interpreted: the runtime is wazero's interpreter (see fullHeap).
	interpreted bool
	gen         int // instantiation counter, for unique module names

	// heapReplaced is set when an upgrade or reinstall swapped the heap
	// since the last Mark: every heap page then counts as changed.
	heapReplaced bool
	sizeAtMark   uint64
	// stableDropped holds the stable pages a reinstall wiped since the
	// last Mark.
	stableDropped map[uint64]struct{}
}

// incarnation is an installed module with its heap and instance.
type incarnation struct {
	mod      *Module
	compiled wazero.CompiledModule
	heap     *heap.Heap
	inst     api.Module
	// globals are the instance's globals in snapshot order; committed
	// holds their values as of the last commit.
	globals   []api.Global
	committed []Global
	// meter is the instance's instruction counter; for unmetered modules
	// it only counts slices (meter.InstrumentChecks).
	meter *meter.Counter
	// dirty holds the heap pages the last execution left dirty, as found
	// right after it (nil: unknown); commit reuses them instead of
	// scanning the heap again.
	dirty []uint32
	// dataPages are the heap pages the data segments filled, committed
	// before the install or upgrade ran (settleData).
	dataPages []uint32
	// kept is set when this incarnation runs on the heap of the one before
	// (an upgrade with KeepMainMemory); carried then lists the wasm pages
	// that heap had changed since the canister's last Mark, which the
	// copy's own Changed does not know.
	kept    bool
	carried []uint64
}

// NewCanister returns a canister without code, as after create_canister.
func (e *Engine) NewCanister(ctx context.Context, opts Options) (*Canister, error) {
	return e.newCanister(ctx, opts, ic0.NewState(), false)
}

func (e *Engine) newCanister(ctx context.Context, opts Options, st *ic0.State, interpreter bool) (*Canister, error) {
	if opts.Cycles != (ic0.Cycles{}) {
		st.Cycles = opts.Cycles
	}
	host := ic0.NewHost(st, opts.Env)
	c := &Canister{eng: e, host: host, st: st, rec: opts.Recorder,
		limits: opts.Limits.WithDefaults(), wasmLimit: meter.DefaultWasmMemoryLimit,
		stableDropped: make(map[uint64]struct{})}
	if opts.WasmMemoryLimit != nil {
		c.wasmLimit = *opts.WasmMemoryLimit
	}
	host.SetLimits(c.limits)
	if err := c.newRuntime(ctx, interpreter || e.cfg.Interpreter); err != nil {
		return nil, fmt.Errorf("new canister: %w", err)
	}
	return c, nil
}

// newRuntime gives the canister a wazero runtime with the ic0 and metering
// host modules. interpreter selects wazero's interpreter, which canisters
// with a full 4 GiB heap need (see fullHeap).
func (c *Canister) newRuntime(ctx context.Context, interpreter bool) error {
	rt := wazero.NewRuntimeWithConfig(ctx, c.eng.runtimeConfig(interpreter))
	if _, err := c.host.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return err
	}
	if _, err := meter.InstantiateHost(ctx, rt, c.outOfInstructions); err != nil {
		rt.Close(ctx)
		return err
	}
	if c.ring != nil || tracing(ctx) {
		ring, err := newEventRing(ctx, rt)
		if err != nil {
			rt.Close(ctx)
			return err
		}
		c.ring = ring
	}
	c.rt, c.interpreted = rt, interpreter
	return nil
}

// fullHeap is the wasm32 maximum heap, 65,536 pages, which the replica
// allows. wazero's compiled code loads a memory's length as 32 bits
// (wazevo frontend, getMemoryLenValue: Uload32), so at 4 GiB it sees an
// empty memory and every access traps; its interpreter is correct. A
// canister whose heap is full therefore runs on the interpreter.
const fullHeap = 1 << 32

// useInterpreter moves the canister to an interpreter runtime, keeping its
// committed state: the module is compiled again and instantiated over the
// same heap.
func (c *Canister) useInterpreter(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	inc := c.code
	if inc != nil {
		if inc.inst != nil {
			inc.inst.Close(ctx)
			inc.inst = nil
		}
		inc.compiled.Close(ctx)
	}
	old := c.rt
	if err := c.newRuntime(ctx, true); err != nil {
		return fmt.Errorf("switch to the interpreter: %w", err)
	}
	old.Close(ctx)
	if inc == nil {
		return nil
	}
	code, err := c.preparedFor(inc.mod)
	if err != nil {
		return fmt.Errorf("switch to the interpreter: %w", err)
	}
	compiled, err := c.rt.CompileModule(ctx, code)
	if err != nil {
		return fmt.Errorf("switch to the interpreter: compile module: %w", err)
	}
	inc.compiled = compiled
	return c.instantiate(ctx, inc, false)
}

// outOfInstructions is the host side of the metering slices: the running
// module's counter ran out of its slice. A cancelled context stops the
// call here (the error is the cancellation, which execute reports as
// such); otherwise the next slice is granted, or the message traps at its
// real limit with the replica's IC0522 text.
func (c *Canister) outOfInstructions(ctx context.Context, mod api.Module) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", errCancelled, context.Cause(ctx))
	}
	b := c.running
	if b == nil || b.slices == nil {
		return ic0.InstructionLimit(0) // not reached: only a running message calls
	}
	if b.ring != nil {
		b.ring.drain() // before the refill moves the counter
	}
	if t := b.wasmCharge(mod); t != nil {
		return t
	}
	if b.slices.Refill() {
		c.live.used.Store(b.Used())
		return nil
	}
	return ic0.InstructionLimit(b.limit)
}

// Restore returns a canister running mod over the given state, e.g. a
// snapshot. mod may be nil only for a canister without code; st.Module is
// not read (load it with Engine.Load, or pass another module to run the
// state under it). The module's data segments and start function are not
// applied: the heap is exactly st's.
func (e *Engine) Restore(ctx context.Context, mod *Module, st State, opts Options) (*Canister, error) {
	if st.StableSize%PageSize != 0 {
		return nil, fmt.Errorf("restore canister: stable memory size %d is not a multiple of %d", st.StableSize, PageSize)
	}
	if st.StableSource != nil && len(st.StablePages) > 0 || (st.HeapSource != nil || st.HeapImage != nil) && len(st.HeapPages) > 0 {
		return nil, errors.New("restore canister: give a memory's pages in the state or as a source, not both")
	}
	mem, err := stable.New(st.StableSize/PageSize, stable.Options{Backing: st.StableSource})
	if err != nil {
		return nil, fmt.Errorf("restore canister: %w", err)
	}
	for _, p := range st.StablePages {
		if err := mem.LoadPage(p.Index, p.Data); err != nil {
			return nil, fmt.Errorf("restore canister: stable page %d: %w", p.Index, err)
		}
	}
	mem.Mark()
	ist := ic0.NewState()
	ist.Stable = mem
	ist.CertifiedData = slices.Clone(st.CertifiedData)
	ist.GlobalTimer = st.GlobalTimer
	c, err := e.newCanister(ctx, opts, ist, st.HeapSize >= fullHeap)
	if err != nil {
		return nil, err
	}
	c.version = st.CanisterVersion
	if mod == nil {
		if st.HeapSize != 0 || len(st.Globals) != 0 {
			c.Close(ctx)
			return nil, errors.New("restore canister: a state with heap or globals needs its module")
		}
		return c, nil
	}
	inc, err := c.newIncarnation(ctx, mod)
	if err != nil {
		c.Close(ctx)
		return nil, fmt.Errorf("restore canister: %w", err)
	}
	if err := inc.load(st); err != nil {
		inc.close(ctx)
		c.Close(ctx)
		return nil, fmt.Errorf("restore canister: %w", err)
	}
	if err := c.instantiate(ctx, inc, false); err != nil {
		inc.close(ctx)
		c.Close(ctx)
		return nil, fmt.Errorf("restore canister: %w", err)
	}
	c.code = inc
	c.sizeAtMark = inc.heap.Size()
	if opts.WasmMemoryLimit == nil {
		c.wasmLimit = meter.WasmMemoryLimitFor(st.HeapSize)
	}
	return c, nil
}

// SetWasmMemoryLimit sets the canister's wasm_memory_limit setting in
// bytes; 0 means no limit.
func (c *Canister) SetWasmMemoryLimit(bytes uint64) { c.wasmLimit = bytes }

// WasmMemoryLimit returns the canister's wasm_memory_limit (0: none).
func (c *Canister) WasmMemoryLimit() uint64 { return c.wasmLimit }

// Limits returns the limits and charges the canister runs under.
func (c *Canister) Limits() meter.Limits { return c.limits }

// newIncarnation compiles mod in the canister's runtime and reserves an
// empty heap for it.
func (c *Canister) newIncarnation(ctx context.Context, mod *Module) (*incarnation, error) {
	code, err := c.preparedFor(mod)
	if err != nil {
		return nil, err
	}
	compiled, err := c.rt.CompileModule(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("compile module: %w", err)
	}
	_, maxPages, _ := mod.Memory()
	newHeap := heap.New
	if c.eng.cfg.PortableHeap {
		newHeap = heap.NewPortable
	}
	h, err := newHeap(max(maxPages, 1) * PageSize)
	if err != nil {
		compiled.Close(ctx)
		return nil, err
	}
	inc := &incarnation{mod: mod, compiled: compiled, heap: h}
	for _, g := range mod.globals {
		inc.committed = append(inc.committed, Global{Type: g.Type.Type})
	}
	return inc, nil
}

// load sets the committed heap and globals from a state.
func (inc *incarnation) load(st State) error {
	if st.HeapSize%PageSize != 0 {
		return fmt.Errorf("heap size %d is not a multiple of %d", st.HeapSize, PageSize)
	}
	if inc.mod.IsMemory64() && st.HeapSize > meter.MaxHeap {
		return fmt.Errorf("wasm64 heap of %d bytes (%.2f GiB): %w", st.HeapSize, float64(st.HeapSize)/(1<<30), ErrMemory64)
	}
	if min, _, _ := inc.mod.Memory(); st.HeapSize < min*PageSize {
		return fmt.Errorf("heap of %d bytes is smaller than the module's minimum memory of %d pages", st.HeapSize, min)
	}
	if st.HeapImage != nil && st.HeapImageDelta != nil {
		if st.HeapSource == nil {
			return errors.New("a heap image with a delta needs the heap's page source")
		}
		err := inc.heap.LoadImageBase(st.HeapImage, st.HeapSize)
		switch {
		case err == nil:
			if err := streamHeap(inc.heap, deltaPages{st.HeapSource, st.HeapImageDelta}, st.HeapSize/PageSize); err != nil {
				return err
			}
			inc.heap.ResetChanged()
			return inc.loadGlobals(st)
		case !errors.Is(err, heap.ErrNoImage):
			return err
		}
		// The portable heap cannot map it: stream the pages instead.
	} else if st.HeapImage != nil {
		err := inc.heap.LoadImage(st.HeapImage, st.HeapSize)
		switch {
		case err == nil:
			return inc.loadGlobals(st)
		case !errors.Is(err, heap.ErrNoImage) || st.HeapSource == nil:
			return err
		}
		// The portable heap cannot map it: stream the pages instead.
	}
	if err := inc.heap.SetSize(st.HeapSize); err != nil {
		return err
	}
	buf := make([]byte, PageSize)
	put := func(idx uint64) error {
		if idx >= st.HeapSize/PageSize {
			return fmt.Errorf("heap page %d lies beyond the heap of %d pages", idx, st.HeapSize/PageSize)
		}
		if err := inc.heap.WriteAt(buf, idx*PageSize); err != nil {
			return fmt.Errorf("heap page %d: %w", idx, err)
		}
		return nil
	}
	for _, p := range st.HeapPages {
		if len(p.Data) > PageSize {
			return fmt.Errorf("heap page %d holds %d bytes, more than a page", p.Index, len(p.Data))
		}
		clear(buf[copy(buf, p.Data):])
		if err := put(p.Index); err != nil {
			return err
		}
	}
	if st.HeapSource != nil {
		if err := streamHeap(inc.heap, st.HeapSource, st.HeapSize/PageSize); err != nil {
			return err
		}
	}
	inc.heap.ResetChanged()
	return inc.loadGlobals(st)
}

// loadGlobals sets the committed globals from a state.
func (inc *incarnation) loadGlobals(st State) error {
	n := len(inc.committed)
	// A list one i64 longer than the module's carries the replica's
	// instruction counter (manifests written before canscope followed the
	// replica's read_canister_snapshot_metadata, which drops it): the
	// counter is not the canister's state, so it is dropped.
	if len(st.Globals) == n+1 && st.Globals[n].Type == wasm.I64 {
		st.Globals = st.Globals[:n]
	}
	if len(st.Globals) != n {
		return fmt.Errorf("state has %d globals, the module %d", len(st.Globals), n)
	}
	for i, g := range st.Globals[:n] {
		if want := inc.committed[i].Type; g.Type != want {
			return fmt.Errorf("global %d (%s) is %s in the state but %s in the module", i, inc.mod.globals[i].Export, g.Type, want)
		}
		inc.committed[i] = g
	}
	return nil
}

// deltaPages is the part of a heap's page source that differs from the
// image it is restored over (State.HeapImageDelta).
type deltaPages struct {
	PageSource
	pages []uint64
}

// BackedPages lists the pages that differ from the image.
func (d deltaPages) BackedPages() []uint64 { return d.pages }

// streamBatch is how many pages a reader of streamHeap reads before it
// writes them into the heap (1 MiB).
const streamBatch = 16

// streamHeap loads the pages of src into h (committed, of pages pages)
// with one reader per CPU: reading a page from a store (read, decompress,
// hash check) costs far more than writing it, and a 1 GiB heap holds
// 16,384 of them. Each reader holds one batch, so the heap never sits in
// Go memory besides its mapping; the writes into h are serialized.
func streamHeap(h *heap.Heap, src PageSource, pages uint64) error {
	idx := src.BackedPages()
	for _, i := range idx {
		if i >= pages {
			return fmt.Errorf("heap page %d lies beyond the heap of %d pages", i, pages)
		}
	}
	batches := (len(idx) + streamBatch - 1) / streamBatch
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex // guards h and first
		first  error
		wg     sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
		failed.Store(true)
	}
	for range min(runtime.GOMAXPROCS(0), batches) {
		wg.Go(func() {
			buf := make([]byte, streamBatch*PageSize)
			for !failed.Load() {
				b := int(next.Add(1) - 1)
				if b >= batches {
					return
				}
				batch := idx[b*streamBatch : min((b+1)*streamBatch, len(idx))]
				for j, i := range batch {
					if err := src.ReadPage(i, buf[j*PageSize:(j+1)*PageSize]); err != nil {
						fail(fmt.Errorf("heap page %d: %w", i, err))
						return
					}
				}
				mu.Lock()
				// One write per run of consecutive pages.
				for j := 0; j < len(batch); {
					k := j + 1
					for k < len(batch) && batch[k] == batch[k-1]+1 {
						k++
					}
					if err := h.WriteAt(buf[j*PageSize:k*PageSize], batch[j]*PageSize); err != nil {
						first = cmp.Or(first, fmt.Errorf("heap page %d: %w", batch[j], err))
						failed.Store(true)
						break
					}
					j = k
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// instantiate creates inc's wasm instance over its heap. A fresh instance
// (install, upgrade) keeps what instantiation wrote into the heap (data
// segments) uncommitted; otherwise the heap is exactly the committed one:
// data segment writes are rolled back, the memory grown to the committed
// size and the globals set to their committed values.
func (c *Canister) instantiate(ctx context.Context, inc *incarnation, fresh bool) error {
	ctx = context.WithoutCancel(ctx)
	if inc.inst != nil {
		if err := inc.inst.Close(ctx); err != nil {
			return fmt.Errorf("close instance: %w", err)
		}
		inc.inst = nil
	}
	c.gen++
	cfg := wazero.NewModuleConfig().WithName(fmt.Sprintf("canister%d", c.gen)).WithStartFunctions()
	inst, err := c.rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, inc.heap.Allocator()), inc.compiled, cfg)
	if err != nil {
		return fmt.Errorf("instantiate module: %w", err)
	}
	inc.inst = inst
	if inc.meter, err = meter.NewCounter(inst, 0); err != nil {
		return fmt.Errorf("instantiate module: %w", err)
	}
	inc.meter.SetSlice(c.eng.cfg.slice)
	inc.globals = inc.globals[:0]
	for _, g := range inc.mod.globals {
		ag := inst.ExportedGlobal(g.Export)
		if ag == nil {
			return fmt.Errorf("instantiate module: global %s is not exported", g.Export)
		}
		inc.globals = append(inc.globals, ag)
	}
	if fresh {
		return nil
	}
	if _, err := inc.heap.Rollback(); err != nil {
		return err
	}
	if mem := inst.Memory(); mem != nil {
		want := uint32(inc.heap.Size() / PageSize)
		if have := uint32(ic0.MemoryBytes(mem) / PageSize); have < want {
			if _, ok := mem.Grow(want - have); !ok {
				return fmt.Errorf("instantiate module: cannot grow memory from %d to %d pages", have, want)
			}
		}
	}
	inc.restoreGlobals()
	return nil
}

// restoreGlobals sets the instance's mutable globals to the committed
// values.
func (inc *incarnation) restoreGlobals() {
	for i, g := range inc.globals {
		if mg, ok := g.(api.MutableGlobal); ok && inc.mod.globals[i].Type.Mutable {
			mg.Set(inc.committed[i].Bits)
		}
	}
}

// readGlobals records the instance's current global values as committed.
func (inc *incarnation) readGlobals() {
	for i, g := range inc.globals {
		inc.committed[i].Bits = g.Get()
	}
}

// close releases the instance, compiled code and heap.
func (inc *incarnation) close(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	if inc.inst != nil {
		errs = append(errs, inc.inst.Close(ctx))
	}
	errs = append(errs, inc.compiled.Close(ctx), inc.heap.Close())
	return errors.Join(errs...)
}

// Close releases the canister's memory and runtime; slices StablePage
// returned are invalid after.
func (c *Canister) Close(ctx context.Context) error {
	var errs []error
	if c.code != nil {
		errs = append(errs, c.code.close(ctx))
		c.code = nil
	}
	c.st.Stable.Close() // its spill file, which a message writing more than stable.DefaultRAMPages made
	errs = append(errs, c.rt.Close(context.WithoutCancel(ctx)))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close canister: %w", err)
	}
	return nil
}
