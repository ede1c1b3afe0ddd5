/**
 * The bytes of the two small modules that deliver buffer records to a guest (pump.ts),
 * assembled here so that no toolchain is needed at run time.
 *
 * **The dispatcher** is instantiated before the guest and provides the guest's
 * `wasm_bpf_buffer_poll` imports, so that a poll is a wasm function from end to end:
 *
 *     (import "h" "select"  (func (param i64 i32 i32 i32 i32) (result i32)))
 *     (import "h" "selectWrapper" (func (param i64 i32 i32 i32) (result i32)))
 *     (import "h" "hold" (global (mut i32)))   ;; the run is stopping or paused
 *     (table $slots (export "slots") 0 funcref)
 *     (func (export "poll") (param $handle i64) (param $fd i32) (param $fn i32) (param $ctx i32)
 *       (param $data i32) (param $max i32) (param $timeout i32) (result i32)
 *       ;; slot = the remembered slot if (handle, fd, fn, data, max) are the remembered ones
 *       ;;   and the run is not held, else select(handle, fd, fn, data, max)
 *       ;; if (slot < 0) return slot
 *       ;; return call_indirect $slots (ctx, data, max, timeout, slot)
 *     (func (export "wpoll") ...)   ;; the TinyGo form: no $fn, selectWrapper
 *     (func (export "remember") (param i64 i32 i32 i32 i32 i32))  ;; the arguments and slot
 *     (func (export "forget"))
 *
 * `select` (synchronous JS) checks the arguments and returns the slot of the pump for this
 * (buffer, callback) pair. Every slot holds a pump's `poll`, of one type: the call_indirect
 * cannot trap on a signature mismatch. The host remembers a selection only when selecting again
 * would give the same slot until a slot is removed (the guest's table never changes) and
 * forgets it when one is: a guest polling in a loop then calls no JS while records are ready.
 *
 * **A pump** is instantiated per (buffer, guest callback) after the guest, in one of two
 * formats (BPF ring buffer records or perf event records):
 *
 *     (import "g" "cb"    (func $cb (param i32 i32 i32) (result i32)))  ;; the guest callback
 *     (import "h" "fill"  (func $fill (result i32)))           ;; sync: stage ready records
 *     (import "h" "wait"  (func $wait (param i32) (result i32)))  ;; Suspending: wait for some
 *     (import "g" "mem"   (memory 0))   ;; memory 0: the guest's linear memory
 *     (import "p" "stage" (memory 0))   ;; memory 1: the buffer's staged records
 *     (import "p" "head"  (global (mut i32)))  ;; staged records [head, end) are undelivered
 *     (import "p" "end"   (global (mut i32)))
 *     (import "p" "lost"  (global (mut i64)))  ;; perf: PERF_RECORD_LOST counts add up here
 *     ;; in place only: base, mask, pos, meta (where the records and positions are), and
 *     (import "h" "hold"  (global (mut i32)))  ;; the run is stopping or paused
 *     (import "p" "closed" (global (mut i32))) ;; the buffer is closed
 *     (func (export "poll") (param $ctx i32) (param $data i32) (param $max i32)
 *       (param $timeout i32) (result i32) ...)
 *     (func $fillInPlace (result i32) ...)    ;; in place: the kernel side of a fill
 *
 * `poll` delivers the staged records from `head`, calling `fill` when none are left (fill
 * returns 1: staged more; 0: none ready; 2: the run is paused; negative: an errno to return).
 * In place, the pump reads the kernel's positions itself (`fillInPlace`) and calls `fill` only
 * for the host's checks: when the run is held or the buffer closed, or when no record is ready
 * and none was delivered yet (before a wait). A poll that finds records ready calls no JS.
 * When none are ready and none were delivered yet, it calls `wait(timeout)` once (not for a
 * zero timeout) and looks again. For each record it copies n = min(len, max) bytes into guest
 * memory at `data` and calls `cb(ctx, data, n)` wasm to wasm, so the callback may suspend. A
 * negative return is returned at once; a poll returns after RECORD_BUDGET records. `head`
 * moves past a record before its callback runs: a record counts as consumed once delivered,
 * also when the callback traps or exits, and a poll of the same buffer from inside the
 * callback goes on from the next record. The globals and the staging memory belong to the
 * buffer, shared by its pumps: records staged and not delivered wait for the next poll,
 * whatever its callback.
 */

import { name, section, sleb, uleb, vec, wasmModule } from "../../format/wasm.ts";

