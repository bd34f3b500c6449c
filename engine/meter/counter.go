package meter

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Counter is the instruction counter of one instantiated, instrumented
// module. The counter global holds the instructions left; the module
// decrements it and the host charges System API calls through Charge. A
// Counter is not safe for concurrent use, like the instance it reads.
type Counter struct {
	g     api.MutableGlobal
	limit uint64
}

// NewCounter finds the counter of an instance of an instrumented module and
// sets it to limit.
func NewCounter(mod api.Module, limit uint64) (*Counter, error) {
	g, ok := mod.ExportedGlobal(CounterExport).(api.MutableGlobal)
	if !ok || g.Type() != api.ValueTypeI64 {
		return nil, fmt.Errorf("meter: module %q has no mutable i64 global %q: instrument it with meter.Instrument", mod.Name(), CounterExport)
	}
	c := &Counter{g: g}
	c.Set(limit)
	return c, nil
}

// Set starts a new message: limit instructions are left. Limits above the
// largest i64 are capped there.
func (c *Counter) Set(limit uint64) {
	limit = min(limit, math.MaxInt64)
	c.limit = limit
	c.g.Set(uint64(limit))
}

// Charge subtracts n instructions (a System API call's cost) and reports
// whether the message is still within its limit. On false the caller must
// trap with &LimitError{Limit: c.Limit()}.
func (c *Counter) Charge(n uint64) bool {
	left := int64(c.g.Get())
	if n > math.MaxInt64 || left < math.MinInt64+int64(n) {
		left = math.MinInt64
	} else {
		left -= int64(n)
	}
	c.g.Set(uint64(left))
	return left >= 0
}

// Used returns the instructions charged since Set: executed basic blocks,
// bulk operation sizes and System API charges. It can exceed Limit by the
// cost of the blocks run since the last check.
func (c *Counter) Used() uint64 {
	left := int64(c.g.Get())
	if left >= 0 {
		return c.limit - uint64(left)
	}
	return c.limit + uint64(-(left + 1)) + 1
}

// Limit returns the limit given to Set.
func (c *Counter) Limit() uint64 { return c.limit }

// Exceeded reports whether the message used more than its limit.
func (c *Counter) Exceeded() bool { return int64(c.g.Get()) < 0 }

// InstantiateHost instantiates the HostModule with OutOfInstructions in rt,
// so instrumented modules can be instantiated there. When a module runs out
// of instructions, the function traps (panics, which wazero turns into the
// call's error) with the error trap returns for the calling module. If trap
// is nil, the error is a *LimitError whose limit is unknown (0); hosts that
// meter several instances pass a function that looks up the caller's
// Counter and returns &LimitError{Limit: counter.Limit()} or their own trap
// type.
func InstantiateHost(ctx context.Context, rt wazero.Runtime, trap func(ctx context.Context, caller api.Module) error) (api.Module, error) {
	if trap == nil {
		trap = func(context.Context, api.Module) error { return &LimitError{} }
	}
	mod, err := rt.NewHostModuleBuilder(HostModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, caller api.Module, _ []uint64) {
			err := trap(ctx, caller)
			if err == nil {
				err = errors.New("meter: out of instructions")
			}
			panic(err)
		}), nil, nil).
		WithName(OutOfInstructions).
		Export(OutOfInstructions).
		Instantiate(ctx)
	if err != nil {
		return nil, fmt.Errorf("meter: instantiate host module %q: %w", HostModule, err)
	}
	return mod, nil
}
