package engine

import (
	"context"
	"os"
	"testing"
)

// BenchmarkLoadRustLedger is engine.Load (the replica's validation, the
// preparation and the compile) of the largest real fixture, a 440 KB Rust
// canister built by rustc: what every command pays per module.
func BenchmarkLoadRustLedger(b *testing.B) {
	ctx := context.Background()
	code, err := os.ReadFile("testdata/rust_ledger_v0.wasm")
	if err != nil {
		b.Fatal(err)
	}
	e := newEngine(b, Config{})
	b.SetBytes(int64(len(code)))
	for b.Loop() {
		m, err := e.Load(ctx, code)
		if err != nil {
			b.Fatal(err)
		}
		m.Close(ctx)
	}
}
