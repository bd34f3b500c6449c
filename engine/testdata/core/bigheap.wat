;; bigheap: a canister with a large heap, for the copy-on-write heap
;; benchmarks (engine/bench_test.go). Raw little-endian arguments.
;;
;;   canister_init            arg u32 pages: grows the heap to that many
;;                            64 KiB pages and fills every byte with 0xa5,
;;                            so the whole heap is committed data
;;   canister_update touch    arg u32 n: writes one byte into each of n
;;                            distinct 4 KiB pages, spread over the heap
;;                            (stride = heap size / n); replies nothing
;;   canister_update touch_trap  the same, then traps (rolled back)
(module
  (import "ic0" "msg_arg_data_size" (func $ic0.msg_arg_data_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $ic0.msg_arg_data_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply" (func $ic0.msg_reply))

  (memory 1)
  (global $round (mut i32) (i32.const 0))

  (func $arg (result i32)
    (if (i32.lt_u (call $ic0.msg_arg_data_size) (i32.const 4))
      (then (return (i32.const 0))))
    (call $ic0.msg_arg_data_copy (i32.const 0) (i32.const 0) (i32.const 4))
    (i32.load (i32.const 0)))

  (func $init
    (local $pages i32)
    (local.set $pages (call $arg))
    (if (i32.gt_u (local.get $pages) (i32.const 1))
      (then (drop (memory.grow (i32.sub (local.get $pages) (i32.const 1))))))
    (memory.fill (i32.const 0) (i32.const 0xa5)
      (i32.shl (memory.size) (i32.const 16))))

  ;; $touch writes round+1 into n pages spread over the heap.
  (func $touch
    (local $n i32) (local $stride i32) (local $i i32) (local $addr i32)
    (local.set $n (call $arg))
    (if (i32.eqz (local.get $n)) (then (return)))
    (global.set $round (i32.add (global.get $round) (i32.const 1)))
    ;; stride in 4 KiB pages, at least 1
    (local.set $stride (i32.div_u (i32.shl (memory.size) (i32.const 4)) (local.get $n)))
    (if (i32.eqz (local.get $stride)) (then (local.set $stride (i32.const 1))))
    (local.set $stride (i32.shl (local.get $stride) (i32.const 12)))
    (local.set $addr (i32.const 4096))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (local.get $addr) (global.get $round))
        (local.set $addr (i32.add (local.get $addr) (local.get $stride)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  (func $update_touch
    (call $touch)
    (call $ic0.msg_reply))

  (func $update_touch_trap
    (call $touch)
    (unreachable))

  (export "canister_init" (func $init))
  (export "canister_update touch" (func $update_touch))
  (export "canister_update touch_trap" (func $update_touch_trap))
)
