;; memory64: a module with a 64-bit memory, like Motoko's enhanced
;; orthogonal persistence produces; Load must refuse it.
;; wat2wasm-flags: --enable-memory64
(module
  (memory i64 1)
  (func (export "canister_update f")))
