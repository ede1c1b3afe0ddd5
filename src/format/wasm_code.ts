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

/** True when some function of `bytes` (a whole module, header included) may write a table,
 * or when its code cannot be walked; false when no instruction of it writes one. */
export function mayWriteTables(bytes: Uint8Array): boolean {
  try {
    const r = new WasmReader(bytes, 8);
    while (!r.done) {
      const id = r.byte();
      const section = r.sub(r.u32());
      if (id === CODE_SECTION) return codeWritesTables(section);
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
  if (code === 0x63 || code === 0x64) r.sleb(33); // (ref null ht), (ref ht)
}

/** A block type: empty (0x40), a value type, or a type index (s33). */
function blockType(r: WasmReader): void {
  const code = r.peek();
  if (code === 0x63 || code === 0x64) {
    r.byte();
    r.sleb(33);
  } else {
    r.sleb(33); // 0x40 and one-byte value types read as negative s33 values
  }
}

/** A memarg: alignment (bit 6: a memory index follows), then the offset. */
function memarg(r: WasmReader): void {
  const align = r.u32();
  if (align & 0x40) r.u32();
  r.uleb(64);
}

/** Reads one instruction with its immediates; true when it writes a table. */
function instructionWritesTable(r: WasmReader): boolean {
  const op = r.byte();
  if (op >= 0x45 && op <= 0xc4) return false; // numeric instructions: no immediates
  if (op >= 0x28 && op <= 0x3e) { // loads and stores
    memarg(r);
    return false;
  }
  switch (op) {
    case 0x00: // unreachable
    case 0x01: // nop
    case 0x05: // else
    case 0x0a: // throw_ref
    case 0x0b: // end
    case 0x0f: // return
    case 0x19: // catch_all
    case 0x1a: // drop
    case 0x1b: // select
    case 0xd1: // ref.is_null
    case 0xd3: // ref.eq
    case 0xd4: // ref.as_non_null
      return false;
    case 0x02: // block
    case 0x03: // loop
    case 0x04: // if
    case 0x06: // try
      blockType(r);
      return false;
    case 0x07: // catch tag
    case 0x08: // throw tag
    case 0x09: // rethrow depth
    case 0x0c: // br
    case 0x0d: // br_if
    case 0x10: // call
    case 0x12: // return_call
    case 0x14: // call_ref type
    case 0x15: // return_call_ref type
    case 0x18: // delegate
    case 0x20: // local.get
    case 0x21: // local.set
    case 0x22: // local.tee
    case 0x23: // global.get
    case 0x24: // global.set
    case 0x25: // table.get
    case 0x3f: // memory.size
    case 0x40: // memory.grow
    case 0xd2: // ref.func
    case 0xd5: // br_on_null
    case 0xd6: // br_on_non_null
      r.u32();
      return false;
    case 0x0e: // br_table
      for (let n = r.u32(); n >= 0; n--) r.u32(); // the labels and the default
      return false;
    case 0x11: // call_indirect type table
    case 0x13: // return_call_indirect
      r.u32();
      r.u32();
      return false;
    case 0x1c: // select t*
      for (let n = r.u32(); n > 0; n--) valueType(r);
      return false;
    case 0x1f: // try_table bt catch*
      blockType(r);
      for (let n = r.u32(); n > 0; n--) {
        const kind = r.byte();
        if (kind <= 1) r.u32(); // catch, catch_ref: a tag
        r.u32(); // the label
      }
      return false;
    case 0x26: // table.set
      return true;
    case 0x41: // i32.const
      r.sleb(32);
      return false;
    case 0x42: // i64.const
      r.sleb(64);
      return false;
    case 0x43: // f32.const
      r.skip(4);
      return false;
    case 0x44: // f64.const
      r.skip(8);
      return false;
    case 0xd0: // ref.null heaptype
      r.sleb(33);
      return false;
    case 0xfc:
      return miscWritesTable(r);
    case 0xfd:
      simd(r);
      return false;
    case 0xfe:
      atomic(r);
      return false;
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