/** The most records one poll delivers (a producer faster than the guest must not keep a poll
 * from returning). */
export const RECORD_BUDGET = 1 << 16;

/** `fill` results. */
export const FILL_NONE = 0;
export const FILL_STAGED = 1;
export const FILL_PAUSED = 2;

const I32 = 0x7f;
const I64 = 0x7e;
const FUNCREF = 0x70;
const FUNC_TYPE = 0x60;

function funcType(params: number[], results: number[]): number[] {
  return [FUNC_TYPE, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))];
}

/** A function body: its i32 locals after the parameters, then its i64 locals, then the code. */
function body(i32Locals: number, code: number[], i64Locals = 0): number[] {
  const decls = [
    ...(i32Locals ? [[...uleb(i32Locals), I32]] : []),
    ...(i64Locals ? [[...uleb(i64Locals), I64]] : []),
  ];
  const b = [...vec(decls), ...code, END];
  return [...uleb(b.length), ...b];
}

// opcodes
const UNREACHABLE = 0x00;
const BLOCK = 0x02;
const LOOP = 0x03;
const IF = 0x04;
const ELSE = 0x05;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const RETURN = 0x0f;
const CALL = 0x10;
const CALL_INDIRECT = 0x11;
const SELECT = 0x1b;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const GLOBAL_GET = 0x23;
const GLOBAL_SET = 0x24;
const I32_LOAD = 0x28;
const I64_LOAD = 0x29;
const I32_LOAD8_U = 0x2d;
const I32_LOAD16_U = 0x2f;
const I32_STORE = 0x36;
const I64_STORE = 0x37;
const I32_STORE8 = 0x3a;
const I32_STORE16 = 0x3b;
const I32_CONST = 0x41;
const I32_EQZ = 0x45;
const I32_EQ = 0x46;
const I32_NE = 0x47;
const I32_LT_S = 0x48;
const I32_LT_U = 0x49;
const I32_GT_S = 0x4a;
const I32_GT_U = 0x4b;
const I32_LE_U = 0x4d;
const I32_GE_U = 0x4f;
const I64_EQ = 0x51;
const I64_LT_U = 0x54;
const I64_LE_U = 0x58;
const I64_GE_U = 0x5a;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_MUL = 0x6c;
const I32_DIV_U = 0x6e;
const I32_REM_U = 0x70;
const I32_AND = 0x71;
const I32_OR = 0x72;
const I32_SHR_U = 0x76;
const I64_ADD = 0x7c;
const I64_SUB = 0x7d;
const I32_WRAP_I64 = 0xa7;
const I64_EXTEND_I32_U = 0xad;
const I64_CONST = 0x42;
/** i32.atomic.load, i64.atomic.store (threads; valid on an unshared memory too) */
const I32_ATOMIC_LOAD = [0xfe, 0x10];
const I64_ATOMIC_LOAD = [0xfe, 0x11];
const I64_ATOMIC_STORE = [0xfe, 0x18];
const VOID = 0x40;
/** memory.copy dst_mem src_mem */
const MEMORY_COPY = [0xfc, 0x0a];
/** memarg flag: an explicit memory index follows (multi-memory) */
const MEMARG_MEMIDX = 0x40;

const get = (i: number) => [LOCAL_GET, i];
const set = (i: number) => [LOCAL_SET, i];
const tee = (i: number) => [LOCAL_TEE, i];
const k = (v: number) => [I32_CONST, ...sleb(v)];
/** memarg of guest memory (memory 0) */
const m0 = (align: number, offset = 0) => [align, ...uleb(offset)];
/** memarg of the staging memory (memory 1) */
const m1 = (align: number, offset = 0) => [align | MEMARG_MEMIDX, 1, ...uleb(offset)];
/** if (local < 0) return local */
const returnIfNegative = (local: number) => [
  ...get(local),
  ...k(0),
  I32_LT_S,
  IF,
  VOID,
  ...get(local),
  RETURN,
  END,
];

// ---------------------------------------------------------------------------------------------
// The dispatcher

