/**
 * A walk over the instructions of a module's code section, to answer one question: can the
 * module's code change a table after instantiation (`table.set`, `table.grow`, `table.fill`,
 * `table.copy`, `table.init`)? A module whose code cannot, and whose table nobody else writes,
 * keeps the function at each table index for its whole life (the event pumps rely on that to
 * remember a callback, bpf/imports/buffer_poll.ts).
 *
 * The walk decodes every immediate of the MVP, sign extension, saturating conversions, bulk
 * memory, reference types, tail calls, exception handling (both encodings), SIMD (with relaxed
 * SIMD) and threads. An opcode it does not know (WasmGC's 0xfb prefix among them) makes the
 * answer "it may": the walk cannot know where the next instruction starts.
 */

import { WasmReader } from "./wasm.ts";

const CODE_SECTION = 10;

/** Code larger than this is not walked (answer: it may write): about 1 ms per 50 KB, and the
 * walk runs inside a guest's poll. */
const MAX_WALK_BYTES = 16 << 20;

/** True when some function of `bytes` (a whole module, header included) may write a table,
 * or when its code cannot be walked; false when no instruction of it writes one. */
export function mayWriteTables(bytes: Uint8Array): boolean {
  try {
    const r = new WasmReader(bytes, 8);
    while (!r.done) {
      const id = r.byte();
      const section = r.sub(r.u32());
      if (id === CODE_SECTION) {
        return section.end - section.pos > MAX_WALK_BYTES || codeWritesTables(section);
      }
    }
    return false; // no code
  } catch {
    return true;
  }
}

class UnknownOpcode extends Error {}

function codeWritesTables(r: WasmReader): boolean {
  for (let n = r.u32(); n > 0; n--) {
    const body = r.sub(r.u32());
    for (let groups = body.u32(); groups > 0; groups--) {
      body.u32(); // count
      valueType(body);
    }
    while (!body.done) if (instructionWritesTable(body)) return true;
  }
  return false;
}

/** A value type: a one-byte code, or (ref null? heaptype). */
function valueType(r: WasmReader): void {
  const code = r.byte();
  if (code === 0x63 || code === 0x64) r.skipLeb(5); // (ref null ht), (ref ht)
}

/** A block type: empty (0x40), a value type, or a type index (s33). */
function blockType(r: WasmReader): void {
  const code = r.peek();
  if (code === 0x63 || code === 0x64) {
    r.byte();
    r.skipLeb(5);
  } else {
    r.skipLeb(5); // 0x40 and one-byte value types read as negative s33 values
  }
}

/** A memarg: alignment (bit 6: a memory index follows), then the offset. */
function memarg(r: WasmReader): void {
  const align = r.u32();
  if (align & 0x40) r.u32();
  r.skipLeb(10);
}

// What follows each opcode (one byte): the kinds of immediates. A table rather than a switch
// of 200 cases: V8 compiles this walk when it runs hot, and a big function costs megabytes of
// compiler memory (peak RSS) for a walk that runs once.
const NONE = 0,
  BLOCK_TYPE = 1,
  INDEX = 2,
  TWO_INDICES = 3,
  BR_TABLE = 4,
  SELECT_TYPES = 5,
  TRY_TABLE = 6,
  LEB32 = 7,
  LEB64 = 8,
  BYTES4 = 9,
  BYTES8 = 10,
  HEAP_TYPE = 11,
  MEMARG = 12,
  PREFIX_FC = 13,
  PREFIX_FD = 14,
  PREFIX_FE = 15,
  WRITES_TABLE = 16,
  UNKNOWN = 255;

