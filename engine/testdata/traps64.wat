;; wat2wasm-flags: --enable-memory64
;; traps64: a wasm64 canister (memory64, the System API with I = i64) for
;; engine/mem64_test.go: out-of-range 64-bit addresses must trap as on the
;; replica, in wasm code and in System API arguments.
;;   canister_update touch          bumps the counter at heap 0, replies it (u64)
;;   canister_update load_wide      i64.load at 2^32+8      -> "heap out of bounds"
;;   canister_update store_wide     i64.store at 2^64-8     -> "heap out of bounds"
;;   canister_update load_edge      i64.load at 2^16-8 (the last word): replies it
;;   canister_update load_past      i64.load at 2^16-7      -> "heap out of bounds"
;;   canister_update fill_wide      memory.fill at 2^32     -> "heap out of bounds"
;;   canister_update reply_wide     msg_reply_data_append(2^32, 8): the replica's range check
;;   canister_update arg_wide       msg_arg_data_copy(0, 2^32, 1): the payload's range check
;;   canister_update grow_past_4g   memory.grow(65536): the IC grows to 4 GiB + 64 KiB, canscope stops
;;   canister_query  echo           replies its argument (the I = i64 copy path)
(module
  (import "ic0" "msg_reply" (func $ic0.msg_reply))
  (import "ic0" "msg_reply_data_append" (func $ic0.msg_reply_data_append (param i64 i64)))
  (import "ic0" "msg_arg_data_size" (func $ic0.msg_arg_data_size (result i64)))
  (import "ic0" "msg_arg_data_copy" (func $ic0.msg_arg_data_copy (param i64 i64 i64)))
  (memory (export "memory") i64 1)

  (func $touch
    (i64.store (i64.const 0) (i64.add (i64.load (i64.const 0)) (i64.const 1))))
  (func $reply_u64 (param $v i64)
    (i64.store (i64.const 8) (local.get $v))
    (call $ic0.msg_reply_data_append (i64.const 8) (i64.const 8))
    (call $ic0.msg_reply))

  (func (export "canister_update touch")
    (call $touch)
    (call $reply_u64 (i64.load (i64.const 0))))
  (func (export "canister_update load_wide")
    (call $touch)
    (call $reply_u64 (i64.load (i64.const 0x100000008))))
  (func (export "canister_update store_wide")
    (call $touch)
    (i64.store (i64.const -8) (i64.const 1))
    (call $reply_u64 (i64.const 0)))
  (func (export "canister_update load_edge")
    (call $reply_u64 (i64.load (i64.const 65528))))
  (func (export "canister_update load_past")
    (call $touch)
    (call $reply_u64 (i64.load (i64.const 65529))))
  (func (export "canister_update fill_wide")
    (call $touch)
    (memory.fill (i64.const 0x100000000) (i32.const 1) (i64.const 0))
    (call $reply_u64 (i64.const 0)))
  (func (export "canister_update reply_wide")
    (call $touch)
    (call $ic0.msg_reply_data_append (i64.const 0x100000000) (i64.const 8))
    (call $ic0.msg_reply))
  (func (export "canister_update arg_wide")
    (call $touch)
    (call $ic0.msg_arg_data_copy (i64.const 0) (i64.const 0x100000000) (i64.const 1))
    (call $reply_u64 (i64.const 0)))
  (func (export "canister_update grow_past_4g")
    (call $touch)
    (call $reply_u64 (memory.grow (i64.const 65536))))
  (func (export "canister_query echo")
    (local $n i64)
    (local.set $n (call $ic0.msg_arg_data_size))
    (call $ic0.msg_arg_data_copy (i64.const 64) (i64.const 0) (local.get $n))
    (call $ic0.msg_reply_data_append (i64.const 64) (local.get $n))
    (call $ic0.msg_reply))
)