/** The dispatcher module's bytes (see the module comment). */
export function dispatcherModuleBytes(): Uint8Array {
  const types = [
    funcType([I64, I32, I32, I32, I32], [I32]), // 0: select
    funcType([I64, I32, I32, I32], [I32]), // 1: selectWrapper
    funcType([I32, I32, I32, I32], [I32]), // 2: a pump's poll
    funcType([I64, I32, I32, I32, I32, I32, I32], [I32]), // 3: wasm_bpf_buffer_poll
    funcType([I64, I32, I32, I32, I32, I32], [I32]), // 4: the TinyGo form
    funcType([I64, I32, I32, I32, I32, I32], []), // 5: remember
    funcType([], []), // 6: forget
  ];
  const imports = vec([
    [...name("h"), ...name("select"), 0x00, ...uleb(0)],
    [...name("h"), ...name("selectWrapper"), 0x00, ...uleb(1)],
    [...name("h"), ...name("hold"), 0x03, I32, 0x01],
  ]);
  const table = vec([[FUNCREF, 0x00, ...uleb(0)]]);
  // globals: 0 the run's hold (imported), then the memo of poll's last arguments and slot
  const HOLD = 0, VALID = 1, M_HANDLE = 2, M_FD = 3, M_FN = 4, M_DATA = 5, M_MAX = 6, M_SLOT = 7;
  const i32Var = [I32, 0x01, ...k(0), END];
  const globals = vec([
    i32Var,
    [I64, 0x01, I64_CONST, 0, END],
    i32Var,
    i32Var,
    i32Var,
    i32Var,
    i32Var,
  ]);
  /** local == global (i32, or i64 for the handle), and-ed into the condition on the stack */
  const same = (local: number, global: number, eq = I32_EQ) => [
    ...get(local),
    GLOBAL_GET,
    global,
    eq,
    I32_AND,
  ];
  // poll(handle, fd, fn, ctx, data, max, timeout); local 7: slot. The memo (remembered by the
  // host after a select it may skip) holds while the run is not held (stopping, paused).
  const poll = body(1, [
    ...[GLOBAL_GET, VALID, GLOBAL_GET, HOLD, I32_EQZ, I32_AND],
    ...same(0, M_HANDLE, I64_EQ),
    ...same(1, M_FD),
    ...same(2, M_FN),
    ...same(4, M_DATA),
    ...same(5, M_MAX),
    ...[IF, I32, GLOBAL_GET, M_SLOT, ELSE],
    ...[...get(0), ...get(1), ...get(2), ...get(4), ...get(5), CALL, 0, ...tee(7)],
    ...[...k(0), I32_LT_S, IF, VOID, ...get(7), RETURN, END, ...get(7), END, ...set(7)],
    ...[...get(3), ...get(4), ...get(5), ...get(6), ...get(7), CALL_INDIRECT, 2, 0],
  ]);
  // wpoll(handle, fd, ctx, data, max, timeout); local 6: slot
  const wpoll = body(1, [
    ...[...get(0), ...get(1), ...get(3), ...get(4), CALL, 1, ...tee(6)],
    ...[...k(0), I32_LT_S, IF, VOID, ...get(6), RETURN, END],
    ...[...get(2), ...get(3), ...get(4), ...get(5), ...get(6), CALL_INDIRECT, 2, 0],
  ]);
  // remember(handle, fd, fn, data, max, slot)
  const remember = body(0, [
    ...[...get(0), GLOBAL_SET, M_HANDLE, ...get(1), GLOBAL_SET, M_FD],
    ...[...get(2), GLOBAL_SET, M_FN, ...get(3), GLOBAL_SET, M_DATA],
    ...[...get(4), GLOBAL_SET, M_MAX, ...get(5), GLOBAL_SET, M_SLOT],
    ...[...k(1), GLOBAL_SET, VALID],
  ]);
  const forget = body(0, [...k(0), GLOBAL_SET, VALID]);
  return wasmModule([
    section(1, vec(types)),
    section(2, imports),
    section(3, vec([uleb(3), uleb(4), uleb(5), uleb(6)])),
    section(4, table),
    section(6, globals),
    section(
      7,
      vec([
        [...name("poll"), 0x00, ...uleb(2)],
        [...name("wpoll"), 0x00, ...uleb(3)],
        [...name("slots"), 0x01, ...uleb(0)],
        [...name("remember"), 0x00, ...uleb(4)],
        [...name("forget"), 0x00, ...uleb(5)],
      ]),
    ),
    section(10, vec([poll, wpoll, remember, forget])),
  ]);
}

// ---------------------------------------------------------------------------------------------
// The pump

/** The record formats a pump reads from its staging memory. */
export type RecordFormat = "ring" | "perf";

/** How a pump reads its records: from a staging memory the host filled (contiguous records,
 * consumed positions kept by the host), or in place from the kernel's pages mapped into the
 * pump's own memory (in_place_memory.ts), publishing its consumer position itself. */
