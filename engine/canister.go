package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/canscope/canscope/engine/heap"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/principal"
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
	// Limits are the instruction limits per kind of message; zero fields
	// take the IC's (meter.DefaultLimits).
	Limits meter.Limits
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

	version uint64
	code    *incarnation // nil: no module installed
	running *budget      // the running message's budget, nil between messages
	limits  meter.Limits
	gen     int // instantiation counter, for unique module names

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
	// replicaCounter is the replica's trailing instruction counter entry
	// of a snapshot, kept so that State round-trips it.
	replicaCounter Global
	// meter is the instance's instruction counter (metered modules).
	meter *meter.Counter
}

// NewCanister returns a canister without code, as after create_canister.
func (e *Engine) NewCanister(ctx context.Context, opts Options) (*Canister, error) {
	return e.newCanister(ctx, opts, ic0.NewState())
}

func (e *Engine) newCanister(ctx context.Context, opts Options, st *ic0.State) (*Canister, error) {
	if opts.Cycles != (ic0.Cycles{}) {
		st.Cycles = opts.Cycles
	}
	rt := wazero.NewRuntimeWithConfig(ctx, e.runtimeConfig())
	host := ic0.NewHost(st, opts.Env)
	if _, err := host.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("new canister: %w", err)
	}
	c := &Canister{eng: e, rt: rt, host: host, st: st, rec: opts.Recorder,
		limits: withDefaults(opts.Limits), stableDropped: make(map[uint64]struct{})}
	outOfInstructions := func(context.Context, api.Module) error {
		var limit uint64
		if c.running != nil {
			limit = c.running.limit
		}
		return ic0.InstructionLimit(limit)
	}
	if _, err := meter.InstantiateHost(ctx, rt, outOfInstructions); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("new canister: %w", err)
	}
	return c, nil
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
	mem, err := stable.New(st.StableSize/PageSize, stable.Options{})
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
	c, err := e.newCanister(ctx, opts, ist)
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
	return c, nil
}

// withDefaults fills the zero fields of l with the IC's limits.
func withDefaults(l meter.Limits) meter.Limits {
	d := meter.DefaultLimits()
	for _, f := range []struct{ v, def *uint64 }{
		{&l.Update, &d.Update}, {&l.Query, &d.Query}, {&l.Install, &d.Install}, {&l.InspectMessage, &d.InspectMessage},
	} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	return l
}

