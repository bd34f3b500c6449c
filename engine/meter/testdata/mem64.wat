;; wat2wasm-flags: --enable-memory64
;; The memory64 lowering's corpus (meter/lower64.go): every memory
;; instruction with i64 addresses, for the in-module test (lower64_test.go)
;; and the differential test against wasmtime (bench/mem64diff), which run
;; each export at edge addresses and compare results, memory and traps.
(module
  (memory $m (export "memory") i64 1 4)
  (table $t i64 3 3 funcref)
  (elem (table $t) (i64.const 0) func $one $two)
  (data (i64.const 16) "canscope")
  (data $passive "0123456789abcdef")
  (type $v2i (func (result i64)))
  (func $one (result i64) (i64.const 1))
  (func $two (result i64) (i64.const 2))

  ;; loads and stores of every width at address a, offset 0 or 3
  (func (export "load8") (param $a i64) (result i64) (i64.load8_u (local.get $a)))
  (func (export "load8s_off") (param $a i64) (result i64) (i64.load8_s offset=3 (local.get $a)))
  (func (export "load16") (param $a i64) (result i64) (i64.load16_u (local.get $a)))
  (func (export "load32") (param $a i64) (result i64) (i64.load32_u (local.get $a)))
  (func (export "load64") (param $a i64) (result i64) (i64.load (local.get $a)))
  (func (export "load64_off") (param $a i64) (result i64) (i64.load offset=3 (local.get $a)))
  (func (export "i32load") (param $a i64) (result i32) (i32.load (local.get $a)))
  (func (export "i32load16s") (param $a i64) (result i32) (i32.load16_s offset=1 (local.get $a)))
  (func (export "f32load") (param $a i64) (result f32) (f32.load (local.get $a)))
  (func (export "f64load") (param $a i64) (result f64) (f64.load (local.get $a)))
  (func (export "load_bigoff") (param $a i64) (result i64) (i64.load offset=4294967296 (local.get $a)))
  (func (export "store8") (param $a i64) (param $v i64) (i64.store8 (local.get $a) (local.get $v)))
  (func (export "store16") (param $a i64) (param $v i64) (i64.store16 offset=3 (local.get $a) (local.get $v)))
  (func (export "store32") (param $a i64) (param $v i64) (i64.store32 (local.get $a) (local.get $v)))
  (func (export "store64") (param $a i64) (param $v i64) (i64.store (local.get $a) (local.get $v)))
  (func (export "i32store") (param $a i64) (param $v i64) (i32.store (local.get $a) (i32.wrap_i64 (local.get $v))))
  (func (export "i32store8") (param $a i64) (param $v i64) (i32.store8 offset=7 (local.get $a) (i32.wrap_i64 (local.get $v))))
  (func (export "f32store") (param $a i64) (param $v i64) (f32.store (local.get $a) (f32.convert_i64_u (local.get $v))))
  (func (export "f64store") (param $a i64) (param $v i64) (f64.store (local.get $a) (f64.convert_i64_u (local.get $v))))
  (func (export "store_bigoff") (param $a i64) (param $v i64) (i64.store offset=4294967296 (local.get $a) (local.get $v)))

  ;; memory.size, memory.grow
  (func (export "size") (param i64) (result i64) (memory.size))
  (func (export "grow") (param $d i64) (result i64) (memory.grow (local.get $d)))

  ;; bulk memory: fill(d, byte, n), copy(d, s=16, n) and copy(d=0, s, n),
  ;; init(d, segment offset 2, n)
  (func (export "fill") (param $d i64) (param $n i64) (memory.fill (local.get $d) (i32.const 0x5a) (local.get $n)))
  (func (export "copy_to") (param $d i64) (param $n i64) (memory.copy (local.get $d) (i64.const 16) (local.get $n)))
  (func (export "copy_from") (param $s i64) (param $n i64) (memory.copy (i64.const 0) (local.get $s) (local.get $n)))
  (func (export "init") (param $d i64) (param $n i64) (memory.init $passive (local.get $d) (i32.const 2) (i32.wrap_i64 (local.get $n))))

  ;; the 64-bit table
  (func (export "call") (param $i i64) (result i64) (call_indirect $t (type $v2i) (local.get $i)))
  (func (export "tsize") (param i64) (result i64) (table.size $t))
)
