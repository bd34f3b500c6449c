;; start: a module with a start function and data segments, to check that
;; the start function runs on install and upgrade only, and that restoring
;; a snapshot applies neither it nor the data segments.
;;   (start)               increments the i32 at 0x10 (data: 0) and the
;;                         global $starts
;;   canister_query starts replies u32 heap[0x10], u32 $starts, u32 heap[0x20]
;;   canister_update poke  writes 0x77 at 0x20 (over the data segment "DATA")
;;   canister_update silent writes 0x55 at 0x20 and returns without replying
(module
  (import "ic0" "msg_reply_data_append" (func $ic0.msg_reply_data_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $ic0.msg_reply))
  (memory 1)
  (global $starts (mut i32) (i32.const 0))
  (data (i32.const 0x20) "DATA")
  (func $start
    (i32.store (i32.const 0x10) (i32.add (i32.load (i32.const 0x10)) (i32.const 1)))
    (global.set $starts (i32.add (global.get $starts) (i32.const 1))))
  (start $start)
  (func $query_starts
    (i32.store (i32.const 0x100) (i32.load (i32.const 0x10)))
    (i32.store (i32.const 0x104) (global.get $starts))
    (i32.store (i32.const 0x108) (i32.load (i32.const 0x20)))
    (call $ic0.msg_reply_data_append (i32.const 0x100) (i32.const 12))
    (call $ic0.msg_reply))
  (func $poke
    (i32.store (i32.const 0x20) (i32.const 0x77))
    (call $ic0.msg_reply))
  (func $silent
    (i32.store (i32.const 0x20) (i32.const 0x55)))
  (export "canister_update silent" (func $silent))
  (export "canister_query starts" (func $query_starts))
  (export "canister_update poke" (func $poke)))
