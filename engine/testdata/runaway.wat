;; runaway: a tight endless loop, (loop (br 0)), in every entry point the
;; engine runs, for the test that each stops at its instruction limit in
;; seconds (issue 21 item 2).
;;
;; Methods (raw bytes):
;;   canister_update spin            loops forever (update limit)
;;   canister_query  spin_query      loops forever (query limit)
;;   canister_global_timer           loops forever (update limit)
;;   canister_update arm(mode u8)    stores mode at stable offset 0 and replies;
;;                                   mode 1: pre_upgrade loops, 2: the start
;;                                   function loops, 3: post_upgrade loops (each
;;                                   under the install limit, during an upgrade).
;; The start function, pre_upgrade and post_upgrade return at once in mode 0,
;; so the module installs normally.
(module
  (import "ic0" "msg_arg_data_copy" (func $ic0.msg_arg_data_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply" (func $ic0.msg_reply))
  (import "ic0" "stable64_size" (func $ic0.stable64_size (result i64)))
  (import "ic0" "stable64_grow" (func $ic0.stable64_grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $ic0.stable64_write (param i64 i64 i64)))
  (import "ic0" "stable64_read" (func $ic0.stable64_read (param i64 i64 i64)))

  (memory (export "memory") 1)

  (func $spin (loop $forever (br $forever)))

  ;; mode: stable byte 0, 0 without stable memory.
  (func $mode (result i32)
    (if (i64.eqz (call $ic0.stable64_size)) (then (return (i32.const 0))))
    (call $ic0.stable64_read (i64.const 0x100) (i64.const 0) (i64.const 1))
    (i32.load8_u (i32.const 0x100)))

  (func $spin_in (param $mode i32)
    (if (i32.eq (call $mode) (local.get $mode)) (then (call $spin))))

  (func $arm
    (call $ic0.msg_arg_data_copy (i32.const 0x100) (i32.const 0) (i32.const 1))
    (if (i64.eqz (call $ic0.stable64_size))
      (then (drop (call $ic0.stable64_grow (i64.const 1)))))
    (call $ic0.stable64_write (i64.const 0) (i64.const 0x100) (i64.const 1))
    (call $ic0.msg_reply))

  (func $start (call $spin_in (i32.const 2)))
  (func $pre_upgrade (call $spin_in (i32.const 1)))
  (func $post_upgrade (call $spin_in (i32.const 3)))

  (start $start)
  (export "canister_update spin" (func $spin))
  (export "canister_query spin_query" (func $spin))
  (export "canister_global_timer" (func $spin))
  (export "canister_update arm" (func $arm))
  (export "canister_pre_upgrade" (func $pre_upgrade))
  (export "canister_post_upgrade" (func $post_upgrade))
)
