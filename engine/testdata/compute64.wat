;; wat2wasm-flags: --enable-memory64
;; compute64: compute.wat as a wasm64 module (memory64, the System API with
;; I = i64, heap addresses and the loop counter of mix_region in i64), for
;; BenchmarkComputeWasm64: the same loops in both modes measure the cost
;; of the memory64 lowering (meter/lower64.go). Methods as compute.wat's.
;;
;; compute: integer work for metering and compiler-vs-interpreter benchmarks.
;;
;; Methods (raw arguments, little-endian):
;;   canister_update run(iterations u32, default 1000)
;;       mixes a 64 KiB heap region (0x10000..0x20000, 8192 u64 words) in
;;       place: iteration i reads word i mod 8192, mixes it into the running
;;       accumulator (global $acc) and stores the result back. Touches at
;;       most 16 heap pages (4 KiB). Replies u64 $acc.
;;   canister_update burn(iterations u32, default 1000)
;;       the same mixing on registers only (no memory traffic, no state
;;       change); replies the u64 checksum.
;;   canister_query  burn_query(iterations u32)   burn as a query
;;   canister_query  checksum                      replies u64 $acc
;; Each iteration executes about 20 wasm instructions, so iterations x 20 is
;; a fair estimate of the instruction count.
(module
  (import "ic0" "msg_arg_data_size" (func $ic0.msg_arg_data_size (result i64)))
  (import "ic0" "msg_arg_data_copy" (func $ic0.msg_arg_data_copy (param i64 i64 i64)))
  (import "ic0" "msg_reply_data_append" (func $ic0.msg_reply_data_append (param i64 i64)))
  (import "ic0" "msg_reply" (func $ic0.msg_reply))

  (memory (export "memory") i64 2)
  (global $acc (mut i64) (i64.const 0x243f6a8885a308d3))

  (func $iterations (result i32)
    (if (i64.lt_u (call $ic0.msg_arg_data_size) (i64.const 4))
      (then (return (i32.const 1000))))
    (call $ic0.msg_arg_data_copy (i64.const 0x100) (i64.const 0) (i64.const 4))
    (i32.load (i64.const 0x100)))

  (func $reply_u64 (param $v i64)
    (i64.store (i64.const 0x108) (local.get $v))
    (call $ic0.msg_reply_data_append (i64.const 0x108) (i64.const 8))
    (call $ic0.msg_reply))

  ;; fmix64 from MurmurHash3: cheap, branch-free, and every bit matters.
  (func $mix (param $x i64) (result i64)
    (local.set $x (i64.mul (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 33)))
                           (i64.const 0xff51afd7ed558ccd)))
    (local.set $x (i64.mul (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 33)))
                           (i64.const 0xc4ceb9fe1a85ec53)))
    (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 33))))

  (func $mix_region (param $n i32) (result i64)
    (local $i i64) (local $addr i64) (local $x i64) (local $n64 i64)
    (local.set $x (global.get $acc))
    (local.set $n64 (i64.extend_i32_u (local.get $n)))
    (block $done
      (loop $each
        (br_if $done (i64.ge_u (local.get $i) (local.get $n64)))
        (local.set $addr (i64.add (i64.const 0x10000)
                                  (i64.and (i64.shl (local.get $i) (i64.const 3)) (i64.const 0xfff8))))
        (local.set $x (call $mix (i64.xor (local.get $x) (i64.load (local.get $addr)))))
        (i64.store (local.get $addr) (local.get $x))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $each)))
    (local.get $x))

  (func $spin (param $n i32) (result i64)
    (local $i i32) (local $x i64)
    (local.set $x (i64.const 0x13198a2e03707344))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x (call $mix (i64.add (local.get $x) (i64.extend_i32_u (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (local.get $x))

  (func $run
    (global.set $acc (call $mix_region (call $iterations)))
    (call $reply_u64 (global.get $acc)))

  (func $burn
    (call $reply_u64 (call $spin (call $iterations))))

  (func $checksum
    (call $reply_u64 (global.get $acc)))

  (export "canister_update run" (func $run))
  (export "canister_update burn" (func $burn))
  (export "canister_query burn_query" (func $burn))
  (export "canister_query checksum" (func $checksum))
)
