// Package wasm reads and writes WebAssembly binary modules at the level the
// canscope engine needs: sections, their decoded contents, function bodies as
// instruction streams, and the small rewrites the Internet Computer replica
// applies before running a canister.
//
// A parsed Module keeps every section's bytes, so encoding an unmodified
// module reproduces its input byte for byte. Decoded fields are a read-only
// view; change a module only through its Set* methods, which re-encode the
// affected section and keep the view and the bytes consistent.
package wasm
