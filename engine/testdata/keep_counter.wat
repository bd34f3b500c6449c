;; keep_counter: a wasm32 canister that declares enhanced orthogonal
;; persistence (the icp:private enhanced-orthogonal-persistence section the
;; replica's expects_enhanced_orthogonal_persistence reads; it does not
;; look at the memory type), so the IC upgrades it with
;; wasm_memory_persistence keep. Its state lives only in the heap and a
;; global: what an upgrade keeps and what it resets is visible.
;;
;; Heap (little-endian):
;;   0x100  u64 counter          (inc)
;;   0x110  u64 start count      (the start function adds 1 each time it runs)
;;   0x200  u8  marker           (data segment: 0x01 here, 0x02 in _v2; mark sets 0xaa)
;;   0x10000 u64 pre_upgrade count (page 1, zero until the first pre_upgrade:
;;               a page only pre_upgrade writes, which a kept heap must hold)
;; Global $g (mut i64): 7 at instantiation, inc adds 1.
;;
;; Methods:
;;   canister_update inc    counter += 1, $g += 1; replies the u64 counter
;;   canister_update mark   writes 0xaa at 0x200
;;   canister_update grow   memory.grow 2 pages
;;   canister_query  get    replies 48 bytes: counter, start count, marker
;;                          (as u64), $g, memory size in pages, pre_upgrade count
;;   canister_pre_upgrade   pre_upgrade count += 1
;;   canister_query  version replies u64 1 (2 in _v2)
;;
;; wat2wasm-flags: --enable-annotations
(module
  (@custom "icp:private enhanced-orthogonal-persistence" "32-bit test fixture, layout version 1")
  (import "ic0" "msg_reply_data_append" (func $ic0.msg_reply_data_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $ic0.msg_reply))

  (memory (export "memory") 2)
  (global $g (mut i64) (i64.const 7))
  (data (i32.const 0x200) "\01")

  (func $start
    (i64.store (i32.const 0x110) (i64.add (i64.load (i32.const 0x110)) (i64.const 1))))
  (start $start)

  (func $reply_u64 (param $v i64)
    (i64.store (i32.const 0x400) (local.get $v))
    (call $ic0.msg_reply_data_append (i32.const 0x400) (i32.const 8))
    (call $ic0.msg_reply))

  (func (export "canister_update inc")
    (i64.store (i32.const 0x100) (i64.add (i64.load (i32.const 0x100)) (i64.const 1)))
    (global.set $g (i64.add (global.get $g) (i64.const 1)))
    (call $reply_u64 (i64.load (i32.const 0x100))))

  (func (export "canister_pre_upgrade")
    (i64.store (i32.const 0x10000) (i64.add (i64.load (i32.const 0x10000)) (i64.const 1))))

  (func (export "canister_update mark")
    (i32.store8 (i32.const 0x200) (i32.const 0xaa))
    (call $reply_u64 (i64.const 0)))

  (func (export "canister_update grow")
    (drop (memory.grow (i32.const 2)))
    (call $reply_u64 (i64.extend_i32_u (memory.size))))

  (func (export "canister_query get")
    (i64.store (i32.const 0x400) (i64.load (i32.const 0x100)))
    (i64.store (i32.const 0x408) (i64.load (i32.const 0x110)))
    (i64.store (i32.const 0x410) (i64.load8_u (i32.const 0x200)))
    (i64.store (i32.const 0x418) (global.get $g))
    (i64.store (i32.const 0x420) (i64.extend_i32_u (memory.size)))
    (i64.store (i32.const 0x428) (i64.load (i32.const 0x10000)))
    (call $ic0.msg_reply_data_append (i32.const 0x400) (i32.const 48))
    (call $ic0.msg_reply))

  (func (export "canister_query version")
    (call $reply_u64 (i64.const 1)))
)
