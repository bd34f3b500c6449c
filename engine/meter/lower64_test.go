package meter

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine/wasm"
)

// lowerCase is one call of testdata/mem64.wat's exports and what the
// wasm64 semantics give: a result, or a trap (wazero's text for the
// lowered module; the replica reports both as its HeapOutOfBounds and
// TableOutOfBounds traps). Cases run in order on one instance.
type lowerCase struct {
	fn   string
	args []uint64
	want []uint64
	trap string
}

const (
	oobText   = "out of bounds memory access"
	tableText = "invalid table access"
	nullText  = "invalid table access" // wazero's text for a null entry too
	limitText = "exceeded the limit"
	page      = 65536
	big       = uint64(1) << 32
)

func neg(v int64) uint64 { return uint64(v) }

var lowerCases = []lowerCase{
	{"load8", []uint64{16}, []uint64{'c'}, ""},
	{"load8", []uint64{page - 1}, []uint64{0}, ""},
	{"load8", []uint64{page}, nil, oobText},
	{"load8", []uint64{big + 16}, nil, oobText}, // wrapped it would read 'c'
	{"load8", []uint64{neg(-1)}, nil, oobText},
	{"load8s_off", []uint64{13}, []uint64{'c'}, ""},
	{"load8s_off", []uint64{big + 13}, nil, oobText},
	{"load16", []uint64{16}, []uint64{'c' | 'a'<<8}, ""},
	{"load32", []uint64{page - 4}, []uint64{0}, ""},
	{"load32", []uint64{page - 3}, nil, oobText},
	{"load64", []uint64{16}, []uint64{binary.LittleEndian.Uint64([]byte("canscope"))}, ""},
	{"load64", []uint64{page - 8}, []uint64{0}, ""},
	{"load64", []uint64{page - 7}, nil, oobText},
	{"load64_off", []uint64{page - 11}, []uint64{0}, ""},
	{"load64_off", []uint64{page - 10}, nil, oobText},
	{"i32load", []uint64{16}, []uint64{uint64(binary.LittleEndian.Uint32([]byte("cans")))}, ""},
	{"i32load16s", []uint64{15}, []uint64{uint64(binary.LittleEndian.Uint16([]byte("ca")))}, ""},
	{"f32load", []uint64{big}, nil, oobText},
	{"f64load", []uint64{page - 8}, []uint64{0}, ""},
	{"load_bigoff", []uint64{0}, nil, oobText},
	{"store8", []uint64{big + 16, 'X'}, nil, oobText},
	{"load8", []uint64{16}, []uint64{'c'}, ""}, // the wide store wrote nothing
	{"store8", []uint64{17, 'X'}, nil, ""},
	{"load16", []uint64{16}, []uint64{'c' | 'X'<<8}, ""},
	{"store16", []uint64{page - 5, 0xbeef}, nil, ""},
	{"load16", []uint64{page - 2}, []uint64{0xbeef}, ""},
	{"store16", []uint64{page - 4, 1}, nil, oobText},
	{"store32", []uint64{neg(-4), 1}, nil, oobText},
	{"store64", []uint64{page - 8, 0x0102030405060708}, nil, ""},
	{"load64", []uint64{page - 8}, []uint64{0x0102030405060708}, ""},
	{"store64", []uint64{page - 7, 1}, nil, oobText},
	{"i32store", []uint64{page - 4, 7}, nil, ""},
	{"i32store8", []uint64{big - 7, 7}, nil, oobText},
	{"f32store", []uint64{page, 1}, nil, oobText},
	{"f64store", []uint64{0, 3}, nil, ""},
	{"f64load", []uint64{0}, []uint64{math.Float64bits(3)}, ""},
	{"store_bigoff", []uint64{0, 1}, nil, oobText},

	{"size", []uint64{0}, []uint64{1}, ""},
	{"grow", []uint64{1}, []uint64{1}, ""},
	{"size", []uint64{0}, []uint64{2}, ""},
	{"grow", []uint64{3}, []uint64{neg(-1)}, ""}, // past the maximum of 4
	{"grow", []uint64{big + 1}, []uint64{neg(-1)}, ""},
	{"grow", []uint64{neg(-1)}, []uint64{neg(-1)}, ""},
	{"grow", []uint64{0}, []uint64{2}, ""},
	{"load8", []uint64{2*page - 1}, []uint64{0}, ""},
	{"load8", []uint64{2 * page}, nil, oobText},

	{"fill", []uint64{2*page - 10, 10}, nil, ""},
	{"load8", []uint64{2*page - 1}, []uint64{0x5a}, ""},
	{"fill", []uint64{2*page - 10, 11}, nil, oobText},
	{"fill", []uint64{2 * page, 0}, nil, ""},
	{"fill", []uint64{2*page + 1, 0}, nil, oobText},
	{"fill", []uint64{big, 0}, nil, oobText},
	{"fill", []uint64{0, big}, nil, oobText},
	{"fill", []uint64{big + 1, 1}, nil, oobText},
	// The replica charges the size before the instruction runs.
	{"fill", []uint64{8, neg(-8)}, nil, limitText},
	{"copy_to", []uint64{2*page - 8, 8}, nil, ""},
	{"load64", []uint64{2*page - 8}, []uint64{binary.LittleEndian.Uint64([]byte("cXnscope"))}, ""},
	{"copy_to", []uint64{2*page - 7, 8}, nil, oobText},
	{"copy_to", []uint64{big, 1}, nil, oobText},
	{"copy_from", []uint64{2*page - 8, 8}, nil, ""},
	{"load64", []uint64{0}, []uint64{binary.LittleEndian.Uint64([]byte("cXnscope"))}, ""},
	{"copy_from", []uint64{big + 16, 8}, nil, oobText},
	{"copy_from", []uint64{16, neg(-1)}, nil, limitText},
	{"init", []uint64{100, 14}, nil, ""},
	{"load16", []uint64{100}, []uint64{'2' | '3'<<8}, ""},
	{"init", []uint64{100, 15}, nil, oobText},
	{"init", []uint64{big + 100, 1}, nil, oobText},
	{"init", []uint64{2*page - 1, 2}, nil, oobText},

	{"call", []uint64{0}, []uint64{1}, ""},
	{"call", []uint64{1}, []uint64{2}, ""},
	{"call", []uint64{2}, nil, nullText},
	{"call", []uint64{3}, nil, tableText},
	{"call", []uint64{big}, nil, tableText}, // wrapped it would call $one
	{"tsize", []uint64{0}, []uint64{3}, ""},
}

