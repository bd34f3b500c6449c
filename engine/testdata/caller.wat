;; caller: an update that calls another canister and uses its reply
;; (issue 20: scripted replies run callbacks offline).
;;   update fetch: pending := 1, then calls ryjl3-tyaaa-aaaaa-aaaba-cai
;;     ("get", argument `()`) with a reply, a reject and a cleanup callback;
;;     it does not reply itself.
;;   reply callback: reads (n : nat64) from the reply, value := n,
;;     pending := 0, replies (n : nat64). When n is 57005 (0xdead) it traps
;;     after writing value ("caller: bad value"): only the callback's
;;     changes roll back, pending stays 1, and the cleanup runs.
;;   reject callback: last_reject := the reject code, pending := 0, rejects
;;     with "caller: callee rejected".
;;   cleanup: cleaned += 1
;;   update fetch_self: as fetch, but calls its own method "ping" (a
;;     self-call, which canscope executes itself).
;;   update ping: replies (99 : nat64).
;;   composite query peek: as fetch, as a composite query: the callbacks
;;     run (and reply), every change is discarded.
;;   update fetch_trap: makes fetch's call, then traps ("caller: bad value"):
;;     the call is never made.
;;   query state: (value, pending, last_reject, cleaned : nat64 x 4)
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $reply_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reject" (func $reject (param i32 i32)))
  (import "ic0" "msg_reject_code" (func $reject_code (result i32)))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_on_cleanup" (func $call_on_cleanup (param i32 i32)))
  (import "ic0" "call_data_append" (func $call_data_append (param i32 i32)))
  (import "ic0" "call_perform" (func $call_perform (result i32)))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (import "ic0" "canister_self_size" (func $self_size (result i32)))
  (import "ic0" "canister_self_copy" (func $self_copy (param i32 i32 i32)))
  (type $callback (func (param i32)))
  (memory 1)
  (table 3 funcref)
  (elem (i32.const 0) $on_reply $on_reject $on_cleanup)
  ;; state: value at 0, pending at 8, last_reject at 16, cleaned at 24
  (data (i32.const 0x100) "DIDL\00\01\78")                    ;; (nat64), 7
  (data (i32.const 0x120) "DIDL\00\04\78\78\78\78")           ;; 4 x nat64, 10
  (data (i32.const 0x200) "\00\00\00\00\00\00\00\02\01\01")   ;; ryjl3-tyaaa-aaaaa-aaaba-cai
  (data (i32.const 0x210) "get")
  (data (i32.const 0x220) "DIDL\00\00")                       ;; ()
  (data (i32.const 0x230) "caller: bad value")                ;; 17
  (data (i32.const 0x250) "caller: callee rejected")          ;; 23
  (data (i32.const 0x270) "ping")

  (func (export "canister_update fetch")
    (i64.store (i32.const 8) (i64.const 1))
    (call $call_new (i32.const 0x200) (i32.const 10) (i32.const 0x210) (i32.const 3)
      (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (call $call_on_cleanup (i32.const 2) (i32.const 0))
    (call $call_data_append (i32.const 0x220) (i32.const 6))
    (drop (call $call_perform)))

  (func (export "canister_update fetch_trap")
    (call $call_new (i32.const 0x200) (i32.const 10) (i32.const 0x210) (i32.const 3)
      (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (call $call_data_append (i32.const 0x220) (i32.const 6))
    (drop (call $call_perform))
    (call $trap (i32.const 0x230) (i32.const 17)))

  (func (export "canister_update fetch_self")
    (local $n i32)
    (local.set $n (call $self_size))
    (call $self_copy (i32.const 0x280) (i32.const 0) (local.get $n))
    (i64.store (i32.const 8) (i64.const 1))
    (call $call_new (i32.const 0x280) (local.get $n) (i32.const 0x270) (i32.const 4)
      (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (call $call_on_cleanup (i32.const 2) (i32.const 0))
    (call $call_data_append (i32.const 0x220) (i32.const 6))
    (drop (call $call_perform)))

  (func (export "canister_composite_query peek")
    (i64.store (i32.const 8) (i64.const 1))
    (call $call_new (i32.const 0x200) (i32.const 10) (i32.const 0x210) (i32.const 3)
      (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (call $call_on_cleanup (i32.const 2) (i32.const 0))
    (call $call_data_append (i32.const 0x220) (i32.const 6))
    (drop (call $call_perform)))

  (func (export "canister_update ping")
    (i64.store (i32.const 0x107) (i64.const 99))
    (call $reply_append (i32.const 0x100) (i32.const 15))
    (call $reply))

  (func $on_reply (param $env i32)
    (local $n i64)
    (if (i32.ne (call $arg_size) (i32.const 15))
      (then (call $trap (i32.const 0x230) (i32.const 17))))
    (call $arg_copy (i32.const 0x400) (i32.const 0) (i32.const 15))
    (local.set $n (i64.load (i32.const 0x407)))
    (i64.store (i32.const 0) (local.get $n))
    (if (i64.eq (local.get $n) (i64.const 57005))
      (then (call $trap (i32.const 0x230) (i32.const 17))))
    (i64.store (i32.const 8) (i64.const 0))
    (i64.store (i32.const 0x107) (local.get $n))
    (call $reply_append (i32.const 0x100) (i32.const 15))
    (call $reply))

  (func $on_reject (param $env i32)
    (i64.store (i32.const 16) (i64.extend_i32_u (call $reject_code)))
    (i64.store (i32.const 8) (i64.const 0))
    (call $reject (i32.const 0x250) (i32.const 23)))

  (func $on_cleanup (param $env i32)
    (i64.store (i32.const 24) (i64.add (i64.load (i32.const 24)) (i64.const 1))))

  (func (export "canister_query state")
    (memory.copy (i32.const 0x12a) (i32.const 0) (i32.const 32))
    (call $reply_append (i32.const 0x120) (i32.const 42))
    (call $reply))
)
