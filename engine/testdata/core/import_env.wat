;; import_env: imports a function from a module the IC does not provide.
(module
  (import "env" "abort" (func $abort))
  (memory 1)
  (func (export "canister_update f") (call $abort)))