// TestLowerMemory64 runs the lowered corpus on wazero against the wasm64
// semantics written out in lowerCases (the differential test in
// bench/mem64diff checks the same corpus against wasmtime's memory64).
func TestLowerMemory64(t *testing.T) {
	ctx := context.Background()
	m := loadModule(t, "testdata/mem64.wasm")
	mm := compileMetered(ctx, t, m)
	if mm.info.FuncShift != 2 || len(mm.info.Imports) != 2 || mm.info.Imports[1].Name != HeapLimit {
		t.Fatalf("wasm64 host imports %+v, shift %d", mm.info.Imports, mm.info.FuncShift)
	}
	mi := mm.instantiate(ctx, t, 1<<40)
	for i, c := range lowerCases {
		res, err := mi.mod.ExportedFunction(c.fn).Call(ctx, c.args...)
		switch {
		case c.trap != "":
			if err == nil || !strings.Contains(err.Error(), c.trap) {
				t.Errorf("%d %s%v: err %v, want trap %q", i, c.fn, c.args, err, c.trap)
			}
		case err != nil:
			t.Errorf("%d %s%v: %v", i, c.fn, c.args, err)
		case len(res) != len(c.want) || (len(res) > 0 && res[0] != c.want[0]):
			t.Errorf("%d %s%v = %v, want %v", i, c.fn, c.args, res, c.want)
		}
	}
}

