;; post_trap: an upgrade target whose post_upgrade changes stable memory
;; and then traps, so the whole upgrade (including the old module's
;; pre_upgrade) must roll back.
(module
  (import "ic0" "stable64_grow" (func $ic0.stable64_grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $ic0.stable64_write (param i64 i64 i64)))
  (memory 1)
  (data (i32.const 0) "post_trap")
  (func $post_upgrade
    (drop (call $ic0.stable64_grow (i64.const 2)))
    (call $ic0.stable64_write (i64.const 0) (i64.const 0) (i64.const 9))
    (unreachable))
  (export "canister_post_upgrade" (func $post_upgrade)))
