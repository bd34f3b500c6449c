package ic0

import (
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzHostCalls runs random sequences of ic0 calls with random arguments in
// random contexts. Whatever the input, a call either succeeds or raises a
// *Trap: a Go runtime panic (nil pointer, slice bounds) fails the test.
func FuzzHostCalls(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte{31, 4, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	fs := Functions()
	f.Fuzz(func(t *testing.T, prog []byte) {
		h := newHarness(t)
		h.env.CyclesMinting = true
		h.env.DataCertificate = []byte("cert")
		h.env.EnvVars = []EnvVar{{"A", "1"}}
		h.state.Stable.Grow(2)
		msg := &Message{Context: Update, Arg: []byte("arg"), CyclesAvailable: CyclesFrom(10)}
		h.host.Begin(msg, &fixedMeter{limit: 1 << 30}, &callLog{})
		defer h.host.End()
		for len(prog) >= 2 {
			fn := fs[int(prog[0])%len(fs)]
			msg.Context = Context(prog[1] % byte(numContexts))
			prog = prog[2:]
			args := make([]uint64, len(fn.Params))
			for i := range args {
				var b [8]byte
				n := copy(b[:], prog)
				prog = prog[n:]
				v := binary.LittleEndian.Uint64(b[:])
				if v%4 != 0 { // mostly small values, so calls get past bounds checks
					v %= 1 << 17
				}
				args[i] = v
			}
			_, err := h.mod.ExportedFunction(fn.Name).Call(h.ctx, args...)
			var tr *Trap
			if err != nil && !errors.As(err, &tr) {
				t.Fatalf("ic0.%s%v in %s: %v", fn.Name, args, msg.Context, err)
			}
		}
	})
}