export interface PumpVariant {
  format: RecordFormat;
  /** The guest memory is a shared one (an import must match its sharing). */
  sharedGuestMemory?: boolean;
  /** Records are read in place (the p.base/mask/pos/meta globals are imported). */
  inPlace?: boolean;
  /** Ring record headers are read with acquire loads (atomic): every target but x86-64,
   * whose plain loads are not reordered with later loads. */
  acquireHeaders?: boolean;
  /** In place, perf: how the per-CPU buffers lie in memory 1 (perfbuf_reader.ts InPlacePerf):
   * CPU i's `perf_event_mmap_page` at i * stride, its data area `page` bytes after it. */
  perfLayout?: PerfLayout;
}

/** The per-CPU perf buffers of an in-place pump's memory. */
export interface PerfLayout {
  cpus: number;
  stride: number;
  page: number;
}

/** The consumer position is published (in place), and the record budget checked, once per
 * this many records (a power of two dividing RECORD_BUDGET). */
export const PUBLISH_EVERY = 256;

// imported functions and globals of a pump, then its own functions
const CB = 0, FILL = 1, WAIT = 2, FILL_IN_PLACE = 4;
const HEAD_G = 0, END_G = 1, LOST_G = 2, BASE_G = 3, MASK_G = 4, POS_G = 5, META_G = 6;
const HOLD_G = 7, CLOSED_G = 8;

// locals of `poll`: the four parameters, then these
const CTX = 0,
  DATA = 1,
  MAX = 2,
  TIMEOUT = 3,
  HEAD = 4,
  N = 5,
  SRC = 6,
  I = 7,
  R = 8,
  COUNT = 9,
  WAITED = 10,
  LEN = 11,
  HDR = 12,
  FIRST = 13,
  // in place, perf: base and mask, read once per record, and the record's address
  PBASE = 14,
  PMASK = 15,
  P = 16;
const POLL_LOCALS = 13;

// BPF ring buffer record header: u32 len with these bits, u32 page offset
const DISCARD_BIT = 0x40000000;
const LEN_MASK = 0x3fffffff;
// perf_event_header: u32 type, u16 misc, u16 size
const PERF_RECORD_LOST = 2;
const PERF_RECORD_SAMPLE = 9;

/** Records up to this size are copied by loads and stores (memory.copy is an out-of-line call
 * in V8, ~2 ns), longer ones by memory.copy. */
const INLINE_COPY_MAX = 64;

/** Copies N bytes from staging (memory 1) at SRC to guest memory (memory 0) at DATA: 8 to 16
 * bytes as two words (about 1 ns less per record than the word loop), up to INLINE_COPY_MAX by
 * words and a tail, longer ones by memory.copy. */
function copyRecord(): number[] {
  /** if ((n - i) & bit) { dst[i] = src[i] (load/store of `bit` bytes); i += bit } */
  const tail = (bit: number, load: number, store: number) => [
    ...[...get(N), ...get(I), I32_SUB, ...k(bit), I32_AND, IF, VOID],
    ...[...get(DATA), ...get(I), I32_ADD, ...get(SRC), ...get(I), I32_ADD, load, ...m1(0)],
    ...[store, ...m0(0), ...get(I), ...k(bit), I32_ADD, ...set(I), END],
  ];
  return [
    // 8 to 16 bytes (the common small record): two 8-byte words, overlapping when n < 16
    ...[...get(N), ...k(8), I32_SUB, ...k(8), I32_LE_U, IF, VOID],
    ...[...get(DATA), ...get(SRC), I64_LOAD, ...m1(0), I64_STORE, ...m0(0)],
    ...[...get(DATA), ...get(N), I32_ADD, ...k(8), I32_SUB],
    ...[...get(SRC), ...get(N), I32_ADD, ...k(8), I32_SUB, I64_LOAD, ...m1(0), I64_STORE, ...m0(0)],
    ELSE,
    ...[...get(N), ...k(INLINE_COPY_MAX), I32_GT_U, IF, VOID],
    ...[...get(DATA), ...get(SRC), ...get(N), ...MEMORY_COPY, 0, 1],
    ELSE,
    ...[...k(0), ...set(I)],
    // whole 8-byte words while i + 8 <= n
    ...[BLOCK, VOID, LOOP, VOID, ...get(N), ...get(I), I32_SUB, ...k(8), I32_LT_U, BR_IF, 1],
    ...[...get(DATA), ...get(I), I32_ADD, ...get(SRC), ...get(I), I32_ADD, I64_LOAD, ...m1(0)],
    ...[I64_STORE, ...m0(0), ...get(I), ...k(8), I32_ADD, ...set(I), BR, 0, END, END],
    ...tail(4, I32_LOAD, I32_STORE),
    ...tail(2, I32_LOAD16_U, I32_STORE16),
    ...tail(1, I32_LOAD8_U, I32_STORE8),
    END,
    END,
  ];
}

