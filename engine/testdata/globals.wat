;; globals: a canister whose state lives in globals of every kind the
;; replica's snapshot list distinguishes, for the tests that export derived
;; snapshots (rs/execution_environment/tests/canister_snapshots.rs:
;; take_download_upload_load_snapshot_roundtrip_one_global).
;;
;; Globals by index, and where they land in a snapshot's globals list (the
;; module's exported globals in export order, then every other mutable
;; global in index order, no instruction counter):
;;   0 $version  i32 immutable, exported as "version"   -> list entry 1
;;   1 $calls    i32 mutable, not exported              -> list entry 2
;;   2 $ratio    f64 mutable, exported as "ratio"       -> list entry 0 (exported first)
;;   3 $scratch  i32 immutable, not exported            -> not listed
;;   4 $total    i64 mutable, not exported              -> list entry 3 (the last is an i64)
;;
;; Methods (raw little-endian arguments):
;;   canister_init          $total = u64 argument (default 0)
;;   canister_update inc    $calls += 1, $ratio += 0.5, $total += 1000; replies u64 $total
;;   canister_query  get    replies u64 $total
;;   canister_post_upgrade  $total = 7 (heap and globals were discarded)
(module
  (import "ic0" "msg_arg_data_size" (func $ic0.msg_arg_data_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $ic0.msg_arg_data_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $ic0.msg_reply_data_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $ic0.msg_reply))

  (memory (export "memory") 1)
  (global $version i32 (i32.const 3))
  (global $calls (mut i32) (i32.const 0))
  (global $ratio (mut f64) (f64.const 1.5))
  (global $scratch i32 (i32.const 9))
  (global $total (mut i64) (i64.const 0))

  (func $reply_total
    (i64.store (i32.const 0x100) (global.get $total))
    (call $ic0.msg_reply_data_append (i32.const 0x100) (i32.const 8))
    (call $ic0.msg_reply))

  (func $init
    (if (i32.ge_u (call $ic0.msg_arg_data_size) (i32.const 8))
      (then
        (call $ic0.msg_arg_data_copy (i32.const 0x100) (i32.const 0) (i32.const 8))
        (global.set $total (i64.load (i32.const 0x100))))))

  (func $inc
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (global.set $ratio (f64.add (global.get $ratio) (f64.const 0.5)))
    (global.set $total (i64.add (global.get $total) (i64.const 1000)))
    (call $reply_total))

  (func $get (call $reply_total))

  (func $post_upgrade (global.set $total (i64.const 7)))

  (export "ratio" (global $ratio))
  (export "version" (global $version))
  (export "canister_init" (func $init))
  (export "canister_update inc" (func $inc))
  (export "canister_query get" (func $get))
  (export "canister_post_upgrade" (func $post_upgrade))
)
