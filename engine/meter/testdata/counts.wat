;; Functions with instruction counts worked out by hand from the replica's
;; costs (engine/meter/costs.go); meter_test.go checks them exactly.
;; A block's cost is charged at its start: function entry costs 1 extra,
;; block/loop/else/end cost 0, if/br/br_if cost 2, call 5, memory.fill 100
;; plus its size, most other instructions 1.
(module
  (memory (export "memory") 1)

  ;; 1 (entry)
  (func (export "empty"))

  ;; 1 + i32.const + i32.const + i32.add = 4
  (func $straight (export "straight") (result i32)
    i32.const 1
    i32.const 2
    i32.add)

  ;; 1 + call 5 = 6, plus straight's 4 = 10
  (func (export "call") (result i32)
    call $straight)

  ;; entry 1 + local.get + if 2 = 4; then: 3; else: 1.
  ;; n != 0: 7, n == 0: 5
  (func (export "branch") (param $n i32) (result i32)
    local.get $n
    if (result i32)
      i32.const 10
      i32.const 1
      i32.add
    else
      i32.const 20
    end)

  ;; Sum of 0..n-1. Entry 1; loop header: 2 local.get + i32.ge_u + br_if 2
  ;; = 5; body: 8 + br 2 = 10; after the block: local.get = 1.
  ;; Total 1 + 5(n+1) + 10n + 1 = 15n + 7.
  (func (export "sum") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    block $done
      loop $next
        local.get $i
        local.get $n
        i32.ge_u
        br_if $done
        local.get $s
        local.get $i
        i32.add
        local.set $s
        local.get $i
        i32.const 1
        i32.add
        local.set $i
        br $next
      end
    end
    local.get $s)

  ;; Traps in iteration n. Entry 1; header: 2 local.get + i32.eq + if 2 = 5;
  ;; then: unreachable 1; rest: 4 + br 2 = 6. Total 1 + 11n + 5 + 1 = 11n + 7.
  (func (export "trap_in_loop") (param $n i32)
    (local $i i32)
    loop $next
      local.get $i
      local.get $n
      i32.eq
      if
        unreachable
      end
      local.get $i
      i32.const 1
      i32.add
      local.set $i
      br $next
    end)

  ;; Recursive factorial. fac(0) = 1 + local.get + i64.eqz + if 2 + i64.const
  ;; = 6; fac(n) = 5 + (3 + i64.sub + call 5 + i64.mul = 10) + fac(n-1)
  ;; = 15n + 6.
  (func $fac (export "fac") (param $n i64) (result i64)
    local.get $n
    i64.eqz
    if (result i64)
      i64.const 1
    else
      local.get $n
      local.get $n
      i64.const 1
      i64.sub
      call $fac
      i64.mul
    end)

  ;; 1 + 2 i32.const + local.get + memory.fill 100 = 104, plus n bytes.
  (func (export "fill") (param $n i32)
    i32.const 0
    i32.const 7
    local.get $n
    memory.fill)

  ;; 1 + 2 i32.const + local.get + memory.copy 100 = 104, plus n bytes.
  (func (export "copy") (param $n i32)
    i32.const 1024
    i32.const 0
    local.get $n
    memory.copy)

  ;; Never returns: entry 1, then br 2 per iteration; stopped by the limit.
  (func (export "forever")
    loop $again
      br $again
    end)
)