const IMMEDIATES = (() => {
  const t = new Uint8Array(256).fill(UNKNOWN);
  const set = (kind: number, ...ops: number[]) => ops.forEach((op) => t[op] = kind);
  const range = (kind: number, from: number, to: number) => t.fill(kind, from, to + 1);
  // unreachable nop else throw_ref end return catch_all drop select; ref.is_null ref.eq
  // ref.as_non_null; the numeric instructions
  set(NONE, 0x00, 0x01, 0x05, 0x0a, 0x0b, 0x0f, 0x19, 0x1a, 0x1b, 0xd1, 0xd3, 0xd4);
  range(NONE, 0x45, 0xc4);
  set(BLOCK_TYPE, 0x02, 0x03, 0x04, 0x06); // block loop if try
  // catch throw rethrow br br_if call return_call call_ref return_call_ref delegate;
  // local.get/set/tee global.get/set table.get; memory.size/grow; ref.func br_on_null
  // br_on_non_null
  set(INDEX, 0x07, 0x08, 0x09, 0x0c, 0x0d, 0x10, 0x12, 0x14, 0x15, 0x18, 0x25, 0x3f, 0x40);
  set(INDEX, 0x20, 0x21, 0x22, 0x23, 0x24, 0xd2, 0xd5, 0xd6);
  set(TWO_INDICES, 0x11, 0x13); // call_indirect, return_call_indirect: type, table
  set(BR_TABLE, 0x0e);
  set(SELECT_TYPES, 0x1c);
  set(TRY_TABLE, 0x1f);
  set(WRITES_TABLE, 0x26); // table.set
  range(MEMARG, 0x28, 0x3e); // loads and stores
  set(LEB32, 0x41);
  set(LEB64, 0x42);
  set(BYTES4, 0x43);
  set(BYTES8, 0x44);
  set(HEAP_TYPE, 0xd0); // ref.null
  set(PREFIX_FC, 0xfc);
  set(PREFIX_FD, 0xfd);
  set(PREFIX_FE, 0xfe);
  return t;
})();

/** Reads one instruction with its immediates; true when it writes a table. */
function instructionWritesTable(r: WasmReader): boolean {
  const op = r.byte();
  switch (IMMEDIATES[op]) {
    case NONE:
      return false;
    case BLOCK_TYPE:
      blockType(r);
      return false;
    case INDEX:
      r.u32();
      return false;
    case TWO_INDICES:
      r.u32();
      r.u32();
      return false;
    case BR_TABLE:
      for (let n = r.u32(); n >= 0; n--) r.u32(); // the labels and the default
      return false;
    case SELECT_TYPES:
      for (let n = r.u32(); n > 0; n--) valueType(r);
      return false;
    case TRY_TABLE:
      blockType(r);
      for (let n = r.u32(); n > 0; n--) {
        if (r.byte() <= 1) r.u32(); // catch, catch_ref: a tag
        r.u32(); // the label
      }
      return false;
    case LEB32:
    case HEAP_TYPE: // an s33, as long as a 32-bit LEB at most
      r.skipLeb(5);
      return false;
    case LEB64:
      r.skipLeb(10);
      return false;
    case BYTES4:
      r.skip(4);
      return false;
    case BYTES8:
      r.skip(8);
      return false;
    case MEMARG:
      memarg(r);
      return false;
    case PREFIX_FC:
      return miscWritesTable(r);
    case PREFIX_FD:
      simd(r);
      return false;
    case PREFIX_FE:
      atomic(r);
      return false;
    case WRITES_TABLE:
      return true;
    default:
      throw new UnknownOpcode(`opcode 0x${op.toString(16)}`);
  }
}

/** The 0xfc prefix: saturating conversions, bulk memory and tables. */
function miscWritesTable(r: WasmReader): boolean {
  const op = r.u32();
  if (op <= 7) return false; // trunc_sat
  switch (op) {
    case 8: // memory.init data mem
    case 10: // memory.copy mem mem
      r.u32();
      r.u32();
      return false;
    case 9: // data.drop
    case 11: // memory.fill mem
    case 13: // elem.drop
    case 16: // table.size
      r.u32();
      return false;
    case 12: // table.init elem table
    case 14: // table.copy table table
    case 15: // table.grow
    case 17: // table.fill
      return true;
    default:
      throw new UnknownOpcode(`opcode 0xfc ${op}`);
  }
}

/** The 0xfd prefix: SIMD and relaxed SIMD. */
function simd(r: WasmReader): void {
  const op = r.u32();
  if (op <= 11 || op === 92 || op === 93) memarg(r); // loads, stores, load_zero
  else if (op === 12 || op === 13) r.skip(16); // v128.const, i8x16.shuffle
  else if (op >= 21 && op <= 34) r.byte(); // extract_lane, replace_lane
  else if (op >= 84 && op <= 91) { // load_lane, store_lane
    memarg(r);
    r.byte();
  } else if (op > 0x113) throw new UnknownOpcode(`opcode 0xfd ${op}`);
}

/** The 0xfe prefix: atomics. */
function atomic(r: WasmReader): void {
  const op = r.u32();
  if (op === 3) r.byte(); // atomic.fence 0x00
  else if (op <= 2 || (op >= 0x10 && op <= 0x4e)) memarg(r);
  else throw new UnknownOpcode(`opcode 0xfe ${op}`);
}
