;; longrun: a canister whose pre_upgrade runs about a billion instructions
;; and writes 256 MiB of heap, for the time travel benchmarks of
;; engine/trace. It fills heap pages one function call per page with
;; xorshift64 words, and every 64 pages saves a checksum to stable memory,
;; so the timeline has function, System API and grow events spread over
;; the whole run.
;;
;; canister_update set_pages (u32 n): the pre_upgrade fills n pages
;;   (default 4096 = 256 MiB); replies nothing.
;; canister_update fill (u32 n): fills n pages now, like pre_upgrade.
;; canister_query checksum: replies the u64 checksum of the last fill.
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $reply_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "stable64_size" (func $stable_size (result i64)))
  (import "ic0" "stable64_grow" (func $stable_grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $stable_write (param i64 i64 i64)))

  (memory 1)
  ;; the pages pre_upgrade fills
  (global $pages (mut i32) (i32.const 4096))
  ;; the running checksum of the filled words
  (global $sum (mut i64) (i64.const 0))

  ;; arg_u32 returns the u32 argument, or def without one.
  (func $arg_u32 (param $def i32) (result i32)
    (if (i32.lt_u (call $arg_size) (i32.const 4)) (then (return (local.get $def))))
    (call $arg_copy (i32.const 0) (i32.const 0) (i32.const 4))
    (i32.load (i32.const 0)))

  ;; fill_page writes heap page p (offset p*64 KiB) with xorshift64
  ;; words seeded by p, folding each word into $sum.
  (func $fill_page (param $p i32)
    (local $addr i32) (local $end i32) (local $x i64) (local $s i64)
    (local.set $addr (i32.shl (local.get $p) (i32.const 16)))
    (local.set $end (i32.add (local.get $addr) (i32.const 65536)))
    (local.set $x (i64.or (i64.mul (i64.extend_i32_u (i32.add (local.get $p) (i32.const 1))) (i64.const 0x9e3779b97f4a7c15)) (i64.const 1)))
    (local.set $s (global.get $sum))
    (loop $words
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
      (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
      (i64.store (local.get $addr) (local.get $x))
      (local.set $s (i64.add (i64.rotl (local.get $s) (i64.const 1)) (local.get $x)))
      (local.set $addr (i32.add (local.get $addr) (i32.const 8)))
      (br_if $words (i32.lt_u (local.get $addr) (local.get $end))))
    (global.set $sum (local.get $s)))

  ;; save_sum writes $sum to stable memory at 8*k, growing it when needed.
  (func $save_sum (param $k i32)
    (if (i64.eqz (call $stable_size))
      (then (drop (call $stable_grow (i64.const 1)))))
    (i64.store (i32.const 8) (global.get $sum))
    (call $stable_write (i64.extend_i32_u (i32.shl (local.get $k) (i32.const 3))) (i64.const 8) (i64.const 8)))

  ;; fill grows the heap to hold n pages past page 0 and fills them.
  (func $fill (param $n i32)
    (local $p i32)
    (local.set $p (i32.sub (memory.size) (i32.const 1)))
    (if (i32.lt_u (local.get $p) (local.get $n))
      (then (drop (memory.grow (i32.sub (local.get $n) (local.get $p))))))
    (global.set $sum (i64.const 0))
    (local.set $p (i32.const 0))
    (block $done
      (loop $pages
        (br_if $done (i32.ge_u (local.get $p) (local.get $n)))
        (call $fill_page (i32.add (local.get $p) (i32.const 1)))
        (if (i32.eqz (i32.and (local.get $p) (i32.const 63)))
          (then (call $save_sum (i32.shr_u (local.get $p) (i32.const 6)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pages))))

  (func $set_pages (export "canister_update set_pages")
    (global.set $pages (call $arg_u32 (i32.const 4096)))
    (call $reply))

  (func $fill_method (export "canister_update fill")
    (call $fill (call $arg_u32 (i32.const 1)))
    (call $reply))

  (func $checksum (export "canister_query checksum")
    (i64.store (i32.const 0) (global.get $sum))
    (call $reply_append (i32.const 0) (i32.const 8))
    (call $reply))

  (func $pre_upgrade (export "canister_pre_upgrade")
    (call $fill (global.get $pages))))
