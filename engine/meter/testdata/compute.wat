;; A compute-heavy method: an integer mixing loop over the first 64 KiB of
;; memory, for the metering benchmarks and the differential test.
;; IC instructions for mix(n): 43n + 9 (entry 3, per iteration header 5 and
;; body 38, final header 5, exit 1).
(module
  (memory (export "memory") 1)
  (func (export "mix") (param $n i32) (result i32)
    (local $i i32) (local $addr i32) (local $x i32) (local $h i32)
    (local.set $h (i32.const 0x811c9dc5))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $addr (i32.and (i32.shl (local.get $i) (i32.const 2)) (i32.const 0xfffc)))
        (local.set $x (i32.load (local.get $addr)))
        (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 15))))
        (local.set $x (i32.mul (local.get $x) (i32.const 0x2c1b3c6d)))
        (local.set $x (i32.add (local.get $x) (local.get $h)))
        (local.set $h (i32.rotl (i32.xor (local.get $h) (local.get $x)) (i32.const 5)))
        (i32.store (local.get $addr) (local.get $x))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $h))
)
