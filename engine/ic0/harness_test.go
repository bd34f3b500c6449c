package ic0

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// proxyModule returns a wasm32 module that imports every ic0 function and
// exports a same-named function forwarding its arguments and results, plus
// its memory (heapPages pages). Tests call ic0 through it exactly as a
// canister does: from wasm, with the canister's memory as the heap.
func proxyModule(heapPages uint32) []byte {
	fs := Functions()
	var types, imports, funcs, exports, code []byte
	for i, f := range fs {
		types = append(types, 0x60)
		types = appendVec(types, valTypes(f.Params))
		types = appendVec(types, valTypes(f.Results))
		imports = appendName(imports, ModuleName)
		imports = appendName(imports, f.Name)
		imports = append(imports, 0x00)
		imports = appendU32(imports, uint32(i))
		funcs = appendU32(funcs, uint32(i))
		exports = appendName(exports, f.Name)
		exports = append(exports, 0x00)
		exports = appendU32(exports, uint32(len(fs)+i))
		var body []byte
		body = append(body, 0x00) // no locals
		for p := range f.Params {
			body = append(body, 0x20)
			body = appendU32(body, uint32(p))
		}
		body = append(body, 0x10)
		body = appendU32(body, uint32(i))
		body = append(body, 0x0b)
		code = appendU32(code, uint32(len(body)))
		code = append(code, body...)
	}
	exports = appendName(exports, "memory")
	exports = append(exports, 0x02, 0x00)

	n := uint32(len(fs))
	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	out = appendSection(out, 1, appendU32(nil, n), types)
	out = appendSection(out, 2, appendU32(nil, n), imports)
	out = appendSection(out, 3, appendU32(nil, n), funcs)
	mem := appendU32([]byte{0x00}, heapPages)
	out = appendSection(out, 5, appendU32(nil, 1), mem)
	out = appendSection(out, 7, appendU32(nil, n+1), exports)
	out = appendSection(out, 10, appendU32(nil, n), code)
	return out
}

func valTypes(ts []api.ValueType) []byte { return append([]byte{}, ts...) }

// appendU32 appends v as unsigned LEB128.
func appendU32(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }

func appendVec(b, items []byte) []byte {
	return append(appendU32(b, uint32(len(items))), items...)
}

func appendName(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}

func appendSection(b []byte, id byte, count, body []byte) []byte {
	b = append(b, id)
	b = appendU32(b, uint32(len(count)+len(body)))
	return append(append(b, count...), body...)
}

// harness runs ic0 calls through the proxy module.
type harness struct {
	t     *testing.T
	ctx   context.Context
	host  *Host
	state *State
	env   *Env
	mod   api.Module
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	t.Cleanup(func() { r.Close(ctx) })
	state := NewState()
	env := DefaultEnv()
	host := NewHost(state, env)
	if _, err := host.Instantiate(ctx, r); err != nil {
		t.Fatal(err)
	}
	mod, err := r.Instantiate(ctx, proxyModule(1))
	if err != nil {
		t.Fatalf("instantiate proxy module: %v", err)
	}
	return &harness{t: t, ctx: ctx, host: host, state: state, env: env, mod: mod}
}

// run executes ic0.<name>(args...) as message msg and returns its results
// or its trap.
func (h *harness) run(msg *Message, name string, args ...uint64) ([]uint64, error) {
	return h.runMetered(msg, nil, nil, name, args...)
}

func (h *harness) runMetered(msg *Message, m Meter, rec Recorder, name string, args ...uint64) ([]uint64, error) {
	h.t.Helper()
	h.host.Begin(msg, m, rec)
	defer h.host.End()
	f := h.mod.ExportedFunction(name)
	if f == nil {
		h.t.Fatalf("proxy has no export %q", name)
	}
	return f.Call(h.ctx, args...)
}

// ok runs a call that must not trap.
func (h *harness) ok(msg *Message, name string, args ...uint64) []uint64 {
	h.t.Helper()
	res, err := h.run(msg, name, args...)
	if err != nil {
		h.t.Fatalf("ic0.%s(%v): %v", name, args, err)
	}
	return res
}

// trap runs a call that must trap with code and a reason containing want.
func (h *harness) trap(msg *Message, code ErrorCode, want, name string, args ...uint64) *Trap {
	h.t.Helper()
	_, err := h.run(msg, name, args...)
	tr, ok := AsTrap(err)
	if !ok {
		h.t.Fatalf("ic0.%s(%v): err = %v, want trap %s %q", name, args, err, code, want)
	}
	if tr.Code != code || !strings.Contains(tr.Reason, want) {
		h.t.Fatalf("ic0.%s(%v): trap %s %q, want %s containing %q", name, args, tr.Code, tr.Reason, code, want)
	}
	return tr
}

func (h *harness) write(off uint32, b []byte) {
	h.t.Helper()
	if !h.mod.Memory().Write(off, b) {
		h.t.Fatalf("write %d bytes at %d: out of range", len(b), off)
	}
}

func (h *harness) read(off, n uint32) []byte {
	h.t.Helper()
	b, ok := h.mod.Memory().Read(off, n)
	if !ok {
		h.t.Fatalf("read %d bytes at %d: out of range", n, off)
	}
	return append([]byte{}, b...)
}

// heapEnd is the size of the proxy's one-page heap.
const heapEnd = 1 << 16

// msgIn returns a message in context c.
func msgIn(c Context) *Message { return &Message{Context: c} }

// fixedMeter is a Meter with a limit, for metering tests.
type fixedMeter struct{ used, limit uint64 }

func (m *fixedMeter) Charge(n uint64) bool { m.used += n; return m.used <= m.limit }
func (m *fixedMeter) Used() uint64         { return m.used }
func (m *fixedMeter) Limit() uint64        { return m.limit }

// callLog is a Recorder that keeps every call.
type callLog struct{ calls []string }

func (l *callLog) SystemCall(name string, params, results []uint64) {
	s := name
	if results == nil {
		s += " trapped"
	}
	l.calls = append(l.calls, s)
}
