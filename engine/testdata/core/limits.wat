;; limits: exercises the replica's per-execution limits and charges.
;; Updates take a little-endian u64 argument n (read into heap[0..8]).
;;   canister_update dirty2       stores into heap pages 1 and 2, replies
;;   canister_update stable_write grows stable memory to hold n bytes, writes
;;                                heap[0..n) to stable offset 0, replies
;;   canister_update stable_read  reads n bytes of stable memory at 0 into
;;                                the heap at 0, replies
;;   canister_update write_trap   writes n bytes like stable_write, traps
;;   canister_update grow         memory.grow by n pages, replies
;;   canister_update fill         memory.fill of n bytes at 0, replies
;;   canister_query  print_loop   debug_print of 4 KiB at 0, n times, replies
;;   canister_update big_trap     grows the heap by n pages, traps with all of
;;                                it as the message
;;   canister_query  stable_read  as the update, as a query
;;   canister_pre_upgrade         writes n bytes (n from heap[8..16], set by
;;                                set_upgrade_write) to stable memory
;;   canister_update set_upgrade_write  stores n at heap[8]
(module
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "stable64_grow" (func $stable64_grow (param i64) (result i64)))
  (import "ic0" "stable64_size" (func $stable64_size (result i64)))
  (import "ic0" "stable64_write" (func $stable64_write (param i64 i64 i64)))
  (import "ic0" "stable64_read" (func $stable64_read (param i64 i64 i64)))
  (import "ic0" "debug_print" (func $debug_print (param i32 i32)))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (memory 1)
  (func $n (result i64)
    (call $arg_copy (i32.const 0) (i32.const 0) (i32.const 8))
    (i64.load (i32.const 0)))
  (func $ensure_stable (param $bytes i64)
    (local $want i64)
    (local.set $want (i64.div_u (i64.add (local.get $bytes) (i64.const 65535)) (i64.const 65536)))
    (if (i64.gt_u (local.get $want) (call $stable64_size))
      (then (drop (call $stable64_grow (i64.sub (local.get $want) (call $stable64_size)))))))
  (func $write (param $bytes i64)
    (call $ensure_stable (local.get $bytes))
    (call $stable64_write (i64.const 0) (i64.const 0) (local.get $bytes)))
  (func (export "canister_update dirty2")
    (i64.store (i32.const 4096) (i64.const 17))
    (i64.store (i32.const 8192) (i64.const 117))
    (call $reply))
  (func (export "canister_update stable_write")
    (call $write (call $n))
    (call $reply))
  (func $read
    (call $stable64_read (i64.const 0) (i64.const 0) (call $n))
    (call $reply))
  (export "canister_update stable_read" (func $read))
  (export "canister_query stable_read_query" (func $read))
  (func (export "canister_update write_trap")
    (call $write (call $n))
    unreachable)
  (func (export "canister_update grow")
    (drop (memory.grow (i32.wrap_i64 (call $n))))
    (call $reply))
  (func (export "canister_update fill")
    (memory.fill (i32.const 0) (i32.const 0) (i32.wrap_i64 (call $n)))
    (call $reply))
  (func (export "canister_query print_loop")
    (local $i i64) (local $n i64)
    (local.set $n (call $n))
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (call $debug_print (i32.const 0) (i32.const 4096))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $next)))
    (call $reply))
  (func (export "canister_update big_trap")
    (local $pages i32)
    (local.set $pages (i32.wrap_i64 (call $n)))
    (drop (memory.grow (local.get $pages)))
    (call $trap (i32.const 0) (i32.shl (local.get $pages) (i32.const 16))))
  (func (export "canister_update set_upgrade_write")
    (i64.store (i32.const 8) (call $n))
    (call $reply))
  (func (export "canister_pre_upgrade")
    (call $write (i64.load (i32.const 8)))))
