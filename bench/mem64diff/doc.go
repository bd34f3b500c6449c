// Package mem64diff is the differential test of canscope's memory64
// lowering (engine/meter/lower64.go) against wasmtime, the replica's
// engine, which runs memory64 natively: the original wasm64 module on
// wasmtime, the lowered one on wazero as canscope runs it, compared
// call by call (results, traps, memory).
//
// It is a module of its own so that the main module gains no cgo
// (wasmtime is a C library); `go test ./...` at the repository root does
// not enter it, .ci/run runs it:
//
//	cd bench/mem64diff && go test ./...
package mem64diff
