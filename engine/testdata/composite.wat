;; composite: composite queries whose call graphs exercise the replica's
;; query handler rules (rs/execution_environment/src/query_handler:
;; query_context.rs, query_call_graph.rs), for engine/composite_test.go.
;; State: mark (nat64) at 0, counter (nat64) at 8.
;;   update set: mark := 3 (committed); replies ().
;;   composite query graph: mark := 1; calls ryjl3-tyaaa-aaaaa-aaaba-cai.get
;;     twice: A (reply/reject callback $a, cleanup $cleanup) then B (reply/reject
;;     callback $b). $a: mark += 10, then traps when the reply is
;;     (57005 : nat64) — only its own change is discarded; $cleanup: mark +=
;;     100; $b replies (mark : nat64): 11 when A's callback ran, 101 when it
;;     trapped and the cleanup ran.
;;   composite query first: as graph, but $a replies (mark : nat64) at once,
;;     so B is never executed (the replica drops the rest of the graph).
;;   composite query selfy: mark := 5; calls its own query "look", which
;;     replies (mark : nat64) — the committed mark, not the caller's 5; the
;;     callback replies (n * 1000 + mark : nat64).
;;   query look: replies (mark : nat64).
;;   composite query deep: calls its own "deep"; the callback replies what it
;;     got. It never ends on its own: the call graph's depth limit ends it.
;;   composite query chain: counter := 0; calls get; each reply's callback
;;     counts and calls get again, until 1000 (then replies the count): the
;;     graph's instruction limit (50 M per call) ends it first.
;;   update upself: calls its own composite query "deep", which the replica
;;     refuses in replicated mode (IC0527); the callback replies
;;     (reject code : nat64).
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $reply_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_on_cleanup" (func $call_on_cleanup (param i32 i32)))
  (import "ic0" "call_data_append" (func $call_data_append (param i32 i32)))
  (import "ic0" "call_perform" (func $call_perform (result i32)))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (import "ic0" "canister_self_size" (func $self_size (result i32)))
  (import "ic0" "canister_self_copy" (func $self_copy (param i32 i32 i32)))
  (import "ic0" "msg_reject_code" (func $reject_code (result i32)))
  (type $callback (func (param i32)))
  (memory 1)
  (table 8 funcref)
  (elem (i32.const 0) $a $cleanup $b $self_reply $relay $chain_reply $a_first $code_reply)
  (data (i32.const 0x100) "DIDL\00\01\78")                    ;; (nat64), 7 + 8
  (data (i32.const 0x200) "\00\00\00\00\00\00\00\02\01\01")   ;; ryjl3-tyaaa-aaaaa-aaaba-cai
  (data (i32.const 0x210) "get")
  (data (i32.const 0x220) "DIDL\00\00")                       ;; ()
  (data (i32.const 0x230) "look")
  (data (i32.const 0x240) "deep")
  (data (i32.const 0x250) "composite: bad value")             ;; 20

  ;; $get calls ryjl3….get with () and reply = reject = callback fn.
  (func $get (param $fn i32)
    (call $call_new (i32.const 0x200) (i32.const 10) (i32.const 0x210) (i32.const 3)
      (local.get $fn) (i32.const 0) (local.get $fn) (i32.const 0))
    (call $call_data_append (i32.const 0x220) (i32.const 6))
    (drop (call $call_perform)))

  ;; $self calls the canister's own method (name at $name, $len bytes).
  (func $self (param $name i32) (param $len i32) (param $fn i32)
    (local $n i32)
    (local.set $n (call $self_size))
    (call $self_copy (i32.const 0x280) (i32.const 0) (local.get $n))
    (call $call_new (i32.const 0x280) (local.get $n) (local.get $name) (local.get $len)
      (local.get $fn) (i32.const 0) (local.get $fn) (i32.const 0))
    (call $call_data_append (i32.const 0x220) (i32.const 6))
    (drop (call $call_perform)))

  ;; $reply_nat64 replies (v : nat64).
  (func $reply_nat64 (param $v i64)
    (i64.store (i32.const 0x107) (local.get $v))
    (call $reply_append (i32.const 0x100) (i32.const 15))
    (call $reply))

  ;; $arg_nat64 reads a (nat64) reply, 0 for anything else.
  (func $arg_nat64 (result i64)
    (if (i32.ne (call $arg_size) (i32.const 15)) (then (return (i64.const 0))))
    (call $arg_copy (i32.const 0x400) (i32.const 0) (i32.const 15))
    (i64.load (i32.const 0x407)))

  (func (export "canister_update set")
    (i64.store (i32.const 0) (i64.const 3))
    (call $reply_append (i32.const 0x220) (i32.const 6))
    (call $reply))

  (func (export "canister_composite_query graph")
    (i64.store (i32.const 0) (i64.const 1))
    (call $call_new (i32.const 0x200) (i32.const 10) (i32.const 0x210) (i32.const 3)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $call_on_cleanup (i32.const 1) (i32.const 0))
    (call $call_data_append (i32.const 0x220) (i32.const 6))
    (drop (call $call_perform))
    (call $get (i32.const 2)))

  (func (export "canister_composite_query first")
    (i64.store (i32.const 0) (i64.const 1))
    (call $get (i32.const 6))
    (call $get (i32.const 2)))

  (func $a (param $env i32)
    (i64.store (i32.const 0) (i64.add (i64.load (i32.const 0)) (i64.const 10)))
    (if (i64.eq (call $arg_nat64) (i64.const 57005))
      (then (call $trap (i32.const 0x250) (i32.const 20)))))

  (func $a_first (param $env i32)
    (i64.store (i32.const 0) (i64.add (i64.load (i32.const 0)) (i64.const 10)))
    (call $reply_nat64 (i64.load (i32.const 0))))

  (func $cleanup (param $env i32)
    (i64.store (i32.const 0) (i64.add (i64.load (i32.const 0)) (i64.const 100))))

  (func $b (param $env i32)
    (call $reply_nat64 (i64.load (i32.const 0))))

  (func (export "canister_composite_query selfy")
    (i64.store (i32.const 0) (i64.const 5))
    (call $self (i32.const 0x230) (i32.const 4) (i32.const 3)))

  (func $self_reply (param $env i32)
    (call $reply_nat64 (i64.add (i64.mul (call $arg_nat64) (i64.const 1000)) (i64.load (i32.const 0)))))

  (func (export "canister_query look")
    (call $reply_nat64 (i64.load (i32.const 0))))

  (func (export "canister_composite_query deep")
    (call $self (i32.const 0x240) (i32.const 4) (i32.const 4)))

  (func $relay (param $env i32)
    (call $reply_nat64 (call $arg_nat64)))

  (func (export "canister_composite_query chain")
    (i64.store (i32.const 8) (i64.const 0))
    (call $get (i32.const 5)))

  (func $chain_reply (param $env i32)
    (i64.store (i32.const 8) (i64.add (i64.load (i32.const 8)) (i64.const 1)))
    (if (i64.lt_u (i64.load (i32.const 8)) (i64.const 1000))
      (then (call $get (i32.const 5)))
      (else (call $reply_nat64 (i64.load (i32.const 8))))))

  (func (export "canister_update upself")
    (call $self (i32.const 0x240) (i32.const 4) (i32.const 7)))

  (func $code_reply (param $env i32)
    (call $reply_nat64 (i64.extend_i32_u (call $reject_code))))
)