// newIncarnation compiles mod in the canister's runtime and reserves an
// empty heap for it.
func (c *Canister) newIncarnation(ctx context.Context, mod *Module) (*incarnation, error) {
	compiled, err := c.rt.CompileModule(ctx, mod.prepared)
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
	inc := &incarnation{mod: mod, compiled: compiled, heap: h, replicaCounter: I64(0)}
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
	if min, _, _ := inc.mod.Memory(); st.HeapSize < min*PageSize {
		return fmt.Errorf("heap of %d bytes is smaller than the module's minimum memory of %d pages", st.HeapSize, min)
	}
	if err := inc.heap.SetSize(st.HeapSize); err != nil {
		return err
	}
	buf := make([]byte, PageSize)
	for _, p := range st.HeapPages {
		if len(p.Data) > PageSize {
			return fmt.Errorf("heap page %d holds %d bytes, more than a page", p.Index, len(p.Data))
		}
		clear(buf[copy(buf, p.Data):])
		if err := inc.heap.WriteAt(buf, p.Index*PageSize); err != nil {
			return fmt.Errorf("heap page %d: %w", p.Index, err)
		}
	}
	inc.heap.ResetChanged()
	n := len(inc.committed)
	switch {
	case len(st.Globals) == n+1:
		inc.replicaCounter = st.Globals[n]
	case len(st.Globals) != n:
		return fmt.Errorf("state has %d globals, the module %d (plus the replica's instruction counter)", len(st.Globals), n)
	}
	for i, g := range st.Globals[:n] {
		if want := inc.committed[i].Type; g.Type != want {
			return fmt.Errorf("global %d (%s) is %s in the state but %s in the module", i, inc.mod.globals[i].Export, g.Type, want)
		}
		inc.committed[i] = g
	}
	return nil
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
	if inc.mod.metered {
		if inc.meter, err = meter.NewCounter(inst, 0); err != nil {
			return fmt.Errorf("instantiate module: %w", err)
		}
	}
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
		if have := mem.Size() / PageSize; have < want {
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

// Close releases the canister's memory and runtime.
func (c *Canister) Close(ctx context.Context) error {
	var errs []error
	if c.code != nil {
		errs = append(errs, c.code.close(ctx))
		c.code = nil
	}
	errs = append(errs, c.rt.Close(context.WithoutCancel(ctx)))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close canister: %w", err)
	}
	return nil
}

// SetEnv replaces the environment for the following messages; nil means
// ic0.DefaultEnv().
func (c *Canister) SetEnv(env *ic0.Env) {
	if env == nil {
		env = ic0.DefaultEnv()
	}
	c.host.SetEnv(env)
}

// Env returns the environment messages run in.
func (c *Canister) Env() *ic0.Env { return c.host.Env() }

// ID returns the canister id in its textual form.
func (c *Canister) ID() string { return principal.Text(c.host.Env().CanisterID) }

// Module returns the installed module, nil without code.
func (c *Canister) Module() *Module {
	if c.code == nil {
		return nil
	}
	return c.code.mod
}

// Version returns the canister version.
func (c *Canister) Version() uint64 { return c.version }

// HeapSize returns the committed heap size in bytes.
func (c *Canister) HeapSize() uint64 {
	if c.code == nil {
		return 0
	}
	return c.code.heap.Size()
}

// StableSize returns the stable memory size in bytes.
func (c *Canister) StableSize() uint64 { return c.st.Stable.Bytes() }

// StableAllocated returns the number of stable pages holding memory.
func (c *Canister) StableAllocated() int { return c.st.Stable.Allocated() }

// Globals returns the committed globals in snapshot order, with the
// replica's trailing instruction counter.
func (c *Canister) Globals() []Global {
	if c.code == nil {
		return nil
	}
	return append(slices.Clone(c.code.committed), c.code.replicaCounter)
}

// CertifiedData returns the certified data.
func (c *Canister) CertifiedData() []byte { return slices.Clone(c.st.CertifiedData) }

// TimerDeadline returns the global timer deadline in ns (0: inactive).
func (c *Canister) TimerDeadline() uint64 { return c.st.GlobalTimer }

// Cycles returns the cycle balance.
func (c *Canister) Cycles() ic0.Cycles { return c.st.Cycles }

// ReadHeap copies committed heap bytes at off into p.
func (c *Canister) ReadHeap(p []byte, off uint64) error {
	if c.code == nil {
		if len(p) == 0 && off == 0 {
			return nil
		}
		return errors.New("read heap: the canister has no module")
	}
	return c.code.heap.ReadAt(p, off)
}

// ReadStable copies stable memory bytes at off into p.
func (c *Canister) ReadStable(p []byte, off uint64) error {
	if err := c.st.Stable.Read(p, off); err != nil {
		return fmt.Errorf("read stable memory: %w", err)
	}
	return nil
}

// HeapPage returns committed heap page i (64 KiB).
func (c *Canister) HeapPage(i uint64) ([]byte, error) {
	p := make([]byte, PageSize)
	if err := c.ReadHeap(p, i*PageSize); err != nil {
		return nil, err
	}
	return p, nil
}

// StablePage returns stable page i, nil when it is all zero. The slice
// must not be modified and is valid until the next message.
func (c *Canister) StablePage(i uint64) []byte { return c.st.Stable.Page(i) }

// HeapPages returns the indexes of the committed heap pages (64 KiB) that
// are not all zero.
func (c *Canister) HeapPages() ([]uint64, error) {
	if c.code == nil {
		return nil, nil
	}
	ps, err := c.code.heap.NonZeroPages()
	if err != nil {
		return nil, err
	}
	out := make([]uint64, len(ps))
	for i, p := range ps {
		out[i] = uint64(p)
	}
	return out, nil
}

// Mark starts a new period for Changed, e.g. after the store persisted a
// snapshot of this canister.
func (c *Canister) Mark() {
	if c.code != nil {
		c.code.heap.ResetChanged()
		c.sizeAtMark = c.code.heap.Size()
	} else {
		c.sizeAtMark = 0
	}
	c.heapReplaced = false
	c.st.Stable.Mark()
	clear(c.stableDropped)
}

// Changed returns the heap and stable pages (64 KiB) whose contents may
// differ from the state at Restore, NewCanister or the last Mark: a child
// snapshot stores only these (pages beyond the current sizes are gone).
func (c *Canister) Changed() (heapPages, stablePages []uint64) {
	if c.heapReplaced {
		n := c.sizeAtMark
		if c.code != nil {
			n = max(n, c.code.heap.Size())
		}
		for i := uint64(0); i < n/PageSize; i++ {
			heapPages = append(heapPages, i)
		}
	} else if c.code != nil {
		for _, p := range c.code.heap.Changed() {
			heapPages = append(heapPages, uint64(p))
		}
	}
	stablePages = c.st.Stable.Changed()
	if len(c.stableDropped) > 0 {
		set := maps.Clone(c.stableDropped)
		for _, p := range stablePages {
			set[p] = struct{}{}
		}
		stablePages = slices.Sorted(maps.Keys(set))
	}
	return heapPages, stablePages
}

// State returns the canister's complete committed state.
func (c *Canister) State() (State, error) {
	st := State{
		StableSize:      c.st.Stable.Bytes(),
		CertifiedData:   slices.Clone(c.st.CertifiedData),
		GlobalTimer:     c.st.GlobalTimer,
		CanisterVersion: c.version,
		Globals:         c.Globals(),
	}
	for idx, data := range c.st.Stable.All() {
		st.StablePages = append(st.StablePages, Page{Index: idx, Data: slices.Clone(data)})
	}
	if c.code == nil {
		return st, nil
	}
	st.Module = c.code.mod.raw
	st.HeapSize = c.code.heap.Size()
	pages, err := c.HeapPages()
	if err != nil {
		return State{}, fmt.Errorf("canister state: %w", err)
	}
	for _, i := range pages {
		p, err := c.HeapPage(i)
		if err != nil {
			return State{}, fmt.Errorf("canister state: %w", err)
		}
		st.HeapPages = append(st.HeapPages, Page{Index: i, Data: p})
	}
	return st, nil
}

// frameName strips the module prefix and signature from a wazero stack
// trace frame such as "canister3.inc(i32) i64".
func frameName(line string) (module, name string) {
	line = strings.TrimSpace(line)
	if i := strings.LastIndexByte(line, '('); i >= 0 {
		line = line[:i]
	}
	module, name, _ = strings.Cut(line, ".")
	return module, name
}

// lookupFunc finds the function index of a wazero debug name: the
// name-section name, or "$<index>".
func (m *Module) lookupFunc(name string) (uint32, bool) {
	if n, ok := strings.CutPrefix(name, "$"); ok {
		// wazero's name for a function without a name: its index in the
		// prepared module, shifted by the metering rewrite.
		idx, err := strconv.ParseUint(n, 10, 32)
		if err != nil || uint32(idx) < m.shift {
			return 0, false
		}
		return uint32(idx) - m.shift, true
	}
	total := m.numImported + uint32(len(m.codeOffsets))
	for i := uint32(0); i < total; i++ {
		if m.info.FuncName(i) == name {
			return i, true
		}
	}
	return 0, false
}

// importIndex returns the function index of the import ic0.<name>.
func (m *Module) importIndex(name string) (uint32, bool) {
	var k uint32
	for _, im := range m.info.Imports {
		if im.Kind != wasm.KindFunc {
			continue
		}
		if im.Module == ic0.ModuleName && im.Name == name {
			return k, true
		}
		k++
	}
	return 0, false
}
