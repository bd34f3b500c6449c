;; entry: a canister with every system entry point canscope can run offline
;; (issue 20), each changing state the queries show.
;;   update arm: sets the global timer to time + 60 s; replies (deadline : nat64)
;;   canister_global_timer: fired += 1, debug_print "timer fired"
;;   canister_heartbeat: beats += 1
;;   canister_inspect_message: accepts every method but "forbidden"
;;   update forbidden: calls += 1; replies (calls : nat64) (an ingress
;;     message never gets here: inspect_message refuses it)
;;   update take_half: accepts half of the attached cycles; replies
;;     (accepted : nat64)
;;   queries fired, beats, calls: reply the counter as (n : nat64)
(module
  (import "ic0" "msg_reply_data_append" (func $reply_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "time" (func $time (result i64)))
  (import "ic0" "global_timer_set" (func $timer_set (param i64) (result i64)))
  (import "ic0" "debug_print" (func $debug_print (param i32 i32)))
  (import "ic0" "msg_method_name_size" (func $method_size (result i32)))
  (import "ic0" "msg_method_name_copy" (func $method_copy (param i32 i32 i32)))
  (import "ic0" "accept_message" (func $accept_message))
  (import "ic0" "msg_cycles_available" (func $cycles_available (result i64)))
  (import "ic0" "msg_cycles_accept" (func $cycles_accept (param i64) (result i64)))
  (memory 1)
  ;; counters: fired at 0, beats at 8, calls at 16
  (data (i32.const 0x100) "DIDL\00\01\78")        ;; candid header of (nat64)
  (data (i32.const 0x200) "timer fired")          ;; 11
  (data (i32.const 0x300) "forbidden")            ;; 9

  ;; reply_nat64 replies (v : nat64).
  (func $reply_nat64 (param $v i64)
    (i64.store (i32.const 0x107) (local.get $v))
    (call $reply_append (i32.const 0x100) (i32.const 15))
    (call $reply))

  (func $bump (param $at i32)
    (i64.store (local.get $at) (i64.add (i64.load (local.get $at)) (i64.const 1))))

  (func (export "canister_update arm")
    (local $deadline i64)
    (local.set $deadline (i64.add (call $time) (i64.const 60000000000)))
    (drop (call $timer_set (local.get $deadline)))
    (call $reply_nat64 (local.get $deadline)))

  (func (export "canister_global_timer")
    (call $bump (i32.const 0))
    (call $debug_print (i32.const 0x200) (i32.const 11)))

  (func (export "canister_heartbeat")
    (call $bump (i32.const 8)))

  ;; inspect_message: the method name is copied to 0x400; "forbidden" is
  ;; not accepted.
  (func (export "canister_inspect_message")
    (local $n i32)
    (local.set $n (call $method_size))
    (if (i32.le_u (local.get $n) (i32.const 64))
      (then
        (call $method_copy (i32.const 0x400) (i32.const 0) (local.get $n))
        (if (i32.and
              (i32.eq (local.get $n) (i32.const 9))
              (i64.eq (i64.load (i32.const 0x400)) (i64.load (i32.const 0x300))))
          (then (if (i32.eq (i32.load8_u (i32.const 0x408)) (i32.load8_u (i32.const 0x308)))
            (then (return)))))))
    (call $accept_message))

  (func (export "canister_update forbidden")
    (call $bump (i32.const 16))
    (call $reply_nat64 (i64.load (i32.const 16))))

  (func (export "canister_update take_half")
    (call $reply_nat64 (call $cycles_accept (i64.div_u (call $cycles_available) (i64.const 2)))))

  (func (export "canister_query fired") (call $reply_nat64 (i64.load (i32.const 0))))
  (func (export "canister_query beats") (call $reply_nat64 (i64.load (i32.const 8))))
  (func (export "canister_query calls") (call $reply_nat64 (i64.load (i32.const 16))))
)