/** Reads the record at HEAD (inside the poll loop, label 0): moves `head` past it, and either
 * sets SRC/LEN to its data (SRC: in place perf, the data's offset in the ring; otherwise its
 * address in memory 1) or continues the loop (a record with no data for the guest). */
function parseRecord(v: PumpVariant): number[] {
  if (v.format === "ring") {
    // (in place, head..end lies in the doubly mapped data area: a record is contiguous)
    const loadHeader = v.acquireHeaders ? [...I32_ATOMIC_LOAD, ...m1(2)] : [I32_LOAD, ...m1(2)];
    return [
      // hdr = load32 [head]; BUSY (bit 31: hdr < 0): still being written, stop before it
      ...[...get(HEAD), ...loadHeader, ...tee(HDR), ...k(0), I32_LT_S, IF, VOID],
      ...[...get(HEAD), GLOBAL_SET, END_G, BR, 1, END],
      // len = hdr & LEN_MASK; head = head + ((len + 8 + 7) & ~7)
      ...[...get(HDR), ...k(LEN_MASK), I32_AND, ...tee(LEN)],
      ...[...k(15), I32_ADD, ...k(-8), I32_AND, ...get(HEAD), I32_ADD, GLOBAL_SET, HEAD_G],
      // discarded: skip it (consumed all the same)
      ...[...get(HDR), ...k(DISCARD_BIT), I32_AND, BR_IF, 0],
      ...[...get(HEAD), ...k(8), I32_ADD, ...set(SRC)],
    ];
  }
  if (!v.inPlace) {
    return [
      // size = load16 [head + 6]; a size under 8 cannot be walked: drop the batch
      ...[...get(HEAD), I32_LOAD16_U, ...m1(1, 6), ...tee(LEN), ...k(8), I32_LT_U, IF, VOID],
      ...[GLOBAL_GET, END_G, GLOBAL_SET, HEAD_G, BR, 1, END],
      ...[...get(HEAD), ...get(LEN), I32_ADD, GLOBAL_SET, HEAD_G],
      // PERF_RECORD_LOST: lost += load64 [head + 16]
      ...[...get(HEAD), I32_LOAD, ...m1(2), ...tee(HDR), ...k(PERF_RECORD_LOST), I32_EQ, IF, VOID],
      ...[GLOBAL_GET, LOST_G, ...get(HEAD), I64_LOAD, ...m1(3, 16), I64_ADD, GLOBAL_SET, LOST_G],
      ...[BR, 1, END],
      ...[...get(HDR), ...k(PERF_RECORD_SAMPLE), I32_NE, BR_IF, 0],
      // PERF_RECORD_SAMPLE: u32 size at +8, the data at +12
      ...[...get(HEAD), I32_LOAD, ...m1(2, 8), ...set(LEN), ...get(HEAD), ...k(12), I32_ADD],
      ...set(SRC),
    ];
  }
  // In place, perf: head and end are offsets into the CPU's data area, unwrapped; the byte at
  // offset x is at base + (x & mask). Headers are 8-byte aligned: a field of one never crosses
  // the end, a sample's data may. (base and mask are globals a nested poll may change: read
  // once per record into locals)
  const at = (delta: number) =>
    delta
      ? [...get(PBASE), ...get(HEAD), ...k(delta), I32_ADD, ...get(PMASK), I32_AND, I32_ADD]
      : get(P);
  return [
    ...[GLOBAL_GET, BASE_G, ...tee(PBASE), GLOBAL_GET, MASK_G, ...tee(PMASK)],
    ...[...get(HEAD), I32_AND, I32_ADD, ...set(P)],
    // size = load16 [at(0) + 6]; a size under 8 cannot be walked: drop the batch
    ...[...at(0), I32_LOAD16_U, ...m1(1, 6), ...tee(LEN), ...k(8), I32_LT_U, IF, VOID],
    ...[GLOBAL_GET, END_G, GLOBAL_SET, HEAD_G, BR, 1, END],
    ...[...get(HEAD), ...get(LEN), I32_ADD, GLOBAL_SET, HEAD_G],
    ...[...at(0), I32_LOAD, ...m1(2), ...tee(HDR), ...k(PERF_RECORD_LOST), I32_EQ, IF, VOID],
    ...[GLOBAL_GET, LOST_G, ...at(16), I64_LOAD, ...m1(3), I64_ADD, GLOBAL_SET, LOST_G],
    ...[BR, 1, END],
    ...[...get(HDR), ...k(PERF_RECORD_SAMPLE), I32_NE, BR_IF, 0],
    ...[...at(8), I32_LOAD, ...m1(2), ...set(LEN)],
    ...[...get(HEAD), ...k(12), I32_ADD, ...get(PMASK), I32_AND, ...set(SRC)],
  ];
}

