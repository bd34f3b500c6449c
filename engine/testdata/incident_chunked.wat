;; incident_chunked: incident_fixed.wat with a pre_upgrade and post_upgrade
;; that move the data store through stable memory in pieces of 64 MiB, as
;; ic-cdk's buffered StableWriter/StableReader do, instead of one call: a
;; single System API call may copy at most the slice limit's worth of bytes
;; (2 G instructions for an upgrade: one per byte), so incident_fixed
;; cannot save a store of more than ~1.86 GiB. TestRehearsalMemory's
;; 4 GiB case rehearses this module. Everything else is as below.
;;
;; incident_fixed: the repaired module for the transplant. Identical to
;; incident.wat (globals, memory, data segments, exports, heap layout) except
;; that pre_upgrade writes its header with the 64-bit stable API.
;;
;; incident: modelled on a Rust ic-cdk canister whose pre_upgrade broke once
;; its stable memory passed 4 GiB. Function names (name section) follow the
;; Rust paths such a canister would show in a backtrace.
;;
;; Heap layout (wasm32, like a Rust canister):
;;   0x000000..0x100000  shadow stack, grows down from $__stack_pointer
;;   0x100000..          static data (the panic messages below)
;;   0x101000..0x101020  STATE mirror of the globals: u64 entries, u64 bytes,
;;                       u64 heap_top, u64 checksum
;;   0x110000..heap_top  the data store: records of [u64 n][n bytes, padded
;;                       to a multiple of 8 with more pseudo-random bytes]
;; Globals (all mutable, in this order): $__stack_pointer i32, $entries i64,
;; $bytes i64, $heap_top i32, $checksum i64. checksum = FNV-1a style fold
;; h = (h xor w) * 0x100000001b3 over every u64 word of the data store.
;;
;; Stable memory after a successful pre_upgrade:
;;   0..64    header: "INCD", u32 version 1, u64 entries, u64 bytes,
;;            u64 data store length L, u64 checksum, 24 zero bytes
;;   64..64+L the data store bytes, verbatim
;; Pages grown by grow_stable stay mostly zero (one marker word each call).
;;
;; Methods (raw arguments, little-endian):
;;   canister_init
;;   canister_update add(n u64)         appends ONE entry of n bytes (default 1024,
;;                                      at most 1 GiB) of xorshift64 data seeded by
;;                                      the entry index; replies u64 entries, u64 bytes
;;   canister_update add_chunks(k u64)  appends k entries of 65536 bytes each; same reply
;;   canister_update grow_stable(p u64) stable64_grow(p), writes one u64 marker in the
;;                                      last new page; replies u64 old pages, u64 new pages
;;   canister_query  stats              u64 entries, u64 bytes, u64 checksum (from the
;;                                      globals; traps if the heap mirror disagrees)
;;   canister_query  verify             the same three values recomputed by walking the
;;                                      data store
;;   canister_query  memory_stats       u64 heap pages, u64 stable pages, u64 heap_top
;;   canister_pre_upgrade               ic_cdk::storage::stable_save: body via stable64,
;;                                      header via stable64_size/stable64_write too: the
;;                                      fix; works at any stable size
;;   canister_post_upgrade              ic_cdk::storage::stable_restore: reads the header
;;                                      and data back (stable64 API) and checks the
;;                                      checksum; without a header (e.g. after
;;                                      skip_pre_upgrade on a fresh canister) it starts empty
(module
  (import "ic0" "msg_arg_data_size" (func $ic0::msg_arg_data_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $ic0::msg_arg_data_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $ic0::msg_reply_data_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $ic0::msg_reply))
  (import "ic0" "debug_print" (func $ic0::debug_print (param i32 i32)))
  (import "ic0" "trap" (func $ic0::trap (param i32 i32)))
  (import "ic0" "stable64_size" (func $ic0::stable64_size (result i64)))
  (import "ic0" "stable64_grow" (func $ic0::stable64_grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $ic0::stable64_write (param i64 i64 i64)))
  (import "ic0" "stable64_read" (func $ic0::stable64_read (param i64 i64 i64)))

  (memory (export "memory") 17)

  (global $__stack_pointer (mut i32) (i32.const 0x100000))
  (global $entries (mut i64) (i64.const 0))
  (global $bytes (mut i64) (i64.const 0))
  (global $heap_top (mut i32) (i32.const 0x110000))
  (global $checksum (mut i64) (i64.const 0xcbf29ce484222325))

  (data (i32.const 0x100000) "Panicked at 'out of memory: the heap cannot grow', src/store.rs:61:13")
  (data (i32.const 0x100050) "Panicked at 'entry too large: at most 1 GiB per add', src/store.rs:57:9")
  (data (i32.const 0x1000a0) "Panicked at 'called `Result::unwrap()` on an `Err` value: OutOfMemory', src/lib.rs:88:45")
  (data (i32.const 0x100100) "Panicked at 'state corrupted: globals and heap mirror disagree', src/lib.rs:102:9")
  (data (i32.const 0x100160) "Panicked at 'deserialization failed: checksum mismatch', src/lib.rs:131:9")
  (data (i32.const 0x1001b0) "Panicked at 'serialization failed: stable memory too large to read in one go', src/lib.rs:42:9")
  (data (i32.const 0x100210) "incident: no saved state in stable memory, starting empty")

  ;; ---- panics (std + ic-cdk shape: message, then ic0.trap) ----

  (func $ic_cdk::api::trap (param $ptr i32) (param $len i32)
    (call $ic0::trap (local.get $ptr) (local.get $len)))

  (func $std::panicking::begin_panic (param $ptr i32) (param $len i32)
    (call $ic_cdk::api::trap (local.get $ptr) (local.get $len))
    (unreachable))

  ;; ---- argument and reply helpers ----

  (func $ic_cdk::api::call::arg_u64 (param $default i64) (result i64)
    (local $sp i32)
    (if (i32.lt_u (call $ic0::msg_arg_data_size) (i32.const 8))
      (then (return (local.get $default))))
    (local.set $sp (i32.sub (global.get $__stack_pointer) (i32.const 16)))
    (global.set $__stack_pointer (local.get $sp))
    (call $ic0::msg_arg_data_copy (local.get $sp) (i32.const 0) (i32.const 8))
    (global.set $__stack_pointer (i32.add (local.get $sp) (i32.const 16)))
    (i64.load (local.get $sp)))

  (func $ic_cdk::api::call::reply_u64x3 (param $a i64) (param $b i64) (param $c i64) (param $n i32)
    (local $sp i32)
    (local.set $sp (i32.sub (global.get $__stack_pointer) (i32.const 32)))
    (global.set $__stack_pointer (local.get $sp))
    (i64.store (local.get $sp) (local.get $a))
    (i64.store offset=8 (local.get $sp) (local.get $b))
    (i64.store offset=16 (local.get $sp) (local.get $c))
    (call $ic0::msg_reply_data_append (local.get $sp) (i32.mul (local.get $n) (i32.const 8)))
    (call $ic0::msg_reply)
    (global.set $__stack_pointer (i32.add (local.get $sp) (i32.const 32))))

  ;; ---- the data store ----

  (func $rand::xorshift64 (param $x i64) (result i64)
    (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
    (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
    (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))

  (func $incident::fold (param $h i64) (param $w i64) (result i64)
    (i64.mul (i64.xor (local.get $h) (local.get $w)) (i64.const 0x100000001b3)))

  (func $incident::State::save_mirror
    (i64.store (i32.const 0x101000) (global.get $entries))
    (i64.store (i32.const 0x101008) (global.get $bytes))
    (i64.store (i32.const 0x101010) (i64.extend_i32_u (global.get $heap_top)))
    (i64.store (i32.const 0x101018) (global.get $checksum)))

  ;; ensure_heap grows the wasm memory so that [0, end) is addressable.
  (func $alloc::ensure_heap (param $end i64)
    (local $have i64)
    (if (i64.gt_u (local.get $end) (i64.const 0x100000000))
      (then (call $std::panicking::begin_panic (i32.const 0x100000) (i32.const 69))))
    (local.set $have (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
    (if (i64.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.lt_s
              (memory.grow (i32.wrap_i64 (i64.shr_u
                (i64.add (i64.sub (local.get $end) (local.get $have)) (i64.const 0xffff))
                (i64.const 16))))
              (i32.const 0))
          (then (call $std::panicking::begin_panic (i32.const 0x100000) (i32.const 69)))))))

  (func $incident::Store::append (param $n i64)
    (local $p i32) (local $end i32) (local $x i64) (local $h i64) (local $padded i64)
    (if (i64.gt_u (local.get $n) (i64.const 0x40000000))
      (then (call $std::panicking::begin_panic (i32.const 0x100050) (i32.const 71))))
    (local.set $padded (i64.and (i64.add (local.get $n) (i64.const 7)) (i64.const -8)))
    (call $alloc::ensure_heap
      (i64.add (i64.extend_i32_u (global.get $heap_top)) (i64.add (local.get $padded) (i64.const 8))))
    (local.set $p (global.get $heap_top))
    (local.set $end (i32.add (i32.add (local.get $p) (i32.const 8)) (i32.wrap_i64 (local.get $padded))))
    (i64.store (local.get $p) (local.get $n))
    (local.set $h (call $incident::fold (global.get $checksum) (local.get $n)))
    (local.set $x (i64.add (i64.mul (i64.add (global.get $entries) (i64.const 1))
                                    (i64.const 0x9e3779b97f4a7c15))
                           (i64.const 1)))
    (local.set $p (i32.add (local.get $p) (i32.const 8)))
    (block $done
      (loop $fill
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (call $rand::xorshift64 (local.get $x)))
        (i64.store (local.get $p) (local.get $x))
        (local.set $h (call $incident::fold (local.get $h) (local.get $x)))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $fill)))
    (global.set $heap_top (local.get $end))
    (global.set $entries (i64.add (global.get $entries) (i64.const 1)))
    (global.set $bytes (i64.add (global.get $bytes) (local.get $n)))
    (global.set $checksum (local.get $h))
    (call $incident::State::save_mirror))

  ;; walk recomputes entries, bytes and checksum from the data store and
  ;; stores them at $out (24 bytes).
  (func $incident::Store::walk (param $out i32)
    (local $p i32) (local $next i32) (local $n i64) (local $e i64) (local $b i64) (local $h i64)
    (local.set $h (i64.const 0xcbf29ce484222325))
    (local.set $p (i32.const 0x110000))
    (block $done
      (loop $records
        (br_if $done (i32.ge_u (local.get $p) (global.get $heap_top)))
        (local.set $n (i64.load (local.get $p)))
        (local.set $h (call $incident::fold (local.get $h) (local.get $n)))
        (local.set $next (i32.add (i32.add (local.get $p) (i32.const 8))
          (i32.wrap_i64 (i64.and (i64.add (local.get $n) (i64.const 7)) (i64.const -8)))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (block $words_done
          (loop $words
            (br_if $words_done (i32.ge_u (local.get $p) (local.get $next)))
            (local.set $h (call $incident::fold (local.get $h) (i64.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (br $words)))
        (local.set $e (i64.add (local.get $e) (i64.const 1)))
        (local.set $b (i64.add (local.get $b) (local.get $n)))
        (br $records)))
    (i64.store (local.get $out) (local.get $e))
    (i64.store offset=8 (local.get $out) (local.get $b))
    (i64.store offset=16 (local.get $out) (local.get $h)))

  ;; ---- methods ----

  (func $incident::init
    (call $incident::State::save_mirror))

  (func $incident::add
    (call $incident::Store::append (call $ic_cdk::api::call::arg_u64 (i64.const 1024)))
    (call $ic_cdk::api::call::reply_u64x3 (global.get $entries) (global.get $bytes) (i64.const 0) (i32.const 2)))

  (func $incident::add_chunks
    (local $k i64)
    (local.set $k (call $ic_cdk::api::call::arg_u64 (i64.const 1)))
    (block $done
      (loop $each
        (br_if $done (i64.eqz (local.get $k)))
        (call $incident::Store::append (i64.const 65536))
        (local.set $k (i64.sub (local.get $k) (i64.const 1)))
        (br $each)))
    (call $ic_cdk::api::call::reply_u64x3 (global.get $entries) (global.get $bytes) (i64.const 0) (i32.const 2)))

  (func $incident::grow_stable
    (local $pages i64) (local $old i64) (local $new i64) (local $sp i32)
    (local.set $pages (call $ic_cdk::api::call::arg_u64 (i64.const 1)))
    (local.set $old (call $ic0::stable64_grow (local.get $pages)))
    (if (i64.lt_s (local.get $old) (i64.const 0))
      (then (call $std::panicking::begin_panic (i32.const 0x1000a0) (i32.const 88))))
    (local.set $new (i64.add (local.get $old) (local.get $pages)))
    (if (i64.gt_u (local.get $pages) (i64.const 0))
      (then
        (local.set $sp (i32.sub (global.get $__stack_pointer) (i32.const 16)))
        (global.set $__stack_pointer (local.get $sp))
        (i64.store (local.get $sp) (local.get $new))
        (call $ic0::stable64_write
          (i64.sub (i64.shl (local.get $new) (i64.const 16)) (i64.const 8))
          (i64.extend_i32_u (local.get $sp)) (i64.const 8))
        (global.set $__stack_pointer (i32.add (local.get $sp) (i32.const 16)))))
    (call $ic_cdk::api::call::reply_u64x3 (local.get $old) (local.get $new) (i64.const 0) (i32.const 2)))

  (func $incident::stats
    (if (i32.or
          (i32.or (i64.ne (i64.load (i32.const 0x101000)) (global.get $entries))
                  (i64.ne (i64.load (i32.const 0x101008)) (global.get $bytes)))
          (i32.or (i64.ne (i64.load (i32.const 0x101010)) (i64.extend_i32_u (global.get $heap_top)))
                  (i64.ne (i64.load (i32.const 0x101018)) (global.get $checksum))))
      (then (call $std::panicking::begin_panic (i32.const 0x100100) (i32.const 81))))
    (call $ic_cdk::api::call::reply_u64x3
      (global.get $entries) (global.get $bytes) (global.get $checksum) (i32.const 3)))

  (func $incident::verify
    (local $sp i32)
    (local.set $sp (i32.sub (global.get $__stack_pointer) (i32.const 32)))
    (global.set $__stack_pointer (local.get $sp))
    (call $incident::Store::walk (local.get $sp))
    (call $ic_cdk::api::call::reply_u64x3
      (i64.load (local.get $sp)) (i64.load offset=8 (local.get $sp)) (i64.load offset=16 (local.get $sp))
      (i32.const 3))
    (global.set $__stack_pointer (i32.add (local.get $sp) (i32.const 32))))

  (func $incident::memory_stats
    (call $ic_cdk::api::call::reply_u64x3
      (i64.extend_i32_u (memory.size)) (call $ic0::stable64_size)
      (i64.extend_i32_u (global.get $heap_top)) (i32.const 3)))

  ;; ---- upgrade: save ----

  ;; stable64_grow_to makes stable memory at least $bytes long.
  (func $ic_cdk::api::stable::stable64_grow_to (param $bytes i64)
    (local $have i64)
    (local.set $have (i64.shl (call $ic0::stable64_size) (i64.const 16)))
    (if (i64.gt_u (local.get $bytes) (local.get $have))
      (then
        (if (i64.lt_s
              (call $ic0::stable64_grow (i64.shr_u
                (i64.add (i64.sub (local.get $bytes) (local.get $have)) (i64.const 0xffff))
                (i64.const 16)))
              (i64.const 0))
          (then (call $std::panicking::begin_panic (i32.const 0x1000a0) (i32.const 88)))))))

  ;; StableWriter::write copies the data store body after the 64-byte header.
  ;; (incident_chunked: in pieces of at most 64 MiB.)
  (func $ic_cdk::api::stable::StableWriter::write (param $len i64)
    (local $off i64) (local $n i64)
    (call $ic_cdk::api::stable::stable64_grow_to (i64.add (i64.const 64) (local.get $len)))
    (block $done
      (loop $pieces
        (br_if $done (i64.ge_u (local.get $off) (local.get $len)))
        (local.set $n (i64.sub (local.get $len) (local.get $off)))
        (if (i64.gt_u (local.get $n) (i64.const 0x4000000))
          (then (local.set $n (i64.const 0x4000000))))
        (call $ic0::stable64_write (i64.add (i64.const 64) (local.get $off))
          (i64.add (i64.const 0x110000) (local.get $off)) (local.get $n))
        (local.set $off (i64.add (local.get $off) (local.get $n)))
        (br $pieces))))

  ;; stable_save writes the data store body, then the 64-byte header.
  (func $ic_cdk::storage::stable_save
    (local $sp i32) (local $len i64)
    (local.set $len (i64.extend_i32_u (i32.sub (global.get $heap_top) (i32.const 0x110000))))
    (call $ic_cdk::api::stable::StableWriter::write (local.get $len))
    (local.set $sp (i32.sub (global.get $__stack_pointer) (i32.const 64)))
    (global.set $__stack_pointer (local.get $sp))
    (i32.store (local.get $sp) (i32.const 0x44434e49)) ;; "INCD"
    (i32.store offset=4 (local.get $sp) (i32.const 1))
    (i64.store offset=8 (local.get $sp) (global.get $entries))
    (i64.store offset=16 (local.get $sp) (global.get $bytes))
    (i64.store offset=24 (local.get $sp) (local.get $len))
    (i64.store offset=32 (local.get $sp) (global.get $checksum))
    (i64.store offset=40 (local.get $sp) (i64.const 0))
    (i64.store offset=48 (local.get $sp) (i64.const 0))
    (i64.store offset=56 (local.get $sp) (i64.const 0))
    (call $ic_cdk::api::stable::StableWriter::flush (local.get $sp))
    (global.set $__stack_pointer (i32.add (local.get $sp) (i32.const 64))))

  ;; StableWriter::flush writes the header through the 64-bit API, which
  ;; works at any stable memory size.
  (func $ic_cdk::api::stable::stable64_size (result i64)
    (call $ic0::stable64_size))

  (func $ic_cdk::api::stable::StableWriter::flush (param $src i32)
    (if (i64.lt_u (call $ic_cdk::api::stable::stable64_size) (i64.const 1))
      (then (call $std::panicking::begin_panic (i32.const 0x1000a0) (i32.const 88))))
    (call $ic0::stable64_write (i64.const 0) (i64.extend_i32_u (local.get $src)) (i64.const 64)))

  (func $incident::pre_upgrade
    (call $ic_cdk::storage::stable_save))

  ;; ---- upgrade: restore ----

  (func $ic_cdk::storage::stable_restore
    (local $sp i32) (local $len i64) (local $out i32)
    (if (i64.lt_u (call $ic0::stable64_size) (i64.const 1))
      (then (call $incident::no_saved_state) (return)))
    (local.set $sp (i32.sub (global.get $__stack_pointer) (i32.const 96)))
    (global.set $__stack_pointer (local.get $sp))
    (call $ic0::stable64_read (i64.extend_i32_u (local.get $sp)) (i64.const 0) (i64.const 64))
    (if (i32.or (i32.ne (i32.load (local.get $sp)) (i32.const 0x44434e49)) ;; "INCD"
                (i32.ne (i32.load offset=4 (local.get $sp)) (i32.const 1)))
      (then
        (global.set $__stack_pointer (i32.add (local.get $sp) (i32.const 96)))
        (call $incident::no_saved_state)
        (return)))
    (local.set $len (i64.load offset=24 (local.get $sp)))
    (call $alloc::ensure_heap (i64.add (i64.const 0x110000) (local.get $len)))
    (call $ic_cdk::api::stable::StableReader::read (local.get $len))
    (global.set $heap_top (i32.wrap_i64 (i64.add (i64.const 0x110000) (local.get $len))))
    (local.set $out (i32.add (local.get $sp) (i32.const 64)))
    (call $incident::Store::walk (local.get $out))
    (if (i32.or
          (i32.or (i64.ne (i64.load (local.get $out)) (i64.load offset=8 (local.get $sp)))
                  (i64.ne (i64.load offset=8 (local.get $out)) (i64.load offset=16 (local.get $sp))))
          (i64.ne (i64.load offset=16 (local.get $out)) (i64.load offset=32 (local.get $sp))))
      (then (call $std::panicking::begin_panic (i32.const 0x100160) (i32.const 73))))
    (global.set $entries (i64.load (local.get $out)))
    (global.set $bytes (i64.load offset=8 (local.get $out)))
    (global.set $checksum (i64.load offset=16 (local.get $out)))
    (call $incident::State::save_mirror)
    (global.set $__stack_pointer (i32.add (local.get $sp) (i32.const 96))))

  ;; StableReader::read reads the data store body back in pieces of at most
  ;; 64 MiB (incident_chunked).
  (func $ic_cdk::api::stable::StableReader::read (param $len i64)
    (local $off i64) (local $n i64)
    (block $done
      (loop $pieces
        (br_if $done (i64.ge_u (local.get $off) (local.get $len)))
        (local.set $n (i64.sub (local.get $len) (local.get $off)))
        (if (i64.gt_u (local.get $n) (i64.const 0x4000000))
          (then (local.set $n (i64.const 0x4000000))))
        (call $ic0::stable64_read (i64.add (i64.const 0x110000) (local.get $off))
          (i64.add (i64.const 64) (local.get $off)) (local.get $n))
        (local.set $off (i64.add (local.get $off) (local.get $n)))
        (br $pieces))))

  (func $incident::no_saved_state
    (call $ic0::debug_print (i32.const 0x100210) (i32.const 57))
    (call $incident::State::save_mirror))

  (func $incident::post_upgrade
    (call $ic_cdk::storage::stable_restore))

  (export "canister_init" (func $incident::init))
  (export "canister_update add" (func $incident::add))
  (export "canister_update add_chunks" (func $incident::add_chunks))
  (export "canister_update grow_stable" (func $incident::grow_stable))
  (export "canister_query stats" (func $incident::stats))
  (export "canister_query verify" (func $incident::verify))
  (export "canister_query memory_stats" (func $incident::memory_stats))
  (export "canister_pre_upgrade" (func $incident::pre_upgrade))
  (export "canister_post_upgrade" (func $incident::post_upgrade))
)
