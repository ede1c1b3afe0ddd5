/**
 * Capping a guest's linear memory: the memory is defined inside the module, so the cap is
 * written into the module before it is compiled, as the maximum of its memory's limits.
 * `memory.grow` past it then fails the way wasm memory growth fails (it returns -1, and the
 * guest's malloc returns NULL) instead of taking the host's memory.
 *
 * A small parser of the wasm binary format: the section headers (id, LEB128 size) and the
 * memory section's limits; every other byte is copied through unchanged.
 */

/** Bytes in a wasm page. */
export const WASM_PAGE = 65536;
/** The most pages a wasm32 memory can have (4 GiB). */
export const MAX_WASM32_PAGES = 65536;

const MEMORY_SECTION = 5;
const LIMITS_HAS_MAX = 0x01;
const LIMITS_MEMORY64 = 0x04;

/** The module bytes cannot be parsed, or its memory cannot fit under the cap. */
export class MemoryLimitError extends Error {
  /** True when the module is well formed but its memory starts above the cap. */
  readonly overCap: boolean;
  constructor(message: string, overCap = false) {
    super(message);
    this.name = "MemoryLimitError";
    this.overCap = overCap;
  }
}

/** A cursor over module bytes that throws MemoryLimitError on truncation. */
class Reader {
  readonly bytes: Uint8Array;
  pos: number;
  constructor(bytes: Uint8Array, pos = 0) {
    this.bytes = bytes;
    this.pos = pos;
  }

  byte(): number {
    if (this.pos >= this.bytes.length) throw new MemoryLimitError("unexpected end of the module");
    return this.bytes[this.pos++];
  }

  /** An unsigned LEB128 of at most `bits` bits, as a bigint. */
  uleb(bits: 32 | 64): bigint {
    let result = 0n;
    let shift = 0n;
    const maxBytes = Math.ceil(bits / 7);
    for (let i = 0; i < maxBytes; i++) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        if (result >= 1n << BigInt(bits)) throw new MemoryLimitError("LEB128 value out of range");
        return result;
      }
      shift += 7n;
    }
    throw new MemoryLimitError("LEB128 value too long");
  }
}

function encodeUleb(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

/** What {@link capMemory} found and did. */
export interface MemoryCapResult {
  /** The module bytes to compile: the input itself when nothing had to change. */
  bytes: Uint8Array<ArrayBuffer>;
  /** The initial and (new) maximum size of each memory the module defines, in pages. */
  memories: { initial: number; maximum: number }[];
}

/**
 * Returns `bytes` with the maximum of every memory the module defines lowered to `maxPages`
 * (or set, when it had none). Throws MemoryLimitError when a memory's initial size is already
 * over the cap, or when the bytes are not a well-formed sequence of sections.
 */
export function capMemory(bytes: Uint8Array<ArrayBuffer>, maxPages: number): MemoryCapResult {
  if (bytes.length < 8) throw new MemoryLimitError("unexpected end of the module");
  const r = new Reader(bytes, 8); // "\0asm" and the version, checked by the caller
  const memories: MemoryCapResult["memories"] = [];
  const cap = BigInt(maxPages);
  const parts: Uint8Array[] = [];
  let copiedUpTo = 0;
  while (r.pos < bytes.length) {
    const sectionStart = r.pos;
    const id = r.byte();
    const size = Number(r.uleb(32));
    const payloadStart = r.pos;
    const end = payloadStart + size;
    if (end > bytes.length) {
      throw new MemoryLimitError(`section ${id} runs past the end of the module`);
    }
    if (id === MEMORY_SECTION) {
      const s = new Reader(bytes.subarray(0, end), payloadStart);
      const count = Number(s.uleb(32));
      const payload: number[] = encodeUleb(BigInt(count));
      for (let i = 0; i < count; i++) {
        const flags = Number(s.uleb(32));
        const bits = flags & LIMITS_MEMORY64 ? 64 : 32;
        const initial = s.uleb(bits);
        const maximum = flags & LIMITS_HAS_MAX ? s.uleb(bits) : undefined;
        if (initial > cap) {
          throw new MemoryLimitError(
            `its memory starts at ${pagesToMiB(initial)} MiB (${initial} pages), more than ` +
              `the ${pagesToMiB(cap)} MiB allowed (--max-memory)`,
            true,
          );
        }
        const newMax = maximum === undefined || maximum > cap ? cap : maximum;
        memories.push({ initial: Number(initial), maximum: Number(newMax) });
        payload.push(...encodeUleb(BigInt(flags | LIMITS_HAS_MAX)));
        payload.push(...encodeUleb(initial), ...encodeUleb(newMax));
      }
      if (s.pos !== end) throw new MemoryLimitError("malformed memory section");
      parts.push(bytes.subarray(copiedUpTo, sectionStart));
      parts.push(new Uint8Array([id, ...encodeUleb(BigInt(payload.length)), ...payload]));
      copiedUpTo = end;
    }
    r.pos = end;
  }
  if (parts.length === 0) return { bytes, memories };
  parts.push(bytes.subarray(copiedUpTo));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return { bytes: out, memories };
}

function pagesToMiB(pages: bigint): string {
  const mib = Number(pages) * WASM_PAGE / (1024 * 1024);
  return Number.isInteger(mib) ? String(mib) : mib.toFixed(2);
}

/** The page count of a cap given in MiB (at most the wasm32 limit). */
export function mibToPages(mib: number): number {
  return Math.min(MAX_WASM32_PAGES, Math.floor(mib * 1024 * 1024 / WASM_PAGE));
}
