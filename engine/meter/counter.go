package meter

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// DefaultSlice is how many instructions the counter global holds at a
// time. When a slice runs out the module calls out_of_instructions, which
// returns to the host: the host checks for cancellation and grants the
// next slice (Refill) or traps at the real limit. Compiled wasm cannot be
// preempted by the Go scheduler, so the slice bounds how long a call keeps
// its thread from the garbage collector and from a cancel: 10 M
// instructions are about a millisecond of compute (1-10 ms for loops of
// cache misses), while a refill costs about 50 ns (the runaway test's
// 30,000 refills of the install limit take 1.5 ms).
const DefaultSlice uint64 = 10_000_000

// Counter is the instruction counter of one instantiated, instrumented
// module. Of the instructions left, the counter global holds at most one
// slice and the Counter keeps the rest in reserve; the module decrements
// the global and the host charges System API calls through Charge. Every
// reading (Used, Exceeded) counts both, so the counts are those of one
// counter holding the whole limit, as on the replica. A Counter is not
// safe for concurrent use, like the instance it reads.
type Counter struct {
	g     api.MutableGlobal
	limit uint64
	// reserve is the part of the instructions left that is not in the
	// global; it is 0 whenever the instructions left are negative.
	reserve uint64
	slice   uint64
}

// NewCounter finds the counter of an instance of an instrumented module and
// sets it to limit, granting DefaultSlice instructions at a time.
func NewCounter(mod api.Module, limit uint64) (*Counter, error) {
	g, ok := mod.ExportedGlobal(CounterExport).(api.MutableGlobal)
	if !ok || g.Type() != api.ValueTypeI64 {
		return nil, fmt.Errorf("meter: module %q has no mutable i64 global %q: instrument it with meter.Instrument", mod.Name(), CounterExport)
	}
	c := &Counter{g: g, slice: DefaultSlice}
	c.Set(limit)
	return c, nil
}

// SetSlice changes how many instructions the module runs between returns
// to the host (at least 1; 0 means DefaultSlice). It does not change what
// is counted. It takes effect at once.
func (c *Counter) SetSlice(n uint64) {
	if n == 0 {
		n = DefaultSlice
	}
	c.slice = min(n, math.MaxInt64)
	c.put(c.left())
}

// Set starts a new message: limit instructions are left. Limits above the
// largest i64 are capped there.
func (c *Counter) Set(limit uint64) {
	limit = min(limit, math.MaxInt64)
	c.limit = limit
	c.put(int64(limit))
}

// left returns the instructions left: the global plus the reserve. A
// global saturated at the minimum (a huge bulk charge) stays there, as
// one counter holding the whole limit would.
func (c *Counter) left() int64 {
	g := int64(c.g.Get())
	if g == math.MinInt64 {
		return g
	}
	return g + int64(c.reserve) // cannot overflow: the sum never exceeds limit
}

// put stores left as global plus reserve, with at most one slice in the
// global.
func (c *Counter) put(left int64) {
	if left <= int64(c.slice) {
		c.reserve = 0
		c.g.Set(uint64(left))
		return
	}
	c.reserve = uint64(left) - c.slice
	c.g.Set(c.slice)
}

// Refill grants the next slice after the module found the global
// negative, and reports whether the message is still within its limit. On
// false the caller must trap with &LimitError{Limit: c.Limit()}.
func (c *Counter) Refill() bool {
	left := c.left()
	c.put(left)
	return left >= 0
}

// Charge subtracts n instructions (a System API call's cost) and reports
// whether the message is still within its limit. On false the caller must
// trap with &LimitError{Limit: c.Limit()}.
func (c *Counter) Charge(n uint64) bool {
	left := c.left()
	if n > math.MaxInt64 || left < math.MinInt64+int64(n) {
		left = math.MinInt64
	} else {
		left -= int64(n)
	}
	c.put(left)
	return left >= 0
}

// Used returns the instructions charged since Set: executed basic blocks,
// bulk operation sizes and System API charges. It can exceed Limit by the
// cost of the blocks run since the last check.
func (c *Counter) Used() uint64 {
	left := c.left()
	if left >= 0 {
		return c.limit - uint64(left)
	}
	return c.limit + uint64(-(left + 1)) + 1
}

// Limit returns the limit given to Set.
func (c *Counter) Limit() uint64 { return c.limit }

// Exceeded reports whether the message used more than its limit.
func (c *Counter) Exceeded() bool { return c.left() < 0 }

// InstantiateHost instantiates the HostModule with OutOfInstructions in rt,
// so instrumented modules can be instantiated there. The module calls
// OutOfInstructions whenever its counter global runs out, which happens at
// the end of every slice, not only at the limit: out decides. It returns
// nil to resume the module, typically after the caller's Counter.Refill
// reported true (and after checking ctx for cancellation), or the error to
// trap with (wazero turns it into the call's error), typically
// &LimitError{Limit: counter.Limit()} or the host's own trap type. The
// module also has HeapLimit, which lowered wasm64 modules import: it
// stops the run with *HeapLimitError.
func InstantiateHost(ctx context.Context, rt wazero.Runtime, out func(ctx context.Context, caller api.Module) error) (api.Module, error) {
	if out == nil {
		return nil, errors.New("meter: InstantiateHost needs an out_of_instructions handler")
	}
	mod, err := rt.NewHostModuleBuilder(HostModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, caller api.Module, _ []uint64) {
			if err := out(ctx, caller); err != nil {
				panic(err)
			}
		}), nil, nil).
		WithName(OutOfInstructions).
		Export(OutOfInstructions).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
			panic(&HeapLimitError{Bytes: stack[0]})
		}), []api.ValueType{api.ValueTypeI64}, nil).
		WithName(HeapLimit).
		Export(HeapLimit).
		Instantiate(ctx)
	if err != nil {
		return nil, fmt.Errorf("meter: instantiate host module %q: %w", HostModule, err)
	}
	return mod, nil
}

// At returns what Used reported when the counter global held g, provided
// the host has not charged, refilled or set the counter since: a traced
// run records the global's value at each event and counts them later
// (At is linear in g: engine.Counts uses At(0) - g).
func (c *Counter) At(g int64) uint64 {
	if g == math.MinInt64 {
		return c.Used() // saturated: no later reading differs
	}
	left := g + int64(c.reserve)
	if left >= 0 {
		return c.limit - uint64(left)
	}
	return c.limit + uint64(-(left + 1)) + 1
}
