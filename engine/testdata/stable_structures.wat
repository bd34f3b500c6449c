;; stable_structures: writes an ic-stable-structures layout into stable
;; memory on canister_init, byte for byte as the Rust library lays it out
;; (MemoryManager V1, BTreeMap V1, Vec V1, Log V1), so layout decoders have
;; a real-shaped input. See README.md for every field.
;;
;; Stable memory (6 pages of 64 KiB):
;;   page 0      MemoryManager header: "MGR", version 1, 5 allocated buckets,
;;               bucket size 1 page, 32 reserved bytes, sizes of memories
;;               0..254 in pages (2, 1, 1, 1, 0...), then at byte 2080 the
;;               bucket owner table (32768 bytes; 0xff = unallocated):
;;               bucket 0 -> memory 0, 1 -> 1, 2 -> 2, 3 -> 3, 4 -> 0
;;   page 1+b    bucket b
;;   memory 0    StableBTreeMap V1 (buckets 0 and 4): max key 16, max value
;;               32, 3 entries alpha/beta/gamma in one leaf node
;;   memory 1    StableVec<u64> V1 ("SVC"): 3 entries 10, 20, 30
;;   memory 2    StableLog index ("GLI"): 2 entries ending at 5 and 12
;;   memory 3    StableLog data ("GLD"): "hello", "stable!"
;;
;; Methods (raw arguments, little-endian):
;;   canister_init                writes the layout (stable memory must be empty)
;;   canister_update vec_push(v u64)  appends v to the StableVec in memory 1
;;                                (changes stable page 2 only); replies u64 new length
;;   canister_query  stable_pages replies u64 stable64_size
;;
;; The heap mirrors the stable image at 0x10000 + stable offset before init
;; copies it out, so the data segments below are the image's non-zero runs.
(module
  (import "ic0" "msg_arg_data_size" (func $ic0.msg_arg_data_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $ic0.msg_arg_data_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $ic0.msg_reply_data_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $ic0.msg_reply))
  (import "ic0" "trap" (func $ic0.trap (param i32 i32)))
  (import "ic0" "stable64_size" (func $ic0.stable64_size (result i64)))
  (import "ic0" "stable64_grow" (func $ic0.stable64_grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $ic0.stable64_write (param i64 i64 i64)))
  (import "ic0" "stable64_read" (func $ic0.stable64_read (param i64 i64 i64)))

  (memory (export "memory") 7)

  (data (i32.const 0x100) "stable_structures: stable memory is not empty") ;; 45
  (data (i32.const 0x140) "stable_structures: vec_push needs a u64 argument") ;; 48
  (data (i32.const 0x180) "stable_structures: StableVec bucket is full") ;; 43

  (data (i32.const 0x10000) "MGR\01\05\00\01")
  (data (i32.const 0x10028) "\02\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\01")
  (data (i32.const 0x10821) "\01\02\03")
  (data (i32.const 0x20000) "BTR\01\10\00\00\00 \00\00\00t\00\00\00\00\00\00\00\03")
  (data (i32.const 0x20034) "BTA\01\00\00\00\00\cf\02\00\00\00\00\00\00\01\00\00\00\00\00\00\00C\03")
  (data (i32.const 0x20064) "CHK\01\01\00\00\00\00\00\00\00\00\00\00\00BTN\01\00\03\00\05\00\00\00alpha\00\00\00\00\00\00\00\00\00\00\00\0b\00\00\00first value")
  (data (i32.const 0x200b3) "\04\00\00\00beta\00\00\00\00\00\00\00\00\00\00\00\00\0c\00\00\00second value")
  (data (i32.const 0x200eb) "\05\00\00\00gamma\00\00\00\00\00\00\00\00\00\00\00\0b\00\00\00third value")
  (data (i32.const 0x20343) "CHK\01")
  (data (i32.const 0x30000) "SVC\01\03\00\00\00\00\00\00\00\08\00\00\00\01")
  (data (i32.const 0x30040) "\0a\00\00\00\00\00\00\00\14\00\00\00\00\00\00\00\1e")
  (data (i32.const 0x40000) "GLI\01")
  (data (i32.const 0x40020) "\02\00\00\00\00\00\00\00\05\00\00\00\00\00\00\00\0c")
  (data (i32.const 0x50000) "GLD\01")
  (data (i32.const 0x50020) "hellostable!")

  (func $ic_stable_structures::memory_manager::MemoryManager::init
    (local $p i32)
    (if (i64.ne (call $ic0.stable64_size) (i64.const 0))
      (then (call $ic0.trap (i32.const 0x100) (i32.const 45))))
    ;; mark every bucket after the allocated ones as unallocated (0xff)
    (local.set $p (i32.const 0x10825))
    (block $done
      (loop $fill
        (br_if $done (i32.ge_u (local.get $p) (i32.const 0x18820)))
        (i32.store8 (local.get $p) (i32.const 0xff))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $fill)))
    (drop (call $ic0.stable64_grow (i64.const 6)))
    (call $ic0.stable64_write (i64.const 0) (i64.const 0x10000) (i64.const 0x60000)))

  (func $ic_stable_structures::vec::Vec::push
    (local $len i64)
    (if (i32.lt_u (call $ic0.msg_arg_data_size) (i32.const 8))
      (then (call $ic0.trap (i32.const 0x140) (i32.const 48))))
    (call $ic0.msg_arg_data_copy (i32.const 0x200) (i32.const 0) (i32.const 8))
    (call $ic0.stable64_read (i64.const 0x208) (i64.add (i64.const 0x20000) (i64.const 4)) (i64.const 8))
    (local.set $len (i64.load (i32.const 0x208)))
    ;; one 64 KiB bucket holds (65536 - 64) / 8 = 8184 entries
    (if (i64.ge_u (local.get $len) (i64.const 8184))
      (then (call $ic0.trap (i32.const 0x180) (i32.const 43))))
    (call $ic0.stable64_write
      (i64.add (i64.const 0x20000) (i64.add (i64.const 64) (i64.mul (local.get $len) (i64.const 8))))
      (i64.const 0x200) (i64.const 8))
    (i64.store (i32.const 0x208) (i64.add (local.get $len) (i64.const 1)))
    (call $ic0.stable64_write (i64.add (i64.const 0x20000) (i64.const 4)) (i64.const 0x208) (i64.const 8))
    (call $ic0.msg_reply_data_append (i32.const 0x208) (i32.const 8))
    (call $ic0.msg_reply))

  (func $stable_pages
    (i64.store (i32.const 0x200) (call $ic0.stable64_size))
    (call $ic0.msg_reply_data_append (i32.const 0x200) (i32.const 8))
    (call $ic0.msg_reply))

  (export "canister_init" (func $ic_stable_structures::memory_manager::MemoryManager::init))
  (export "canister_update vec_push" (func $ic_stable_structures::vec::Vec::push))
  (export "canister_query stable_pages" (func $stable_pages))
)
