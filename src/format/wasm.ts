/**
 * The primitives of the WebAssembly binary format, both ways: a reader (LEB128 integers,
 * names, nested byte ranges) that throws WasmFormatError on malformed input, and the one small
 * writer (LEB128, names, vectors, sections, modules) that the host uses to write modules (the
 * record pump, a memory cap), and the fuzzer, the benches and the tests use to craft them. A
 * leaf like elf.ts: it imports nothing.
 */

/** The bytes are not a well-formed WebAssembly module. */
export class WasmFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WasmFormatError";
  }
}

/** "\0asm" and version 1. */
export const WASM_HEADER: readonly number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A cursor over `bytes[pos, end)`. */
export class WasmReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;
  constructor(bytes: Uint8Array, pos = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  byte(): number {
    if (this.pos >= this.end) throw new WasmFormatError("unexpected end of the module");
    return this.bytes[this.pos++];
  }

  /** The next byte, not consumed. */
  peek(): number {
    if (this.pos >= this.end) throw new WasmFormatError("unexpected end of the module");
    return this.bytes[this.pos];
  }

  /** An unsigned LEB128 of at most `bits` bits. */
  uleb(bits: 32 | 64 = 32): bigint {
    const value = this.#leb(bits, false);
    if (value >= 1n << BigInt(bits)) throw new WasmFormatError("LEB128 value out of range");
    return value;
  }

  /** An unsigned 32-bit LEB128 (counts, indices, sizes): `uleb(32)` in plain numbers (exact
   * below 2^53), as BigInt arithmetic made a cold read of a module's layout take milliseconds
   * of a start. */
  u32(): number {
    let result = 0;
    for (let i = 0, scale = 1; i < 5; i++, scale *= 128) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw new WasmFormatError("LEB128 value out of range");
        return result;
      }
    }
    throw new WasmFormatError("LEB128 value too long");
  }

  /** A signed LEB128 of at most `bits` bits. */
  sleb(bits: 32 | 33 | 64): bigint {
    return this.#leb(bits, true);
  }

  #leb(bits: number, signed: boolean): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < Math.ceil(bits / 7); i++) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) return signed && b & 0x40 ? result - (1n << shift) : result;
    }
    throw new WasmFormatError("LEB128 value too long");
  }

  /** Skips a LEB128 of at most `maxBytes` bytes, signed or not (5 for 32 and 33 bits, 10 for
   * 64): an immediate whose value the caller does not need, read with no BigInt. */
  skipLeb(maxBytes: number): void {
    for (let i = 0; i < maxBytes; i++) if (this.byte() < 0x80) return;
    throw new WasmFormatError("LEB128 value too long");
  }

  skip(n: number): void {
    if (n > this.end - this.pos) throw new WasmFormatError("unexpected end of the module");
    this.pos += n;
  }

  /** A reader over the next `size` bytes, which this one skips. */
  sub(size: number): WasmReader {
    const start = this.pos;
    this.skip(size);
    return new WasmReader(this.bytes, start, start + size);
  }

  name(): string {
    const r = this.sub(this.u32());
    try {
      return utf8.decode(r.bytes.subarray(r.pos, r.end));
    } catch {
      throw new WasmFormatError("a name is not UTF-8");
    }
  }
}

// --- writing ----------------------------------------------------------------------------------

/** Unsigned LEB128. */
export function uleb(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

/** Signed LEB128. */
export function sleb(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A name: its UTF-8 length, then its bytes. */
export function name(s: string): number[] {
  const bytes = new TextEncoder().encode(s);
  return [...uleb(bytes.length), ...bytes];
}

/** A vector: its length, then its items. */
export function vec(items: readonly (readonly number[])[]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A section: its id, its size, its body. */
export function section(id: number, body: readonly number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** A whole module from its sections. */
export function wasmModule(sections: readonly (readonly number[])[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array([...WASM_HEADER, ...sections.flat()]);
}
