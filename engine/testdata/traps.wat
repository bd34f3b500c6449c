;; traps: one update method per way a message can fail, for rollback tests.
;;
;; Every failing method first calls $touch, which changes all kinds of state:
;;   - global $touches += 1 (mutable i64),
;;   - heap: grows the heap by one 64 KiB page (heap size changes) and writes
;;     the new touch count at 0x100 and into the first 8 bytes of the new page,
;;   - stable memory: grows to 1 page when empty, writes the touch count at
;;     stable offset 0 and at offset 60000 (both inside the first stable page),
;; then fails. After a trap the engine must show none of it: same globals,
;; heap bytes and size, stable bytes and size.
;;
;; Methods (raw bytes; numbers little-endian):
;;   canister_update touch           changes state as above; replies u64 touch count
;;   canister_query  state           replies u64 global $touches, u64 heap[0x100], u64 heap
;;                                   pages, u64 stable pages (32 bytes), followed by u64
;;                                   stable[0..8] when stable memory is not empty (40 bytes)
;;   canister_update unreachable     `unreachable`                 -> "unreachable"
;;   canister_update div_zero        i64.div_u by 0                -> "integer division by 0"
;;   canister_update heap_oob        i64.load at 0xfffffff0        -> "heap out of bounds"
;;   canister_update ic0_trap        ic0.trap("traps: explicit ic0.trap after touching state")
;;   canister_update stable_oob      stable64_read past the end    -> "stable memory out of bounds"
;;   canister_update stable32_oob    stable_read past the end (32-bit API)
;;   canister_update infinite_loop   loops forever                 -> instruction limit
;;   canister_update stack_overflow  unbounded recursion           -> call stack exhausted
;;   canister_update reply_then_trap replies, then traps: the reply is discarded too
;;   canister_update reject          msg_reject("traps: rejected on purpose") after
;;                                   touching: NOT a trap, so the state changes are KEPT
(module
  (import "ic0" "msg_reply_data_append" (func $ic0.msg_reply_data_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $ic0.msg_reply))
  (import "ic0" "msg_reject" (func $ic0.msg_reject (param i32 i32)))
  (import "ic0" "trap" (func $ic0.trap (param i32 i32)))
  (import "ic0" "stable_read" (func $ic0.stable_read (param i32 i32 i32)))
  (import "ic0" "stable64_size" (func $ic0.stable64_size (result i64)))
  (import "ic0" "stable64_grow" (func $ic0.stable64_grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $ic0.stable64_write (param i64 i64 i64)))
  (import "ic0" "stable64_read" (func $ic0.stable64_read (param i64 i64 i64)))

  (memory (export "memory") 1)
  (global $touches (mut i64) (i64.const 0))
  ;; Keeps $deep from being optimised into a loop by any engine: each frame
  ;; does real work with the result of the next.
  (global $depth (mut i64) (i64.const 0))

  (data (i32.const 0x200) "traps: explicit ic0.trap after touching state")
  (data (i32.const 0x240) "traps: rejected on purpose")
  (data (i32.const 0x260) "traps: heap or stable grow failed")
  (data (i32.const 0x290) "traps: trap after reply")

  ;; 0x100: touch count copy. 0x108..0x130: reply scratch.

  (func $touch
    (local $page i32)
    (global.set $touches (i64.add (global.get $touches) (i64.const 1)))
    (i64.store (i32.const 0x100) (global.get $touches))
    (local.set $page (memory.grow (i32.const 1)))
    (if (i32.lt_s (local.get $page) (i32.const 0))
      (then (call $ic0.trap (i32.const 0x260) (i32.const 33))))
    (i64.store (i32.shl (local.get $page) (i32.const 16)) (global.get $touches))
    (if (i64.eqz (call $ic0.stable64_size))
      (then
        (if (i64.lt_s (call $ic0.stable64_grow (i64.const 1)) (i64.const 0))
          (then (call $ic0.trap (i32.const 0x260) (i32.const 33))))))
    (call $ic0.stable64_write (i64.const 0) (i64.const 0x100) (i64.const 8))
    (call $ic0.stable64_write (i64.const 60000) (i64.const 0x100) (i64.const 8)))

  (func $reply_u64 (param $v i64)
    (i64.store (i32.const 0x108) (local.get $v))
    (call $ic0.msg_reply_data_append (i32.const 0x108) (i32.const 8)))

  (func $touch_method
    (call $touch)
    (call $reply_u64 (global.get $touches))
    (call $ic0.msg_reply))

  (func $state
    (call $reply_u64 (global.get $touches))
    (call $reply_u64 (i64.load (i32.const 0x100)))
    (call $reply_u64 (i64.extend_i32_u (memory.size)))
    (call $reply_u64 (call $ic0.stable64_size))
    (if (i64.ne (call $ic0.stable64_size) (i64.const 0))
      (then
        (call $ic0.stable64_read (i64.const 0x120) (i64.const 0) (i64.const 8))
        (call $ic0.msg_reply_data_append (i32.const 0x120) (i32.const 8))))
    (call $ic0.msg_reply))

  (func $unreachable
    (call $touch)
    (unreachable))

  (func $divide (param $a i64) (param $b i64) (result i64)
    (i64.div_u (local.get $a) (local.get $b)))

  (func $div_zero
    (call $touch)
    (call $reply_u64 (call $divide (global.get $touches) (i64.const 0)))
    (call $ic0.msg_reply))

  (func $heap_oob
    (call $touch)
    (call $reply_u64 (i64.load (i32.const 0xfffffff0)))
    (call $ic0.msg_reply))

  (func $ic0_trap
    (call $touch)
    (call $ic0.trap (i32.const 0x200) (i32.const 45)))

  (func $stable_oob
    (call $touch)
    ;; stable memory is exactly one page here: read 8 bytes at 65532.
    (call $ic0.stable64_read (i64.const 0x108) (i64.const 65532) (i64.const 8))
    (call $ic0.msg_reply))

  (func $stable32_oob
    (call $touch)
    (call $ic0.stable_read (i32.const 0x108) (i32.const 65532) (i32.const 8))
    (call $ic0.msg_reply))

  (func $spin (param $x i64) (result i64)
    (loop $forever
      (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 6364136223846793005))
                             (i64.const 1442695040888963407)))
      (br $forever))
    (local.get $x))

  (func $infinite_loop
    (call $touch)
    (call $reply_u64 (call $spin (global.get $touches)))
    (call $ic0.msg_reply))

  (func $deep (param $n i64) (result i64)
    (global.set $depth (local.get $n))
    (i64.add (call $deep (i64.add (local.get $n) (i64.const 1))) (local.get $n)))

  (func $stack_overflow
    (call $touch)
    (call $reply_u64 (call $deep (i64.const 0)))
    (call $ic0.msg_reply))

  (func $reply_then_trap
    (call $touch)
    (call $reply_u64 (global.get $touches))
    (call $ic0.msg_reply)
    (call $ic0.trap (i32.const 0x290) (i32.const 23)))

  (func $reject
    (call $touch)
    (call $ic0.msg_reject (i32.const 0x240) (i32.const 26)))

  (export "canister_update touch" (func $touch_method))
  (export "canister_query state" (func $state))
  (export "canister_update unreachable" (func $unreachable))
  (export "canister_update div_zero" (func $div_zero))
  (export "canister_update heap_oob" (func $heap_oob))
  (export "canister_update ic0_trap" (func $ic0_trap))
  (export "canister_update stable_oob" (func $stable_oob))
  (export "canister_update stable32_oob" (func $stable32_oob))
  (export "canister_update infinite_loop" (func $infinite_loop))
  (export "canister_update stack_overflow" (func $stack_overflow))
  (export "canister_update reply_then_trap" (func $reply_then_trap))
  (export "canister_update reject" (func $reject))
)
