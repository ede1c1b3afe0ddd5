/**
 * The bytes of the record pump (pump.ts), assembled here so that no toolchain is needed at run
 * time. The module uses multi-memory (V8 ships it):
 *
 *     (import "g" "cb"    (func $cb (param i32 i32 i32) (result i32)))  ;; the guest's callback
 *     (import "g" "mem"   (memory 0))   ;; memory 0: the guest's linear memory
 *     (import "p" "stage" (memory 0))   ;; memory 1: the staging copy of ring records
 *     (global $pos (export "pos") (mut i32) (i32.const 0))
 *     (func (export "ring") (param $end i32) (param $data i32) (param $max i32) (param $ctx i32)
 *       (result i32) ...)
 *
 * `ring(end, data, max, ctx)` walks BPF ring buffer records staged at [0, end) of memory 1
 * (header: u32 len with BUSY bit 31 and DISCARD bit 30, u32 page offset; then the data; each
 * record 8-byte aligned). It stops at the end, at a BUSY record, or at a record that does not
 * fit before `end`; it skips DISCARDed records; for every other record it copies n = min(len,
 * max) bytes from the staging memory to guest memory at `data` and calls `cb(ctx, data, n)`.
 * A negative return is returned at once (that record counts as consumed); otherwise the number
 * of records delivered. `pos` is the staging offset up to which records were consumed; it is
 * set before each call, so that it is right too when the callback throws (a trap, proc_exit).
 */

import { name, section, sleb, uleb, vec, wasmModule } from "./wasm_binary.ts";

const I32 = 0x7f;
const FUNC_TYPE = 0x60;

// opcodes
const BLOCK = 0x02;
const LOOP = 0x03;
const IF = 0x04;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const RETURN = 0x0f;
const CALL = 0x10;
const SELECT = 0x1b;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const GLOBAL_SET = 0x24;
const I32_LOAD = 0x28;
const I32_CONST = 0x41;
const I32_LT_S = 0x48;
const I32_LT_U = 0x49;
const I32_GT_U = 0x4b;
const I32_GE_U = 0x4f;
const I32_ADD = 0x6a;
const I32_AND = 0x71;
const VOID = 0x40;
/** memory.copy dst_mem src_mem */
const MEMORY_COPY = [0xfc, 0x0a];
/** memarg flag: an explicit memory index follows (multi-memory) */
const MEMARG_MEMIDX = 0x40;

const BUSY_BIT = 0x80000000 | 0;
const DISCARD_BIT = 0x40000000;
const LEN_MASK = 0x3fffffff;

// locals of `ring`: the four parameters, then these
const END_ = 0,
  DATA = 1,
  MAX = 2,
  CTX = 3,
  OFF = 4,
  COUNT = 5,
  HDR = 6,
  LEN = 7,
  NEXT = 8,
  N = 9,
  R = 10,
  I = 11,
  SRC = 12,
  DST = 13;
const LOCALS = 10;

const I32_LOAD8_U = 0x2d;
const I32_LOAD16_U = 0x2f;
const I64_LOAD = 0x29;
const I32_STORE = 0x36;
const I64_STORE = 0x37;
const I32_STORE8 = 0x3a;
const I32_STORE16 = 0x3b;
const I32_SUB = 0x6b;
const ELSE = 0x05;

/** Records up to this size are copied by loads and stores (memory.copy is an out-of-line call
 * in V8, ~2 ns), longer ones by memory.copy. */
const INLINE_COPY_MAX = 64;

/** Copies n bytes from staging (memory 1) at off + 8 to guest memory (memory 0) at data. */
function copyRecord(): number[] {
  const get = (i: number) => [LOCAL_GET, i];
  const set = (i: number) => [LOCAL_SET, i];
  const k = (v: number) => [I32_CONST, ...sleb(v)];
  const m0 = (align: number) => [align, 0];
  const m1 = (align: number) => [align | MEMARG_MEMIDX, 1, 0];
  /** if ((n - i) & bit) { dst[i] = src[i] (load/store of `bit` bytes); i += bit } */
  const tail = (bit: number, load: number, store: number) => [
    ...get(N),
    ...get(I),
    I32_SUB,
    ...k(bit),
    I32_AND,
    IF,
    VOID,
    ...get(DST),
    ...get(I),
    I32_ADD,
    ...get(SRC),
    ...get(I),
    I32_ADD,
    load,
    ...m1(0),
    store,
    ...m0(0),
    ...get(I),
    ...k(bit),
    I32_ADD,
    ...set(I),
    END,
  ];
  return [
    ...get(N),
    ...k(INLINE_COPY_MAX),
    I32_GT_U,
    IF,
    VOID,
    // memory.copy 0 <- 1: (data, off + 8, n)
    ...get(DATA),
    ...get(OFF),
    ...k(8),
    I32_ADD,
    ...get(N),
    ...MEMORY_COPY,
    0,
    1,
    ELSE,
    ...get(OFF),
    ...k(8),
    I32_ADD,
    ...set(SRC),
    ...get(DATA),
    ...set(DST),
    ...k(0),
    ...set(I),
    // whole 8-byte words while i + 8 <= n
    BLOCK,
    VOID,
    LOOP,
    VOID,
    ...get(N),
    ...get(I),
    I32_SUB,
    ...k(8),
    I32_LT_U,
    BR_IF,
    1,
    ...get(DST),
    ...get(I),
    I32_ADD,
    ...get(SRC),
    ...get(I),
    I32_ADD,
    I64_LOAD,
    ...m1(0),
    I64_STORE,
    ...m0(0),
    ...get(I),
    ...k(8),
    I32_ADD,
    ...set(I),
    BR,
    0,
    END,
    END,
    ...tail(4, I32_LOAD, I32_STORE),
    ...tail(2, I32_LOAD16_U, I32_STORE16),
    ...tail(1, I32_LOAD8_U, I32_STORE8),
    END,
  ];
}

