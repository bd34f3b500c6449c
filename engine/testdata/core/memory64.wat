;; memory64: a module with a 64-bit memory, like Motoko's enhanced
;; orthogonal persistence produces; Load lowers it to 32-bit memory (a
;; heap above 4 GiB is refused: module_test.go).
;; wat2wasm-flags: --enable-memory64
(module
  (memory i64 1)
  (func (export "canister_update f")))