/** Copies the record (SRC, N) to guest memory at DATA; in place perf, in two pieces when it
 * crosses the end of the ring. */
function copyOut(v: PumpVariant): number[] {
  if (v.format !== "perf" || !v.inPlace) return copyRecord();
  return [
    // if (src + n > mask + 1) { first = mask + 1 - src; two memory.copy } else copy at base+src
    ...[...get(SRC), ...get(N), I32_ADD, ...get(PMASK), ...k(1), I32_ADD, I32_GT_U, IF, VOID],
    ...[...get(PMASK), ...k(1), I32_ADD, ...get(SRC), I32_SUB, ...set(FIRST)],
    ...[
      ...get(DATA),
      ...get(PBASE),
      ...get(SRC),
      I32_ADD,
      ...get(FIRST),
      ...MEMORY_COPY,
      0,
      1,
    ],
    ...[...get(DATA), ...get(FIRST), I32_ADD, ...get(PBASE), ...get(N), ...get(FIRST)],
    ...[I32_SUB, ...MEMORY_COPY, 0, 1],
    ELSE,
    ...[...get(PBASE), ...get(SRC), I32_ADD, ...set(SRC)],
    ...copyRecord(),
    END,
  ];
}

/** In place: consumer position = pos + head, stored (atomically, seq-cst) at [meta]. The only
 * store a pump makes to memory 1, and [meta] lies in the one writable page of the buffer. */
function publish(v: PumpVariant): number[] {
  if (!v.inPlace) return [];
  return [
    ...[GLOBAL_GET, META_G, GLOBAL_GET, POS_G, GLOBAL_GET, HEAD_G, I64_EXTEND_I32_U, I64_ADD],
    ...[...I64_ATOMIC_STORE, ...m1(3)],
  ];
}

// perf_event_mmap_page: data_head and data_tail
const DATA_HEAD = 1024;
const DATA_TAIL = 1032;

// locals of `fillInPlace`: i32 OFF, CPU0, I, M, then i64 A, B, SIZE
const F_OFF = 0, F_CPU0 = 1, F_I = 2, F_M = 3, F_A = 4, F_B = 5, F_SIZE = 6;

/** end = OFF + min(B, SIZE) (i64 B: bytes ready; SIZE: the data area's size) */
const setEnd = [
  ...[...get(F_OFF), ...get(F_B), ...get(F_SIZE), ...get(F_B), ...get(F_SIZE), I64_LT_U, SELECT],
  ...[I32_WRAP_I64, I32_ADD, GLOBAL_SET, END_G],
];

/**
 * In place: `fillInPlace() -> i32`, the kernel side of a fill, in wasm so that a poll that
 * finds records ready calls no JS (a JS call on a cold cache costs 10-20 us, more than a
 * thousand records). Publishes the consumer position reached (pos + head at [meta]), then
 * looks for committed records: 1 and [head, end) set to them, or 0 (head = end) when none.
 *
 * - ring: [base/2] is producer_pos (the producer page), the data area starts at base and is
 *   mapped twice, so [head, end) is contiguous; the first record still BUSY means none.
 * - perf: the CPUs in turn from the one after the CPU last read (meta / stride): the first
 *   with data_tail < data_head gets base = its data area, meta = its data_tail, and [head,
 *   end) = the pending bytes as unwrapped offsets (the pump masks them).
 *
 * data_head and producer_pos are read with acquire loads, the consumer position is published
 * with a sequentially consistent store before they are read again (the kernel's wake-up
 * decision reads it). A closed buffer has none, whatever its memory holds.
 */
