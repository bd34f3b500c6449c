;; ic0_all: imports every System API function in shared/ic-reference.md (both
;; lists) with the IC's wasm32 signatures and exercises each from a method.
;;
;; Each "op" below is one function or group. Op NAME runs as
;;   canister_update NAME, canister_query NAME_query,
;;   canister_update run / canister_query run_query / canister_composite_query
;;   run_composite with argument u32 op index,
;; and the reply is the op's output (raw bytes, numbers little-endian; u32 n
;; prefixes every variable-length blob). Ops that reply or reject themselves
;; (msg_reply, msg_reject, call) say so.
;;
;; System entry points run an op too, so tests can check the context rules
;; (e.g. msg_reply in pre_upgrade must trap with "ic0.msg_reply" cannot be
;; executed in pre_upgrade mode):
;;   canister_init, canister_post_upgrade: op = u32 argument (0 when absent)
;;   canister_pre_upgrade, canister_heartbeat, canister_global_timer,
;;   canister_inspect_message, canister_on_low_wasm_memory: op from the hook
;;   table, set by canister_update set_hook(kind u32, op u32) with kind
;;   0 pre_upgrade, 1 heartbeat, 2 global_timer, 3 inspect_message,
;;   4 on_low_wasm_memory (all default to op 0, noop). inspect_message
;;   accepts the message after its op (unless the op is accept_message).
;; Queries: hooks (7 x u32: the five hook ops, then the ops the last init and
;; post_upgrade ran), hook_output (the output of the last entry-point op),
;; callback_log (the call callbacks' log, format at $log_u32).
;;
;; Ops (index name: output):
;;   0 noop: nothing; replies empty
;;   1 msg_arg_data: u32 n, n argument bytes
;;   2 msg_caller: u32 n, caller principal bytes
;;   3 msg_reply: replies "ic0_all reply" itself via msg_reply_data_append +
;;       msg_reply
;;   4 msg_reject: rejects with "ic0_all reject"
;;   5 msg_reject_info: u32 msg_reject_code, then (when non-zero) u32 n + reject
;;       message; only valid in callbacks
;;   6 msg_deadline: u64 msg_deadline
;;   7 msg_method_name: u32 n, method name bytes (inspect_message only)
;;   8 accept_message: calls accept_message (inspect_message only); empty
;;   9 canister_self: u32 n, own canister id bytes
;;   10 cycle_balance: u64 canister_cycle_balance, 16 B
;;       canister_cycle_balance128, 16 B canister_liquid_cycle_balance128 (128-bit
;;       values little-endian: low u64, high u64)
;;   11 msg_cycles: u64 msg_cycles_available, 16 B msg_cycles_available128, u64
;;       msg_cycles_accept(1000), 16 B msg_cycles_accept128(0, 2000)
;;   12 msg_cycles_refunded: u64 msg_cycles_refunded, 16 B msg_cycles_refunded128
;;       (callbacks only)
;;   13 cycles_burn: 16 B cycles_burn128(0, 1000): cycles actually burned
;;   14 mint_cycles: u64 mint_cycles(1000) (the IC traps outside the cycles
;;       minting canister)
;;   15 status: u32 canister_status, u64 canister_version
;;   16 subnet_self: u32 n, subnet id bytes
;;   17 root_key: u32 n, root key bytes
;;   18 stable32: u32 stable_size, u32 stable_grow(1), then writes "ic0_all
;;       stable32" at offset 0 with stable_write and appends the 16 bytes read back
;;       with stable_read, u32 stable_size after
;;   19 stable64: u64 stable64_size, u64 stable64_grow(1), then writes "ic0_all
;;       stable64" into the last 16 bytes of stable memory and appends them read
;;       back, u64 stable64_size after
;;   20 certified_data_set: sets certified data to "ic0_all certified data" (22
;;       B); u32 data_certificate_present
;;   21 data_certificate: u32 data_certificate_present, then (when 1) u32 n +
;;       certificate bytes (non-replicated query only)
;;   22 time: u64 time (ns since 1970)
;;   23 global_timer_set: u64 previous timer = global_timer_set(time + 1 s), u64
;;       the new deadline
;;   24 performance_counter: u64 performance_counter(0), u64
;;       performance_counter(1), u64 instruction_counter
;;   25 is_controller: u32 is_controller(caller)
;;   26 in_replicated_execution: u32 in_replicated_execution
;;   27 cost: 16 B cost_call(10, 100), 16 B cost_create_canister, 16 B
;;       cost_http_request(100, 1000), then for cost_sign_with_ecdsa("key_1", 0),
;;       cost_sign_with_schnorr("key_1", 0), cost_vetkd_derive_key("key_1", 0): u32
;;       result code + 16 B cost
;;   28 env_var: u32 env_var_count; per variable (at most 16): u32 n + name, u32
;;       m + value; then u32 env_var_name_exists("CANSCOPE_ENV")
;;   29 debug_print: debug_print("ic0_all: hello from debug_print"); empty
;;   30 trap: ic0.trap("ic0_all: trap on purpose")
;;   31 call: calls method "ping" on itself with argument DIDL\00\00 (call_new,
;;       call_on_cleanup, call_data_append, call_cycles_add(100),
;;       call_cycles_add128(0, 200), call_with_best_effort_response(10),
;;       call_perform); on err 0 the reply comes from the callback: "reply:" + reply
;;       data, or u32 reject code + reject message; otherwise replies u32 err
;;   32 call_and_reply: like call, but replies u32 call_perform result at once;
;;       callbacks only log
(module
  (type $op (func))
  (type $callback (func (param i32)))

  (import "ic0" "msg_arg_data_size" (func $ic0.msg_arg_data_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $ic0.msg_arg_data_copy (param i32 i32 i32)))
  (import "ic0" "msg_caller_size" (func $ic0.msg_caller_size (result i32)))
  (import "ic0" "msg_caller_copy" (func $ic0.msg_caller_copy (param i32 i32 i32)))
  (import "ic0" "msg_reject_code" (func $ic0.msg_reject_code (result i32)))
  (import "ic0" "msg_reject_msg_size" (func $ic0.msg_reject_msg_size (result i32)))
  (import "ic0" "msg_reject_msg_copy" (func $ic0.msg_reject_msg_copy (param i32 i32 i32)))
  (import "ic0" "msg_deadline" (func $ic0.msg_deadline (result i64)))
  (import "ic0" "msg_reply_data_append" (func $ic0.msg_reply_data_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $ic0.msg_reply))
  (import "ic0" "msg_reject" (func $ic0.msg_reject (param i32 i32)))
  (import "ic0" "msg_cycles_available" (func $ic0.msg_cycles_available (result i64)))
  (import "ic0" "msg_cycles_available128" (func $ic0.msg_cycles_available128 (param i32)))
  (import "ic0" "msg_cycles_refunded" (func $ic0.msg_cycles_refunded (result i64)))
  (import "ic0" "msg_cycles_refunded128" (func $ic0.msg_cycles_refunded128 (param i32)))
  (import "ic0" "msg_cycles_accept" (func $ic0.msg_cycles_accept (param i64) (result i64)))
  (import "ic0" "msg_cycles_accept128" (func $ic0.msg_cycles_accept128 (param i64 i64 i32)))
  (import "ic0" "cycles_burn128" (func $ic0.cycles_burn128 (param i64 i64 i32)))
  (import "ic0" "mint_cycles" (func $ic0.mint_cycles (param i64) (result i64)))
  (import "ic0" "canister_self_size" (func $ic0.canister_self_size (result i32)))
  (import "ic0" "canister_self_copy" (func $ic0.canister_self_copy (param i32 i32 i32)))
  (import "ic0" "canister_cycle_balance" (func $ic0.canister_cycle_balance (result i64)))
  (import "ic0" "canister_cycle_balance128" (func $ic0.canister_cycle_balance128 (param i32)))
  (import "ic0" "canister_liquid_cycle_balance128" (func $ic0.canister_liquid_cycle_balance128 (param i32)))
  (import "ic0" "canister_status" (func $ic0.canister_status (result i32)))
  (import "ic0" "canister_version" (func $ic0.canister_version (result i64)))
  (import "ic0" "subnet_self_size" (func $ic0.subnet_self_size (result i32)))
  (import "ic0" "subnet_self_copy" (func $ic0.subnet_self_copy (param i32 i32 i32)))
  (import "ic0" "msg_method_name_size" (func $ic0.msg_method_name_size (result i32)))
  (import "ic0" "msg_method_name_copy" (func $ic0.msg_method_name_copy (param i32 i32 i32)))
  (import "ic0" "accept_message" (func $ic0.accept_message))
  (import "ic0" "call_new" (func $ic0.call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_on_cleanup" (func $ic0.call_on_cleanup (param i32 i32)))
  (import "ic0" "call_data_append" (func $ic0.call_data_append (param i32 i32)))
  (import "ic0" "call_with_best_effort_response" (func $ic0.call_with_best_effort_response (param i32)))
  (import "ic0" "call_cycles_add" (func $ic0.call_cycles_add (param i64)))
  (import "ic0" "call_cycles_add128" (func $ic0.call_cycles_add128 (param i64 i64)))
  (import "ic0" "call_perform" (func $ic0.call_perform (result i32)))
  (import "ic0" "stable_size" (func $ic0.stable_size (result i32)))
  (import "ic0" "stable_grow" (func $ic0.stable_grow (param i32) (result i32)))
  (import "ic0" "stable_write" (func $ic0.stable_write (param i32 i32 i32)))
  (import "ic0" "stable_read" (func $ic0.stable_read (param i32 i32 i32)))
  (import "ic0" "stable64_size" (func $ic0.stable64_size (result i64)))
  (import "ic0" "stable64_grow" (func $ic0.stable64_grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $ic0.stable64_write (param i64 i64 i64)))
  (import "ic0" "stable64_read" (func $ic0.stable64_read (param i64 i64 i64)))
  (import "ic0" "root_key_size" (func $ic0.root_key_size (result i32)))
  (import "ic0" "root_key_copy" (func $ic0.root_key_copy (param i32 i32 i32)))
  (import "ic0" "certified_data_set" (func $ic0.certified_data_set (param i32 i32)))
  (import "ic0" "data_certificate_present" (func $ic0.data_certificate_present (result i32)))
  (import "ic0" "data_certificate_size" (func $ic0.data_certificate_size (result i32)))
  (import "ic0" "data_certificate_copy" (func $ic0.data_certificate_copy (param i32 i32 i32)))
  (import "ic0" "time" (func $ic0.time (result i64)))
  (import "ic0" "global_timer_set" (func $ic0.global_timer_set (param i64) (result i64)))
  (import "ic0" "performance_counter" (func $ic0.performance_counter (param i32) (result i64)))
  (import "ic0" "instruction_counter" (func $ic0.instruction_counter (result i64)))
  (import "ic0" "is_controller" (func $ic0.is_controller (param i32 i32) (result i32)))
  (import "ic0" "in_replicated_execution" (func $ic0.in_replicated_execution (result i32)))
  (import "ic0" "cost_call" (func $ic0.cost_call (param i64 i64 i32)))
  (import "ic0" "cost_create_canister" (func $ic0.cost_create_canister (param i32)))
  (import "ic0" "cost_http_request" (func $ic0.cost_http_request (param i64 i64 i32)))
  (import "ic0" "cost_sign_with_ecdsa" (func $ic0.cost_sign_with_ecdsa (param i32 i32 i32 i32) (result i32)))
  (import "ic0" "cost_sign_with_schnorr" (func $ic0.cost_sign_with_schnorr (param i32 i32 i32 i32) (result i32)))
  (import "ic0" "cost_vetkd_derive_key" (func $ic0.cost_vetkd_derive_key (param i32 i32 i32 i32) (result i32)))
  (import "ic0" "env_var_count" (func $ic0.env_var_count (result i32)))
  (import "ic0" "env_var_name_size" (func $ic0.env_var_name_size (param i32) (result i32)))
  (import "ic0" "env_var_name_copy" (func $ic0.env_var_name_copy (param i32 i32 i32 i32)))
  (import "ic0" "env_var_name_exists" (func $ic0.env_var_name_exists (param i32 i32) (result i32)))
  (import "ic0" "env_var_value_size" (func $ic0.env_var_value_size (param i32 i32) (result i32)))
  (import "ic0" "env_var_value_copy" (func $ic0.env_var_value_copy (param i32 i32 i32 i32 i32)))
  (import "ic0" "debug_print" (func $ic0.debug_print (param i32 i32)))
  (import "ic0" "trap" (func $ic0.trap (param i32 i32)))

  (memory (export "memory") 2)

  ;; OUT: the reply being built; $out_len bytes from 0x1000, at most OUT_CAP.
  (global $out_len (mut i32) (i32.const 0))
  ;; 0 = not replied yet, 1 = replied (or must not reply: system entry
  ;; point), 2 = deferred to a call callback.
  (global $reply_state (mut i32) (i32.const 0))

  (data (i32.const 0x200) "ic0_all reply")             ;; 13
  (data (i32.const 0x210) "ic0_all reject")            ;; 14
  (data (i32.const 0x220) "ic0_all stable32")          ;; 16
  (data (i32.const 0x230) "ic0_all stable64")          ;; 16
  (data (i32.const 0x240) "ic0_all certified data")    ;; 22
  (data (i32.const 0x260) "key_1")                     ;; 5
  (data (i32.const 0x268) "CANSCOPE_ENV")              ;; 12
  (data (i32.const 0x280) "ic0_all: hello from debug_print") ;; 31
  (data (i32.const 0x2a0) "ic0_all: trap on purpose")  ;; 24
  (data (i32.const 0x2c0) "ping")                      ;; 4
  (data (i32.const 0x2c8) "DIDL\00\00")                ;; 6
  (data (i32.const 0x2d0) "ic0_all: bad op or hook")   ;; 23
  (data (i32.const 0x2f0) "reply:")                    ;; 6

  ;; ---- output buffer ----

  (func $out_reset (global.set $out_len (i32.const 0)))

  ;; $out_room returns how many of $want bytes still fit, so copies of
  ;; large blobs (certificates, arguments) are cut instead of overflowing.
  (func $out_room (param $want i32) (result i32)
    (local $left i32)
    (local.set $left (i32.sub (i32.const 0x7000) (global.get $out_len)))
    (select (local.get $want) (local.get $left) (i32.le_u (local.get $want) (local.get $left))))

  (func $out_ptr (result i32) (i32.add (i32.const 0x1000) (global.get $out_len)))

  (func $out_advance (param $n i32) (global.set $out_len (i32.add (global.get $out_len) (local.get $n))))

  (func $out_u32 (param $v i32)
    (i32.store (call $out_ptr) (local.get $v))
    (call $out_advance (i32.const 4)))

  (func $out_u64 (param $v i64)
    (i64.store (call $out_ptr) (local.get $v))
    (call $out_advance (i32.const 8)))

  (func $out_bytes (param $src i32) (param $len i32)
    (local $i i32) (local $dst i32)
    (local.set $len (call $out_room (local.get $len)))
    (local.set $dst (call $out_ptr))
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (i32.store8 (i32.add (local.get $dst) (local.get $i))
                    (i32.load8_u (i32.add (local.get $src) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (call $out_advance (local.get $len)))

  ;; $out_u128 appends the 16 bytes a *128 call wrote at 0x100... scratch.
  (func $out_u128_at (param $src i32) (call $out_bytes (local.get $src) (i32.const 16)))

  (func $bad
    (call $ic0.trap (i32.const 0x2d0) (i32.const 23)))

  ;; ---- one op per System API function or group (table indices 0..NUM_OPS-1) ----

  ;; 0 noop: nothing; replies empty
  (func $op_noop
    (nop))

  ;; 1 msg_arg_data: u32 n, n argument bytes
  (func $op_msg_arg_data
    (local $n i32)
    (local.set $n (call $ic0.msg_arg_data_size))
    (call $out_u32 (local.get $n))
    (local.set $n (call $out_room (local.get $n)))
    (call $ic0.msg_arg_data_copy (call $out_ptr) (i32.const 0) (local.get $n))
    (call $out_advance (local.get $n)))

  ;; 2 msg_caller: u32 n, caller principal bytes
  (func $op_msg_caller
    (local $n i32)
    (local.set $n (call $ic0.msg_caller_size))
    (call $out_u32 (local.get $n))
    (local.set $n (call $out_room (local.get $n)))
    (call $ic0.msg_caller_copy (call $out_ptr) (i32.const 0) (local.get $n))
    (call $out_advance (local.get $n)))

  ;; 3 msg_reply: replies "ic0_all reply" itself via msg_reply_data_append + msg_reply
  (func $op_msg_reply
    (call $ic0.msg_reply_data_append (i32.const 0x200) (i32.const 13))
    (global.set $reply_state (i32.const 1))
    (call $ic0.msg_reply))

  ;; 4 msg_reject: rejects with "ic0_all reject"
  (func $op_msg_reject
    (global.set $reply_state (i32.const 1))
    (call $ic0.msg_reject (i32.const 0x210) (i32.const 14)))

  ;; 5 msg_reject_info: u32 msg_reject_code, then (when non-zero) u32 n + reject message; only valid in callbacks
  (func $op_msg_reject_info
    (local $code i32) (local $n i32)
    (local.set $code (call $ic0.msg_reject_code))
    (call $out_u32 (local.get $code))
    (if (i32.ne (local.get $code) (i32.const 0))
      (then
        (local.set $n (call $ic0.msg_reject_msg_size))
        (call $out_u32 (local.get $n))
        (local.set $n (call $out_room (local.get $n)))
        (call $ic0.msg_reject_msg_copy (call $out_ptr) (i32.const 0) (local.get $n))
        (call $out_advance (local.get $n)))))

  ;; 6 msg_deadline: u64 msg_deadline
  (func $op_msg_deadline
    (call $out_u64 (call $ic0.msg_deadline)))

  ;; 7 msg_method_name: u32 n, method name bytes (inspect_message only)
  (func $op_msg_method_name
    (local $n i32)
    (local.set $n (call $ic0.msg_method_name_size))
    (call $out_u32 (local.get $n))
    (local.set $n (call $out_room (local.get $n)))
    (call $ic0.msg_method_name_copy (call $out_ptr) (i32.const 0) (local.get $n))
    (call $out_advance (local.get $n)))

  ;; 8 accept_message: calls accept_message (inspect_message only); empty
  (func $op_accept_message
    (call $ic0.accept_message))

  ;; 9 canister_self: u32 n, own canister id bytes
  (func $op_canister_self
    (local $n i32)
    (local.set $n (call $ic0.canister_self_size))
    (call $out_u32 (local.get $n))
    (local.set $n (call $out_room (local.get $n)))
    (call $ic0.canister_self_copy (call $out_ptr) (i32.const 0) (local.get $n))
    (call $out_advance (local.get $n)))

  ;; 10 cycle_balance: u64 canister_cycle_balance, 16 B canister_cycle_balance128, 16 B canister_liquid_cycle_balance128 (128-bit values little-endian: low u64, high u64)
  (func $op_cycle_balance
    (call $out_u64 (call $ic0.canister_cycle_balance))
    (call $ic0.canister_cycle_balance128 (i32.const 0x40))
    (call $out_u128_at (i32.const 0x40))
    (call $ic0.canister_liquid_cycle_balance128 (i32.const 0x40))
    (call $out_u128_at (i32.const 0x40)))

  ;; 11 msg_cycles: u64 msg_cycles_available, 16 B msg_cycles_available128, u64 msg_cycles_accept(1000), 16 B msg_cycles_accept128(0, 2000)
  (func $op_msg_cycles
    (call $out_u64 (call $ic0.msg_cycles_available))
    (call $ic0.msg_cycles_available128 (i32.const 0x40))
    (call $out_u128_at (i32.const 0x40))
    (call $out_u64 (call $ic0.msg_cycles_accept (i64.const 1000)))
    (call $ic0.msg_cycles_accept128 (i64.const 0) (i64.const 2000) (i32.const 0x40))
    (call $out_u128_at (i32.const 0x40)))

  ;; 12 msg_cycles_refunded: u64 msg_cycles_refunded, 16 B msg_cycles_refunded128 (callbacks only)
  (func $op_msg_cycles_refunded
    (call $out_u64 (call $ic0.msg_cycles_refunded))
    (call $ic0.msg_cycles_refunded128 (i32.const 0x40))
    (call $out_u128_at (i32.const 0x40)))

  ;; 13 cycles_burn: 16 B cycles_burn128(0, 1000): cycles actually burned
  (func $op_cycles_burn
    (call $ic0.cycles_burn128 (i64.const 0) (i64.const 1000) (i32.const 0x40))
    (call $out_u128_at (i32.const 0x40)))

  ;; 14 mint_cycles: u64 mint_cycles(1000) (the IC traps outside the cycles minting canister)
  (func $op_mint_cycles
    (call $out_u64 (call $ic0.mint_cycles (i64.const 1000))))

  ;; 15 status: u32 canister_status, u64 canister_version
  (func $op_status
    (call $out_u32 (call $ic0.canister_status))
    (call $out_u64 (call $ic0.canister_version)))

  ;; 16 subnet_self: u32 n, subnet id bytes
  (func $op_subnet_self
    (local $n i32)
    (local.set $n (call $ic0.subnet_self_size))
    (call $out_u32 (local.get $n))
    (local.set $n (call $out_room (local.get $n)))
    (call $ic0.subnet_self_copy (call $out_ptr) (i32.const 0) (local.get $n))
    (call $out_advance (local.get $n)))

  ;; 17 root_key: u32 n, root key bytes
  (func $op_root_key
    (local $n i32)
    (local.set $n (call $ic0.root_key_size))
    (call $out_u32 (local.get $n))
    (local.set $n (call $out_room (local.get $n)))
    (call $ic0.root_key_copy (call $out_ptr) (i32.const 0) (local.get $n))
    (call $out_advance (local.get $n)))

  ;; 18 stable32: u32 stable_size, u32 stable_grow(1), then writes "ic0_all stable32" at offset 0 with stable_write and appends the 16 bytes read back with stable_read, u32 stable_size after
  (func $op_stable32
    (call $out_u32 (call $ic0.stable_size))
    (call $out_u32 (call $ic0.stable_grow (i32.const 1)))
    (call $ic0.stable_write (i32.const 0) (i32.const 0x220) (i32.const 16))
    (call $ic0.stable_read (call $out_ptr) (i32.const 0) (i32.const 16))
    (call $out_advance (i32.const 16))
    (call $out_u32 (call $ic0.stable_size)))

  ;; 19 stable64: u64 stable64_size, u64 stable64_grow(1), then writes "ic0_all stable64" into the last 16 bytes of stable memory and appends them read back, u64 stable64_size after
  (func $op_stable64
    (local $end i64)
    (call $out_u64 (call $ic0.stable64_size))
    (call $out_u64 (call $ic0.stable64_grow (i64.const 1)))
    (local.set $end (i64.shl (call $ic0.stable64_size) (i64.const 16)))
    (call $ic0.stable64_write (i64.sub (local.get $end) (i64.const 16)) (i64.const 0x230) (i64.const 16))
    (call $ic0.stable64_read (i64.extend_i32_u (call $out_ptr)) (i64.sub (local.get $end) (i64.const 16)) (i64.const 16))
    (call $out_advance (i32.const 16))
    (call $out_u64 (call $ic0.stable64_size)))

  ;; 20 certified_data_set: sets certified data to "ic0_all certified data" (22 B); u32 data_certificate_present
  (func $op_certified_data_set
    (call $ic0.certified_data_set (i32.const 0x240) (i32.const 22))
    (call $out_u32 (call $ic0.data_certificate_present)))

  ;; 21 data_certificate: u32 data_certificate_present, then (when 1) u32 n + certificate bytes (non-replicated query only)
  (func $op_data_certificate
    (local $present i32) (local $n i32)
    (local.set $present (call $ic0.data_certificate_present))
    (call $out_u32 (local.get $present))
    (if (local.get $present)
      (then
        (local.set $n (call $ic0.data_certificate_size))
        (call $out_u32 (local.get $n))
        (local.set $n (call $out_room (local.get $n)))
        (call $ic0.data_certificate_copy (call $out_ptr) (i32.const 0) (local.get $n))
        (call $out_advance (local.get $n)))))

  ;; 22 time: u64 time (ns since 1970)
  (func $op_time
    (call $out_u64 (call $ic0.time)))

  ;; 23 global_timer_set: u64 previous timer = global_timer_set(time + 1 s), u64 the new deadline
  (func $op_global_timer_set
    (local $at i64)
    (local.set $at (i64.add (call $ic0.time) (i64.const 1000000000)))
    (call $out_u64 (call $ic0.global_timer_set (local.get $at)))
    (call $out_u64 (local.get $at)))

  ;; 24 performance_counter: u64 performance_counter(0), u64 performance_counter(1), u64 instruction_counter
  (func $op_performance_counter
    (call $out_u64 (call $ic0.performance_counter (i32.const 0)))
    (call $out_u64 (call $ic0.performance_counter (i32.const 1)))
    (call $out_u64 (call $ic0.instruction_counter)))

  ;; 25 is_controller: u32 is_controller(caller)
  (func $op_is_controller
    (local $n i32)
    (local.set $n (call $ic0.msg_caller_size))
    (if (i32.gt_u (local.get $n) (i32.const 64)) (then (call $bad)))
    (call $ic0.msg_caller_copy (i32.const 0x60) (i32.const 0) (local.get $n))
    (call $out_u32 (call $ic0.is_controller (i32.const 0x60) (local.get $n))))

  ;; 26 in_replicated_execution: u32 in_replicated_execution
  (func $op_in_replicated_execution
    (call $out_u32 (call $ic0.in_replicated_execution)))

  ;; 27 cost: 16 B cost_call(10, 100), 16 B cost_create_canister, 16 B cost_http_request(100, 1000), then for cost_sign_with_ecdsa("key_1", 0), cost_sign_with_schnorr("key_1", 0), cost_vetkd_derive_key("key_1", 0): u32 result code + 16 B cost
  (func $op_cost
    (call $ic0.cost_call (i64.const 10) (i64.const 100) (i32.const 0x40))
    (call $out_u128_at (i32.const 0x40))
    (call $ic0.cost_create_canister (i32.const 0x40))
    (call $out_u128_at (i32.const 0x40))
    (call $ic0.cost_http_request (i64.const 100) (i64.const 1000) (i32.const 0x40))
    (call $out_u128_at (i32.const 0x40))
    (call $out_u32 (call $ic0.cost_sign_with_ecdsa (i32.const 0x260) (i32.const 5) (i32.const 0) (i32.const 0x40)))
    (call $out_u128_at (i32.const 0x40))
    (call $out_u32 (call $ic0.cost_sign_with_schnorr (i32.const 0x260) (i32.const 5) (i32.const 0) (i32.const 0x40)))
    (call $out_u128_at (i32.const 0x40))
    (call $out_u32 (call $ic0.cost_vetkd_derive_key (i32.const 0x260) (i32.const 5) (i32.const 0) (i32.const 0x40)))
    (call $out_u128_at (i32.const 0x40)))

  ;; 28 env_var: u32 env_var_count; per variable (at most 16): u32 n + name, u32 m + value; then u32 env_var_name_exists("CANSCOPE_ENV")
  (func $op_env_var
    (local $count i32) (local $i i32) (local $n i32) (local $name i32) (local $m i32)
    (local.set $count (call $ic0.env_var_count))
    (call $out_u32 (local.get $count))
    (if (i32.gt_u (local.get $count) (i32.const 16)) (then (local.set $count (i32.const 16))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $n (call $ic0.env_var_name_size (local.get $i)))
        (if (i32.gt_u (local.get $n) (i32.const 0x400)) (then (call $bad)))
        (call $out_u32 (local.get $n))
        (local.set $name (call $out_ptr))
        (call $ic0.env_var_name_copy (local.get $i) (local.get $name) (i32.const 0) (local.get $n))
        (call $out_advance (local.get $n))
        (local.set $m (call $ic0.env_var_value_size (local.get $name) (local.get $n)))
        (if (i32.gt_u (local.get $m) (i32.const 0x400)) (then (call $bad)))
        (call $out_u32 (local.get $m))
        (call $ic0.env_var_value_copy (local.get $name) (local.get $n) (call $out_ptr) (i32.const 0) (local.get $m))
        (call $out_advance (local.get $m))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (call $out_u32 (call $ic0.env_var_name_exists (i32.const 0x268) (i32.const 12))))

  ;; 29 debug_print: debug_print("ic0_all: hello from debug_print"); empty
  (func $op_debug_print
    (call $ic0.debug_print (i32.const 0x280) (i32.const 31)))

  ;; 30 trap: ic0.trap("ic0_all: trap on purpose")
  (func $op_trap
    (call $ic0.trap (i32.const 0x2a0) (i32.const 24)))

  ;; 31 call: calls method "ping" on itself with argument DIDL\00\00 (call_new, call_on_cleanup, call_data_append, call_cycles_add(100), call_cycles_add128(0, 200), call_with_best_effort_response(10), call_perform); on err 0 the reply comes from the callback: "reply:" + reply data, or u32 reject code + reject message; otherwise replies u32 err
  (func $op_call
    (local $err i32)
    (call $place_call)
    (local.set $err (call $ic0.call_perform))
    (if (i32.eqz (local.get $err))
      (then (global.set $reply_state (i32.const 2)))
      (else (call $out_u32 (local.get $err)))))

  ;; 32 call_and_reply: like call, but replies u32 call_perform result at once; callbacks only log
  (func $op_call_and_reply
    (call $place_call)
    (call $out_u32 (call $ic0.call_perform)))

  ;; place_call prepares a call to this canister's "ping" method: callbacks
  ;; are table entries $on_reply (env 1), $on_reject (env 2), $on_cleanup (env 3).
  (func $place_call
    (local $n i32)
    (local.set $n (call $ic0.canister_self_size))
    (if (i32.gt_u (local.get $n) (i32.const 64)) (then (call $bad)))
    (call $ic0.canister_self_copy (i32.const 0x60) (i32.const 0) (local.get $n))
    (call $ic0.call_new (i32.const 0x60) (local.get $n) (i32.const 0x2c0) (i32.const 4)
      (i32.const 33) (i32.const 1) (i32.const 34) (i32.const 2))
    (call $ic0.call_on_cleanup (i32.const 35) (i32.const 3))
    (call $ic0.call_data_append (i32.const 0x2c8) (i32.const 6))
    (call $ic0.call_cycles_add (i64.const 100))
    (call $ic0.call_cycles_add128 (i64.const 0) (i64.const 200))
    (call $ic0.call_with_best_effort_response (i32.const 10)))

  ;; ---- call callbacks ----

  ;; The log at 0x10000: u32 total length, then entries
  ;;   reply:   u32 1, u32 env, u32 n, n bytes of reply data
  ;;   reject:  u32 2, u32 env, u32 reject code, u32 n, n bytes of message
  ;;   cleanup: u32 3, u32 env
  (func $log_u32 (param $v i32)
    (local $len i32)
    (local.set $len (i32.load (i32.const 0x10000)))
    (if (i32.gt_u (local.get $len) (i32.const 0xe000)) (then (return)))
    (i32.store (i32.add (i32.const 0x10004) (local.get $len)) (local.get $v))
    (i32.store (i32.const 0x10000) (i32.add (local.get $len) (i32.const 4))))

  (func $log_blob (param $n i32) (result i32)
    ;; reserves $n bytes (cut to 0x1000) in the log, returns where to copy them
    (local $len i32)
    (if (i32.gt_u (local.get $n) (i32.const 0x1000)) (then (local.set $n (i32.const 0x1000))))
    (local.set $len (i32.load (i32.const 0x10000)))
    (call $log_u32 (local.get $n))
    (local.set $len (i32.load (i32.const 0x10000)))
    (i32.store (i32.const 0x10000) (i32.add (local.get $len) (local.get $n)))
    (i32.add (i32.const 0x10004) (local.get $len)))

  (func $on_reply (param $env i32)
    (local $n i32) (local $dst i32)
    (call $log_u32 (i32.const 1))
    (call $log_u32 (local.get $env))
    (local.set $n (call $ic0.msg_arg_data_size))
    (if (i32.gt_u (local.get $n) (i32.const 0x1000)) (then (local.set $n (i32.const 0x1000))))
    (local.set $dst (call $log_blob (local.get $n)))
    (call $ic0.msg_arg_data_copy (local.get $dst) (i32.const 0) (local.get $n))
    (if (i32.eq (global.get $reply_state) (i32.const 2))
      (then
        (global.set $reply_state (i32.const 1))
        (call $ic0.msg_reply_data_append (i32.const 0x2f0) (i32.const 6))
        (call $ic0.msg_reply_data_append (local.get $dst) (local.get $n))
        (call $ic0.msg_reply))))

  (func $on_reject (param $env i32)
    (local $code i32) (local $n i32) (local $dst i32)
    (call $log_u32 (i32.const 2))
    (call $log_u32 (local.get $env))
    (local.set $code (call $ic0.msg_reject_code))
    (call $log_u32 (local.get $code))
    (local.set $n (call $ic0.msg_reject_msg_size))
    (if (i32.gt_u (local.get $n) (i32.const 0x1000)) (then (local.set $n (i32.const 0x1000))))
    (local.set $dst (call $log_blob (local.get $n)))
    (call $ic0.msg_reject_msg_copy (local.get $dst) (i32.const 0) (local.get $n))
    (if (i32.eq (global.get $reply_state) (i32.const 2))
      (then
        (global.set $reply_state (i32.const 1))
        (i32.store (i32.const 0x20) (local.get $code))
        (call $ic0.msg_reply_data_append (i32.const 0x20) (i32.const 4))
        (call $ic0.msg_reply_data_append (local.get $dst) (local.get $n))
        (call $ic0.msg_reply))))

  (func $on_cleanup (param $env i32)
    (call $log_u32 (i32.const 3))
    (call $log_u32 (local.get $env)))

  ;; ---- running ops as methods and as system entry points ----

  (func $check_op (param $op i32)
    (if (i32.ge_u (local.get $op) (i32.const 33)) (then (call $bad))))

  (func $run_method (param $op i32)
    (call $check_op (local.get $op))
    (call $out_reset)
    (global.set $reply_state (i32.const 0))
    (call_indirect (type $op) (local.get $op))
    (if (i32.eqz (global.get $reply_state))
      (then
        (global.set $reply_state (i32.const 1))
        (call $ic0.msg_reply_data_append (i32.const 0x1000) (global.get $out_len))
        (call $ic0.msg_reply))))

  ;; $run_hook runs an op where no reply is possible and keeps its output at
  ;; 0x9000 (u32 length, then the bytes) for the hook_output query.
  (func $run_hook (param $op i32)
    (local $i i32)
    (call $check_op (local.get $op))
    (call $out_reset)
    (global.set $reply_state (i32.const 1))
    (call_indirect (type $op) (local.get $op))
    (i32.store (i32.const 0x9000) (global.get $out_len))
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (global.get $out_len)))
        (i32.store8 (i32.add (i32.const 0x9004) (local.get $i))
                    (i32.load8_u (i32.add (i32.const 0x1000) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy))))

  (func $arg_u32_or_zero (param $off i32) (result i32)
    (if (i32.lt_u (call $ic0.msg_arg_data_size) (i32.add (local.get $off) (i32.const 4)))
      (then (return (i32.const 0))))
    (call $ic0.msg_arg_data_copy (i32.const 0x30) (local.get $off) (i32.const 4))
    (i32.load (i32.const 0x30)))

  ;; Hook table at 0x100: u32 op per kind.
  ;;   0x100 pre_upgrade, 0x104 heartbeat, 0x108 global_timer,
  ;;   0x10c inspect_message, 0x110 on_low_wasm_memory,
  ;;   0x114 op run by the last canister_init, 0x118 by the last post_upgrade.
  (func $canister_init
    (i32.store (i32.const 0x114) (call $arg_u32_or_zero (i32.const 0)))
    (call $run_hook (i32.load (i32.const 0x114))))

  (func $canister_post_upgrade
    (i32.store (i32.const 0x118) (call $arg_u32_or_zero (i32.const 0)))
    (call $run_hook (i32.load (i32.const 0x118))))

  (func $canister_pre_upgrade (call $run_hook (i32.load (i32.const 0x100))))
  (func $canister_heartbeat (call $run_hook (i32.load (i32.const 0x104))))
  (func $canister_global_timer (call $run_hook (i32.load (i32.const 0x108))))
  (func $canister_on_low_wasm_memory (call $run_hook (i32.load (i32.const 0x110))))

  (func $canister_inspect_message
    (call $run_hook (i32.load (i32.const 0x10c)))
    ;; op 8 (accept_message) has accepted already; accepting twice traps.
    (if (i32.ne (i32.load (i32.const 0x10c)) (i32.const 8))
      (then (call $ic0.accept_message))))

  ;; set_hook(kind u32, op u32)
  (func $set_hook
    (local $kind i32) (local $op i32)
    (if (i32.lt_u (call $ic0.msg_arg_data_size) (i32.const 8)) (then (call $bad)))
    (local.set $kind (call $arg_u32_or_zero (i32.const 0)))
    (local.set $op (call $arg_u32_or_zero (i32.const 4)))
    (if (i32.ge_u (local.get $kind) (i32.const 5)) (then (call $bad)))
    (call $check_op (local.get $op))
    (i32.store (i32.add (i32.const 0x100) (i32.shl (local.get $kind) (i32.const 2))) (local.get $op))
    (call $ic0.msg_reply))

  (func $hooks
    (call $ic0.msg_reply_data_append (i32.const 0x100) (i32.const 28))
    (call $ic0.msg_reply))

  (func $hook_output
    (call $ic0.msg_reply_data_append (i32.const 0x9004) (i32.load (i32.const 0x9000)))
    (call $ic0.msg_reply))

  (func $callback_log
    (call $ic0.msg_reply_data_append (i32.const 0x10004) (i32.load (i32.const 0x10000)))
    (call $ic0.msg_reply))

  (func $run (call $run_method (call $arg_u32_or_zero (i32.const 0))))

  ;; named methods: canister_update NAME and canister_query NAME_query run op NAME
  (func $noop (call $run_method (i32.const 0)))
  (func $msg_arg_data (call $run_method (i32.const 1)))
  (func $msg_caller (call $run_method (i32.const 2)))
  (func $msg_reply (call $run_method (i32.const 3)))
  (func $msg_reject (call $run_method (i32.const 4)))
  (func $msg_reject_info (call $run_method (i32.const 5)))
  (func $msg_deadline (call $run_method (i32.const 6)))
  (func $msg_method_name (call $run_method (i32.const 7)))
  (func $accept_message (call $run_method (i32.const 8)))
  (func $canister_self (call $run_method (i32.const 9)))
  (func $cycle_balance (call $run_method (i32.const 10)))
  (func $msg_cycles (call $run_method (i32.const 11)))
  (func $msg_cycles_refunded (call $run_method (i32.const 12)))
  (func $cycles_burn (call $run_method (i32.const 13)))
  (func $mint_cycles (call $run_method (i32.const 14)))
  (func $status (call $run_method (i32.const 15)))
  (func $subnet_self (call $run_method (i32.const 16)))
  (func $root_key (call $run_method (i32.const 17)))
  (func $stable32 (call $run_method (i32.const 18)))
  (func $stable64 (call $run_method (i32.const 19)))
  (func $certified_data_set (call $run_method (i32.const 20)))
  (func $data_certificate (call $run_method (i32.const 21)))
  (func $time (call $run_method (i32.const 22)))
  (func $global_timer_set (call $run_method (i32.const 23)))
  (func $performance_counter (call $run_method (i32.const 24)))
  (func $is_controller (call $run_method (i32.const 25)))
  (func $in_replicated_execution (call $run_method (i32.const 26)))
  (func $cost (call $run_method (i32.const 27)))
  (func $env_var (call $run_method (i32.const 28)))
  (func $debug_print (call $run_method (i32.const 29)))
  (func $trap (call $run_method (i32.const 30)))
  (func $call (call $run_method (i32.const 31)))
  (func $call_and_reply (call $run_method (i32.const 32)))

  (table $ops 36 funcref)
  (elem (table $ops) (i32.const 0) func $op_noop $op_msg_arg_data $op_msg_caller $op_msg_reply $op_msg_reject $op_msg_reject_info $op_msg_deadline $op_msg_method_name $op_accept_message $op_canister_self $op_cycle_balance $op_msg_cycles $op_msg_cycles_refunded $op_cycles_burn $op_mint_cycles $op_status $op_subnet_self $op_root_key $op_stable32 $op_stable64 $op_certified_data_set $op_data_certificate $op_time $op_global_timer_set $op_performance_counter $op_is_controller $op_in_replicated_execution $op_cost $op_env_var $op_debug_print $op_trap $op_call $op_call_and_reply $on_reply $on_reject $on_cleanup)

  (export "canister_init" (func $canister_init))
  (export "canister_pre_upgrade" (func $canister_pre_upgrade))
  (export "canister_post_upgrade" (func $canister_post_upgrade))
  (export "canister_heartbeat" (func $canister_heartbeat))
  (export "canister_global_timer" (func $canister_global_timer))
  (export "canister_inspect_message" (func $canister_inspect_message))
  (export "canister_on_low_wasm_memory" (func $canister_on_low_wasm_memory))
  (export "canister_update set_hook" (func $set_hook))
  (export "canister_query hooks" (func $hooks))
  (export "canister_query hook_output" (func $hook_output))
  (export "canister_query callback_log" (func $callback_log))
  (export "canister_update run" (func $run))
  (export "canister_query run_query" (func $run))
  (export "canister_composite_query run_composite" (func $run))
  (export "canister_update noop" (func $noop))
  (export "canister_query noop_query" (func $noop))
  (export "canister_update msg_arg_data" (func $msg_arg_data))
  (export "canister_query msg_arg_data_query" (func $msg_arg_data))
  (export "canister_update msg_caller" (func $msg_caller))
  (export "canister_query msg_caller_query" (func $msg_caller))
  (export "canister_update msg_reply" (func $msg_reply))
  (export "canister_query msg_reply_query" (func $msg_reply))
  (export "canister_update msg_reject" (func $msg_reject))
  (export "canister_query msg_reject_query" (func $msg_reject))
  (export "canister_update msg_reject_info" (func $msg_reject_info))
  (export "canister_query msg_reject_info_query" (func $msg_reject_info))
  (export "canister_update msg_deadline" (func $msg_deadline))
  (export "canister_query msg_deadline_query" (func $msg_deadline))
  (export "canister_update msg_method_name" (func $msg_method_name))
  (export "canister_query msg_method_name_query" (func $msg_method_name))
  (export "canister_update accept_message" (func $accept_message))
  (export "canister_query accept_message_query" (func $accept_message))
  (export "canister_update canister_self" (func $canister_self))
  (export "canister_query canister_self_query" (func $canister_self))
  (export "canister_update cycle_balance" (func $cycle_balance))
  (export "canister_query cycle_balance_query" (func $cycle_balance))
  (export "canister_update msg_cycles" (func $msg_cycles))
  (export "canister_query msg_cycles_query" (func $msg_cycles))
  (export "canister_update msg_cycles_refunded" (func $msg_cycles_refunded))
  (export "canister_query msg_cycles_refunded_query" (func $msg_cycles_refunded))
  (export "canister_update cycles_burn" (func $cycles_burn))
  (export "canister_query cycles_burn_query" (func $cycles_burn))
  (export "canister_update mint_cycles" (func $mint_cycles))
  (export "canister_query mint_cycles_query" (func $mint_cycles))
  (export "canister_update status" (func $status))
  (export "canister_query status_query" (func $status))
  (export "canister_update subnet_self" (func $subnet_self))
  (export "canister_query subnet_self_query" (func $subnet_self))
  (export "canister_update root_key" (func $root_key))
  (export "canister_query root_key_query" (func $root_key))
  (export "canister_update stable32" (func $stable32))
  (export "canister_query stable32_query" (func $stable32))
  (export "canister_update stable64" (func $stable64))
  (export "canister_query stable64_query" (func $stable64))
  (export "canister_update certified_data_set" (func $certified_data_set))
  (export "canister_query certified_data_set_query" (func $certified_data_set))
  (export "canister_update data_certificate" (func $data_certificate))
  (export "canister_query data_certificate_query" (func $data_certificate))
  (export "canister_update time" (func $time))
  (export "canister_query time_query" (func $time))
  (export "canister_update global_timer_set" (func $global_timer_set))
  (export "canister_query global_timer_set_query" (func $global_timer_set))
  (export "canister_update performance_counter" (func $performance_counter))
  (export "canister_query performance_counter_query" (func $performance_counter))
  (export "canister_update is_controller" (func $is_controller))
  (export "canister_query is_controller_query" (func $is_controller))
  (export "canister_update in_replicated_execution" (func $in_replicated_execution))
  (export "canister_query in_replicated_execution_query" (func $in_replicated_execution))
  (export "canister_update cost" (func $cost))
  (export "canister_query cost_query" (func $cost))
  (export "canister_update env_var" (func $env_var))
  (export "canister_query env_var_query" (func $env_var))
  (export "canister_update debug_print" (func $debug_print))
  (export "canister_query debug_print_query" (func $debug_print))
  (export "canister_update trap" (func $trap))
  (export "canister_query trap_query" (func $trap))
  (export "canister_update call" (func $call))
  (export "canister_query call_query" (func $call))
  (export "canister_update call_and_reply" (func $call_and_reply))
  (export "canister_query call_and_reply_query" (func $call_and_reply))
)
