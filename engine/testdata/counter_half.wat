;; counter_half: counter.wat with a post_upgrade bug. It reads the saved
;; value back into the heap (0x100) but forgets the global $count, so after
;; an upgrade onto it the two disagree and the query `get` traps with
;; "counter: global and heap disagree" although the upgrade itself
;; succeeds: the case `canscope upgrade --verify` exists for.
;;
;; Methods as counter.wat; only canister_post_upgrade differs.
;; wat2wasm-flags: --enable-annotations
(module
  (@custom "icp:public git_commit_id" "0123456789abcdef0123456789abcdef01234567")
  (@custom "icp:private canscope:note" "counter_half fixture: post_upgrade restores the heap only")
  (import "ic0" "msg_arg_data_size" (func $ic0.msg_arg_data_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $ic0.msg_arg_data_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $ic0.msg_reply_data_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $ic0.msg_reply))
  (import "ic0" "trap" (func $ic0.trap (param i32 i32)))
  (import "ic0" "stable64_size" (func $ic0.stable64_size (result i64)))
  (import "ic0" "stable64_grow" (func $ic0.stable64_grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $ic0.stable64_write (param i64 i64 i64)))
  (import "ic0" "stable64_read" (func $ic0.stable64_read (param i64 i64 i64)))

  (memory (export "memory") 1)
  (global $count (mut i64) (i64.const 0))

  ;; 0x100: the counter; 0x108: scratch for arguments and replies.
  (data (i32.const 0x200) "counter: global and heap disagree")
  (data (i32.const 0x240) "counter: stable memory grow failed")

  ;; $arg_u64 returns the u64 argument, or $default when the argument is
  ;; shorter than 8 bytes.
  (func $arg_u64 (param $default i64) (result i64)
    (if (i32.lt_u (call $ic0.msg_arg_data_size) (i32.const 8))
      (then (return (local.get $default))))
    (call $ic0.msg_arg_data_copy (i32.const 0x108) (i32.const 0) (i32.const 8))
    (i64.load (i32.const 0x108)))

  (func $store (param $v i64)
    (global.set $count (local.get $v))
    (i64.store (i32.const 0x100) (local.get $v)))

  (func $reply_u64 (param $v i64)
    (i64.store (i32.const 0x108) (local.get $v))
    (call $ic0.msg_reply_data_append (i32.const 0x108) (i32.const 8))
    (call $ic0.msg_reply))

  (func $init
    (call $store (call $arg_u64 (i64.const 0))))

  (func $inc
    (call $store (i64.add (global.get $count) (call $arg_u64 (i64.const 1))))
    (call $reply_u64 (global.get $count)))

  (func $get
    (if (i64.ne (global.get $count) (i64.load (i32.const 0x100)))
      (then (call $ic0.trap (i32.const 0x200) (i32.const 33))))
    (call $reply_u64 (i64.load (i32.const 0x100))))

  (func $pre_upgrade
    (if (i64.eqz (call $ic0.stable64_size))
      (then
        (if (i64.lt_s (call $ic0.stable64_grow (i64.const 1)) (i64.const 0))
          (then (call $ic0.trap (i32.const 0x240) (i32.const 34))))))
    (call $ic0.stable64_write (i64.const 0) (i64.const 0x100) (i64.const 8)))

  (func $post_upgrade
    (if (i64.eqz (call $ic0.stable64_size))
      (then (return)))
    (call $ic0.stable64_read (i64.const 0x100) (i64.const 0) (i64.const 8)))

  (export "canister_init" (func $init))
  (export "canister_update inc" (func $inc))
  (export "canister_query get" (func $get))
  (export "canister_pre_upgrade" (func $pre_upgrade))
  (export "canister_post_upgrade" (func $post_upgrade))
)
