module github.com/canscope/canscope/bench/wasmtime

go 1.26.7

require (
	github.com/bytecodealliance/wasmtime-go/v39 v39.0.1
	github.com/canscope/canscope v0.0.0
	golang.org/x/sys v0.50.0
)

require github.com/tetratelabs/wazero v1.12.0 // indirect

replace github.com/canscope/canscope => ../..