function ringBody(): number[] {
  const get = (i: number) => [LOCAL_GET, i];
  const set = (i: number) => [LOCAL_SET, i];
  const tee = (i: number) => [LOCAL_TEE, i];
  const k = (v: number) => [I32_CONST, ...sleb(v)];
  const code = [
    // the locals after the parameters, all i32
    ...vec([[...uleb(LOCALS), I32]]),
    BLOCK,
    VOID, // $done
    LOOP,
    VOID, // $next
    // if (off >= end) break
    ...get(OFF),
    ...get(END_),
    I32_GE_U,
    BR_IF,
    1,
    // hdr = i32.load memory 1 [off]; if (hdr & BUSY) break
    ...get(OFF),
    I32_LOAD,
    2 | MEMARG_MEMIDX,
    1,
    0,
    ...tee(HDR),
    ...k(BUSY_BIT),
    I32_AND,
    BR_IF,
    1,
    // len = hdr & LEN_MASK; next = off + ((len + 8 + 7) & ~7)
    ...get(HDR),
    ...k(LEN_MASK),
    I32_AND,
    ...tee(LEN),
    ...k(15),
    I32_ADD,
    ...k(-8),
    I32_AND,
    ...get(OFF),
    I32_ADD,
    ...tee(NEXT),
    // a record that does not fit before end (never, as JS stages whole records): stop
    ...get(END_),
    I32_GT_U,
    BR_IF,
    1,
    // discarded: skip it
    ...get(HDR),
    ...k(DISCARD_BIT),
    I32_AND,
    IF,
    VOID,
    ...get(NEXT),
    ...set(OFF),
    BR,
    1, // $next (the if is label 0)
    END,
    // n = len < max ? len : max (unsigned; max >= 0)
    ...get(LEN),
    ...get(MAX),
    ...get(LEN),
    ...get(MAX),
    I32_LT_U,
    SELECT,
    ...set(N),
    ...copyRecord(),
    // pos = off = next: this record is consumed once the callback is called
    ...get(NEXT),
    GLOBAL_SET,
    0,
    ...get(NEXT),
    ...set(OFF),
    // r = cb(ctx, data, n); if (r < 0) return r
    ...get(CTX),
    ...get(DATA),
    ...get(N),
    CALL,
    0,
    ...tee(R),
    ...k(0),
    I32_LT_S,
    IF,
    VOID,
    ...get(R),
    RETURN,
    END,
    // count++
    ...get(COUNT),
    ...k(1),
    I32_ADD,
    ...set(COUNT),
    BR,
    0, // $next
    END, // loop
    END, // block
    ...get(OFF),
    GLOBAL_SET,
    0,
    ...get(COUNT),
    END,
  ];
  return code;
}

/** The pump module's bytes. */
export function pumpModuleBytes(): Uint8Array {
  const cbType = [FUNC_TYPE, ...vec([[I32], [I32], [I32]]), ...vec([[I32]])];
  const ringType = [FUNC_TYPE, ...vec([[I32], [I32], [I32], [I32]]), ...vec([[I32]])];
  const noMax = [0x00, ...uleb(0)];
  const imports = vec([
    [...name("g"), ...name("cb"), 0x00, ...uleb(0)],
    [...name("g"), ...name("mem"), 0x02, ...noMax],
    [...name("p"), ...name("stage"), 0x02, ...noMax],
  ]);
  const globals = vec([[I32, 0x01, I32_CONST, 0, END]]);
  const exports = vec([
    [...name("ring"), 0x00, ...uleb(1)],
    [...name("pos"), 0x03, ...uleb(0)],
  ]);
  const body = ringBody();
  return wasmModule([
    section(1, vec([cbType, ringType])),
    section(2, imports),
    section(3, vec([uleb(1)])),
    section(6, globals),
    section(7, exports),
    section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}
