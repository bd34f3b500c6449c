;; import_unknown: imports an ic0 function the IC does not have.
(module
  (import "ic0" "no_such_function" (func $nope))
  (memory 1)
  (func (export "canister_update f") (call $nope)))
