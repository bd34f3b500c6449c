module github.com/canscope/canscope/bench/mem64diff

go 1.26.7

require (
	github.com/bytecodealliance/wasmtime-go/v39 v39.0.1
	github.com/canscope/canscope v0.0.0
	github.com/tetratelabs/wazero v1.12.0
)

require (
	github.com/ianlancetaylor/demangle v0.0.0-20260724033716-83e58baca724 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/canscope/canscope => ../..