// TestLowerMetersOriginal: a lowered load costs what the replica charges
// the wasm64 module (entry 1, local.get 1, i64.load 2), not the lowering's
// check-and-wrap instructions.
func TestLowerMetersOriginal(t *testing.T) {
	ctx := context.Background()
	mi := instantiateMetered(ctx, t, loadModule(t, "testdata/mem64.wasm"), 1<<40)
	for _, c := range []struct {
		fn   string
		args []uint64
		want uint64
	}{
		{"load64", []uint64{16}, 4},               // 1 + local.get 1 + i64.load 2
		{"store64", []uint64{16, 1}, 5},           // 1 + 2 local.get + i64.store 2
		{"size", []uint64{0}, 21},                 // 1 + memory.size 20
		{"grow", []uint64{0}, 302},                // 1 + local.get + memory.grow 300
		{"fill", []uint64{0, 100}, 204},           // 1 + 3 operands + memory.fill 100 + 100 bytes
		{"call", []uint64{0}, 1 + 1 + 10 + 1 + 1}, // call_indirect 10, $one: entry + i64.const
	} {
		before := mi.counter.Used()
		if _, err := mi.mod.ExportedFunction(c.fn).Call(ctx, c.args...); err != nil {
			t.Fatalf("%s: %v", c.fn, err)
		}
		if got := mi.counter.Used() - before; got != c.want {
			t.Errorf("%s%v counted %d instructions, want %d", c.fn, c.args, got, c.want)
		}
	}
}

// TestLowerRefusesAbove4GiB: a heap the lowering cannot hold is refused
// with ErrWasm64Heap, and a grow the IC would allow past 4 GiB stops the
// run with HeapLimitError instead of failing with -1.
func TestLowerRefusesAbove4GiB(t *testing.T) {
	m := loadModule(t, "testdata/mem64.wasm")
	mems := append([]wasm.Limits(nil), m.Memories...)
	mems[0].Min, mems[0].HasMax = 65537, false
	m.SetMemories(mems)
	if _, _, err := Instrument(m); !errors.Is(err, ErrWasm64Heap) {
		t.Fatalf("instrument a 65,537-page wasm64 heap: %v, want ErrWasm64Heap", err)
	}

	ctx := context.Background()
	m = loadModule(t, "testdata/mem64.wasm")
	mems = append([]wasm.Limits(nil), m.Memories...)
	mems[0].HasMax = false // the replica's maximum: 18 GiB
	m.SetMemories(mems)
	mi := instantiateMetered(ctx, t, m, 1<<40)
	_, err := mi.mod.ExportedFunction("grow").Call(ctx, 65536)
	var hl *HeapLimitError
	if !errors.As(err, &hl) || hl.Bytes != 65537*page {
		t.Fatalf("grow past 4 GiB: %v, want HeapLimitError for %d bytes", err, 65537*page)
	}
	if !strings.Contains(err.Error(), "canscope runs wasm64 heaps up to 4 GiB") {
		t.Errorf("error %q does not say canscope's limit", err)
	}
	res, err := mi.mod.ExportedFunction("grow").Call(ctx, 294912)
	if err != nil || int64(res[0]) != -1 {
		t.Errorf("grow past the IC's 18 GiB: %v %v, want -1 as on the IC", res, err)
	}

	// A declared maximum above 4 GiB: growing past 4 GiB within it is
	// refused by canscope, past it fails with -1 as on the IC.
	m = loadModule(t, "testdata/mem64.wasm")
	mems = append([]wasm.Limits(nil), m.Memories...)
	mems[0].Max, mems[0].HasMax = 100000, true
	m.SetMemories(mems)
	mi = instantiateMetered(ctx, t, m, 1<<40)
	if res, err := mi.mod.ExportedFunction("grow").Call(ctx, 100000); err != nil || int64(res[0]) != -1 {
		t.Errorf("grow past the declared 100,000 pages: %v %v, want -1", res, err)
	}
	if _, err := mi.mod.ExportedFunction("grow").Call(ctx, 70000); !errors.As(err, &hl) {
		t.Errorf("grow to 70,001 of 100,000 declared pages: %v, want HeapLimitError", err)
	}
}
