;; import_badtype: imports ic0.msg_reply with the wrong signature.
(module
  (import "ic0" "msg_reply" (func $reply (param i32)))
  (memory 1)
  (func (export "canister_update f") (call $reply (i32.const 0))))
