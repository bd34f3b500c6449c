package engine

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/canscope/canscope/engine/wasm"
)

// slowModule returns counter.wasm with many large functions added, a
// module whose compilation takes seconds.
func slowModule(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "counter.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := wasm.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	typ := m.AddType(wasm.FuncType{Params: []wasm.ValueType{wasm.I64}, Results: []wasm.ValueType{wasm.I64}})
	// Each body: ((x * 3) ^ x) + 1 on the parameter, 5,000 times.
	var ins []wasm.Instr
	for range 5000 {
		ins = append(ins,
			wasm.Instr{Op: wasm.OpLocalGet, Index: 0}, wasm.Instr{Op: wasm.OpI64Const, Value: 3}, wasm.Instr{Op: 0x7e}, // i64.mul
			wasm.Instr{Op: wasm.OpLocalGet, Index: 0}, wasm.Instr{Op: 0x85}, // i64.xor
			wasm.Instr{Op: wasm.OpI64Const, Value: 1}, wasm.Instr{Op: wasm.OpI64Add},
			wasm.Instr{Op: wasm.OpLocalSet, Index: 0})
	}
	ins = append(ins, wasm.Instr{Op: wasm.OpLocalGet, Index: 0}, wasm.Instr{Op: wasm.OpEnd})
	body := (&wasm.Body{Instrs: ins}).Encode()
	funcs, code := m.Functions, m.Code
	for range 20 {
		funcs = append(funcs, typ)
		code = append(code, wasm.Code{Body: body})
	}
	m.SetFunctions(funcs)
	m.SetCode(code)
	return m.Encode()
}

// TestLoadCancelled: Ctrl+C during a long compile returns at once with the
// cancellation (wazero cannot stop the compile; it finishes unseen), and
// the engine closes normally.
func TestLoadCancelled(t *testing.T) {
	code := slowModule(t)
	e := newEngine(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := e.Load(ctx, code)
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Load returned %v, want context.Canceled", err)
	}
	t.Logf("Load returned %v after the cancel", took-20*time.Millisecond)
	// The same module compiles when not cancelled (how long the cancelled
	// compile would have taken).
	start = time.Now()
	mod, err := e.Load(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	mod.Close(context.Background())
	full := time.Since(start)
	t.Logf("a full compile takes %v", full)
	if took >= full {
		t.Errorf("the cancelled Load took %v, as long as a full compile (%v)", took, full)
	}
}

// TestCompilationCacheDir: with Config.CacheDir, a module compiled by one
// engine is read back by the next (the CLI's commands share
// $XDG_CACHE_HOME/canscope), so a slow module compiles once.
func TestCompilationCacheDir(t *testing.T) {
	dir := t.TempDir()
	code := slowModule(t)
	load := func() {
		e := newEngine(t, Config{CacheDir: dir})
		mod, err := e.Load(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		mod.Close(context.Background())
	}
	load()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("cache directory after a compile: %d entries, %v", len(entries), err)
	}
	before := cacheFiles(t, dir)
	load()
	// A hit reads the entry; a miss would compile and write it again.
	if after := cacheFiles(t, dir); !maps.Equal(before, after) {
		t.Errorf("the second engine wrote the cache again (a miss): %v, then %v", before, after)
	}
}

// cacheFiles maps every file under dir to its modification time.
func cacheFiles(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	out := make(map[string]time.Time)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[path] = info.ModTime()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