function fillInPlaceBody(v: PumpVariant): number[] {
  const size64 = [GLOBAL_GET, MASK_G, I64_EXTEND_I32_U, I64_CONST, 1, I64_ADD, ...set(F_SIZE)];
  const noneIfClosed = [GLOBAL_GET, CLOSED_G, IF, VOID, ...k(0), RETURN, END];
  if (v.format === "ring") {
    return body(4, [
      ...noneIfClosed,
      ...size64,
      // A = the consumer position reached; publish it; B = producer_pos
      ...[GLOBAL_GET, POS_G, GLOBAL_GET, HEAD_G, I64_EXTEND_I32_U, I64_ADD, ...set(F_A)],
      ...[GLOBAL_GET, META_G, ...get(F_A), ...I64_ATOMIC_STORE, ...m1(3)],
      ...[GLOBAL_GET, BASE_G, ...k(1), I32_SHR_U, ...I64_ATOMIC_LOAD, ...m1(3), ...set(F_B)],
      // off = base + (A & mask); pos = A - off; head = end = off
      ...[GLOBAL_GET, BASE_G, ...get(F_A), I32_WRAP_I64, GLOBAL_GET, MASK_G, I32_AND, I32_ADD],
      ...[...tee(F_OFF), GLOBAL_SET, HEAD_G, ...get(F_OFF), GLOBAL_SET, END_G],
      ...[...get(F_A), ...get(F_OFF), I64_EXTEND_I32_U, I64_SUB, GLOBAL_SET, POS_G],
      // nothing committed past A, or the first record still BUSY: none
      ...[...get(F_B), ...get(F_A), I64_LE_U, IF, VOID, ...k(0), RETURN, END],
      ...[...get(F_OFF), ...I32_ATOMIC_LOAD, ...m1(2), ...k(0), I32_LT_S, IF, VOID],
      ...[...k(0), RETURN, END],
      ...[...get(F_B), ...get(F_A), I64_SUB, ...set(F_B), ...setEnd, ...k(1)],
    ], 3);
  }
  const { cpus, stride, page } = v.perfLayout!;
  return body(4, [
    ...noneIfClosed,
    ...size64,
    ...publish(v), // the position reached in the CPU last read
    ...[GLOBAL_GET, META_G, ...k(stride), I32_DIV_U, ...set(F_CPU0), ...k(0), ...set(F_I)],
    ...[BLOCK, VOID, LOOP, VOID],
    ...[...get(F_I), ...k(cpus), I32_GE_U, BR_IF, 1],
    // M = the header page of CPU (cpu0 + 1 + i) % cpus
    ...[...get(F_CPU0), ...get(F_I), I32_ADD, ...k(1), I32_ADD, ...k(cpus), I32_REM_U],
    ...[...k(stride), I32_MUL, ...set(F_M), ...get(F_I), ...k(1), I32_ADD, ...set(F_I)],
    // B = data_head (acquire), A = data_tail (written by us only); none pending: next CPU
    ...[...get(F_M), ...I64_ATOMIC_LOAD, ...m1(3, DATA_HEAD), ...set(F_B)],
    ...[...get(F_M), I64_LOAD, ...m1(3, DATA_TAIL), ...set(F_A)],
    ...[...get(F_A), ...get(F_B), I64_GE_U, BR_IF, 0],
    ...[...get(F_A), I32_WRAP_I64, GLOBAL_GET, MASK_G, I32_AND, ...set(F_OFF)],
    ...[...get(F_M), ...k(page), I32_ADD, GLOBAL_SET, BASE_G],
    ...[...get(F_M), ...k(DATA_TAIL), I32_ADD, GLOBAL_SET, META_G],
    ...[...get(F_A), ...get(F_OFF), I64_EXTEND_I32_U, I64_SUB, GLOBAL_SET, POS_G],
    ...[...get(F_OFF), GLOBAL_SET, HEAD_G],
    ...[...get(F_B), ...get(F_A), I64_SUB, ...set(F_B), ...setEnd, ...k(1), RETURN],
    ...[END, END, ...k(0)],
  ], 3);
}

