package ic0

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
)

// BenchmarkHostCall measures one System API call from compiled wasm: the
// context check, the charge, the work and (for "recorded") the recorder.
func BenchmarkHostCall(b *testing.B) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	state := NewState()
	state.Stable.Grow(1)
	host := NewHost(state, nil)
	if _, err := host.Instantiate(ctx, r); err != nil {
		b.Fatal(err)
	}
	mod, err := r.Instantiate(ctx, proxyModule(1))
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		fn   string
		args []uint64
		rec  Recorder
	}{
		{"time", "time", nil, nil},
		{"time/recorded", "time", nil, &callLog{}},
		{"msg_arg_data_copy/64B", "msg_arg_data_copy", []uint64{0, 0, 64}, nil},
		{"stable64_write/8B", "stable64_write", []uint64{0, 0, 8}, nil},
		{"stable64_read/4KiB", "stable64_read", []uint64{0, 0, 4096}, nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := mod.ExportedFunction(c.fn)
			msg := &Message{Context: Update, Arg: make([]byte, 64)}
			host.Begin(msg, nil, c.rec)
			defer host.End()
			for b.Loop() {
				if _, err := f.Call(ctx, c.args...); err != nil {
					b.Fatal(err)
				}
				if l, ok := c.rec.(*callLog); ok {
					l.calls = l.calls[:0]
				}
			}
		})
	}
}
