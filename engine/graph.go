package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/heap"
	"github.com/canscope/canscope/engine/ic0"
)

// The limits of a composite query's call graph, as the replica's query
// handler enforces them (rs/config/src/execution_environment.rs, the
// defaults of max_query_call_graph_depth, max_query_call_graph_instructions
// and instruction_overhead_per_query_call; enforced in
// rs/execution_environment/src/query_handler/query_call_graph.rs and
// query_context.rs).
const (
	maxQueryCallDepth               = 6             // MAX_QUERY_CALL_DEPTH
	maxQueryCallGraphInstructions   = 5_000_000_000 // MAX_INSTRUCTIONS_PER_COMPOSITE_QUERY_CALL
	instructionOverheadPerQueryCall = 50_000_000    // INSTRUCTION_OVERHEAD_PER_QUERY_CALL
)

// The replica's errors when a call graph passes its limits (ErrorCode
// QueryCallGraphTooDeep, QueryCallGraphTotalInstructionLimitExceeded).
const (
	CodeQueryCallGraphTooDeep                       ic0.ErrorCode = "IC0525"
	CodeQueryCallGraphTotalInstructionLimitExceeded ic0.ErrorCode = "IC0526"
)

// queryGraph is one composite query's call graph while canscope answers its
// calls: every query and callback execution in it, the calls' own methods
// when they go to the canister itself included, draws from one instruction
// budget (round_limits.instructions of the query context), each execution
// limited to min(the query limit, what is left); every call answered costs
// instructionOverheadPerQueryCall more.
type queryGraph struct {
	left  int64
	depth int // nesting of the node being answered: 0 is the query the user sent
	// code and message are set once a limit ends the whole query.
	code    ic0.ErrorCode
	message string
}

// charge takes n instructions from the graph's budget.
func (g *queryGraph) charge(n uint64) {
	g.left -= int64(min(n, uint64(maxQueryCallGraphInstructions)))
}

// limit is the instruction limit of the next execution in the graph.
func (g *queryGraph) limit(queryLimit uint64) uint64 {
	return min(queryLimit, uint64(max(g.left, 0)))
}

// check ends the query when the budget is spent, as the call graph's
// traversal does before each step (instruction_limit_reached).
func (g *queryGraph) check() bool {
	if g.code == "" && g.left <= 0 {
		g.code, g.message = CodeQueryCallGraphTotalInstructionLimitExceeded, "Composite query calls exceeded the instruction limit."
	}
	return g.code == ""
}

// savepoint is the uncommitted state of a composite query's call graph at
// one moment: the executions of a graph share one open unit (all of it is
// discarded at the end), yet the replica discards a trapping callback's
// changes alone and runs a call to the canister itself on its state as the
// query found it. restore brings the graph back to the savepoint from the
// committed state.
type savepoint struct {
	heapBytes   uint64            // the working memory's size
	heapPages   map[uint32][]byte // contents of the OS pages changed since the commit
	globals     []uint64
	stableSize  uint64            // in pages
	stablePages map[uint64][]byte // contents of the pages written in the unit (nil: zero)
	certified   []byte
	timer       uint64
	cycles      ic0.Cycles
}

// savepoint records the graph's state.
func (c *Canister) savepoint() (*savepoint, error) {
	inc := c.code
	mem := inc.inst.Memory()
	sp := &savepoint{heapPages: map[uint32][]byte{}, stablePages: map[uint64][]byte{},
		certified: c.st.CertifiedData, timer: c.st.GlobalTimer, cycles: c.st.Cycles, stableSize: c.st.Stable.Size()}
	if mem != nil {
		sp.heapBytes = uint64(mem.Size())
		dirty, err := inc.heap.Dirty()
		if err != nil {
			return nil, fmt.Errorf("savepoint: %w", err)
		}
		for _, p := range dirty {
			b, ok := mem.Read(p*heap.OSPageSize, heap.OSPageSize)
			if !ok {
				return nil, fmt.Errorf("savepoint: heap page %d beyond the memory", p)
			}
			sp.heapPages[p] = slices.Clone(b)
		}
	}
	for _, g := range inc.globals {
		sp.globals = append(sp.globals, g.Get())
	}
	for _, idx := range c.st.Stable.TouchedPages() {
		b, err := c.st.Stable.Page(idx)
		if err != nil {
			return nil, fmt.Errorf("savepoint: stable page %d: %w", idx, err)
		}
		sp.stablePages[idx] = slices.Clone(b)
	}
	return sp, nil
}

// toCommitted discards the open unit: the canister is as its last commit.
func (c *Canister) toCommitted(ctx context.Context) error {
	c.st.Rollback()
	return c.rollback(ctx, c.code)
}

// restore discards the open unit and opens one holding sp's state.
func (c *Canister) restore(ctx context.Context, sp *savepoint) error {
	if err := c.toCommitted(ctx); err != nil {
		return fmt.Errorf("restore savepoint: %w", err)
	}
	c.st.Begin()
	inc := c.code
	inc.dirty = nil
	if mem := inc.inst.Memory(); mem != nil {
		if size := uint64(mem.Size()); sp.heapBytes > size {
			if _, ok := mem.Grow(uint32((sp.heapBytes - size) / heap.WasmPageSize)); !ok {
				return errors.New("restore savepoint: cannot grow the heap back")
			}
		}
		for p, b := range sp.heapPages {
			if !mem.Write(p*heap.OSPageSize, b) {
				return fmt.Errorf("restore savepoint: heap page %d beyond the memory", p)
			}
		}
	}
	for i, g := range inc.globals {
		if mg, ok := g.(api.MutableGlobal); ok && i < len(sp.globals) {
			mg.Set(sp.globals[i])
		}
	}
	if size := c.st.Stable.Size(); sp.stableSize > size {
		c.st.Stable.Grow(sp.stableSize - size)
	}
	for idx, b := range sp.stablePages {
		if b == nil {
			b = make([]byte, PageSize)
		}
		if err := c.st.Stable.Write(idx*PageSize, b); err != nil {
			return fmt.Errorf("restore savepoint: stable page %d: %w", idx, err)
		}
	}
	c.st.CertifiedData, c.st.GlobalTimer, c.st.Cycles = sp.certified, sp.timer, sp.cycles
	return nil
}