function pollBody(v: PumpVariant): number[] {
  const wait = [...get(TIMEOUT), CALL, WAIT, ...tee(R), ...returnIfNegative(R)];
  return body(POLL_LOCALS, [
    LOOP,
    VOID, // label 0 below: the next record
    // no staged record left: fill
    ...[GLOBAL_GET, HEAD_G, GLOBAL_GET, END_G, I32_GE_U, IF, VOID],
    // in place, unless the host holds the guest (stop, pause) or the buffer is closed (the
    // host's fill says what that means): records the kernel committed since go on at once;
    // none, after some were delivered: return them, no JS called
    ...(v.inPlace
      ? [
        ...[GLOBAL_GET, HOLD_G, GLOBAL_GET, CLOSED_G, I32_OR, I32_EQZ, IF, VOID],
        ...[CALL, FILL_IN_PLACE, BR_IF, 2],
        ...[...get(COUNT), IF, VOID, ...get(COUNT), RETURN, END, END],
      ]
      : []),
    ...[CALL, FILL, ...tee(R), ...k(0), I32_GT_S, IF, VOID],
    // staged: go on; paused: wait (until resumed), then fill again
    ...[...get(R), ...k(FILL_STAGED), I32_EQ, BR_IF, 2],
    ...wait,
    ...[BR, 2, END],
    ...returnIfNegative(R),
    // in place: the host's checks passed (fill never stages in place); look again
    ...(v.inPlace ? [CALL, FILL_IN_PLACE, BR_IF, 1] : []),
    // none ready: return what was delivered, unless this poll may wait and has not yet
    ...[...get(COUNT), ...get(WAITED), I32_OR, ...get(TIMEOUT), I32_EQZ, I32_OR],
    ...[IF, VOID, ...get(COUNT), RETURN, END],
    ...wait,
    ...[...k(1), ...set(WAITED), BR, 1, END],
    // the record at head
    ...[GLOBAL_GET, HEAD_G, ...set(HEAD)],
    ...parseRecord(v),
    // n = len < max ? len : max (unsigned; max >= 0)
    ...[...get(LEN), ...get(MAX), ...get(LEN), ...get(MAX), I32_LT_U, SELECT, ...set(N)],
    ...copyOut(v),
    // r = cb(ctx, data, n); if (r < 0) return r
    ...[...get(CTX), ...get(DATA), ...get(N), CALL, CB, ...tee(R), ...returnIfNegative(R)],
    // once per PUBLISH_EVERY records: publish (in place); if (count >= budget) return count
    ...[...get(COUNT), ...k(1), I32_ADD, ...tee(COUNT), ...k(PUBLISH_EVERY - 1), I32_AND],
    ...[I32_EQZ, IF, VOID, ...publish(v)],
    ...[...get(COUNT), ...k(RECORD_BUDGET), I32_GE_U, IF, VOID, ...get(COUNT), RETURN, END, END],
    ...[BR, 0, END],
    UNREACHABLE,
  ]);
}

/** A pump module's bytes, for one {@link PumpVariant}. */
export function pumpModuleBytes(v: PumpVariant): Uint8Array {
  const types = [
    funcType([I32, I32, I32], [I32]), // 0: the guest callback
    funcType([], [I32]), // 1: fill
    funcType([I32], [I32]), // 2: wait
    funcType([I32, I32, I32, I32], [I32]), // 3: poll
  ];
  const guestLimits = v.sharedGuestMemory ? [0x03, 0, ...uleb(65536)] : [0x00, 0];
  const imports = vec([
    [...name("g"), ...name("cb"), 0x00, ...uleb(0)],
    [...name("h"), ...name("fill"), 0x00, ...uleb(1)],
    [...name("h"), ...name("wait"), 0x00, ...uleb(2)],
    [...name("g"), ...name("mem"), 0x02, ...guestLimits],
    [...name("p"), ...name("stage"), 0x02, 0x00, 0],
    [...name("p"), ...name("head"), 0x03, I32, 0x01],
    [...name("p"), ...name("end"), 0x03, I32, 0x01],
    [...name("p"), ...name("lost"), 0x03, I64, 0x01],
    ...(v.inPlace
      ? [
        [...name("p"), ...name("base"), 0x03, I32, 0x01],
        [...name("p"), ...name("mask"), 0x03, I32, 0x01],
        [...name("p"), ...name("pos"), 0x03, I64, 0x01],
        [...name("p"), ...name("meta"), 0x03, I32, 0x01],
        [...name("h"), ...name("hold"), 0x03, I32, 0x01],
        [...name("p"), ...name("closed"), 0x03, I32, 0x01],
      ]
      : []),
  ]);
  return wasmModule([
    section(1, vec(types)),
    section(2, imports),
    // poll, and in place fillInPlace (of the fill type)
    section(3, vec(v.inPlace ? [uleb(3), uleb(1)] : [uleb(3)])),
    section(7, vec([[...name("poll"), 0x00, ...uleb(3)]])),
    section(10, vec(v.inPlace ? [pollBody(v), fillInPlaceBody(v)] : [pollBody(v)])),
  ]);
}
