/**
 * The hot part of event delivery: copying one record from host memory (a mapped ring or perf
 * buffer page) into the guest's record buffer and calling the guest, with no allocation per
 * record. The guest's memory views are cached and re-taken only when a callback grew the memory
 * (`memory.grow` detaches the old buffer: its byteLength becomes 0).
 */

import type { GuestMemory } from "./guest_memory.ts";

/** The guest side of one poll call: where records go and which function gets them. */
export interface Delivery {
  readonly memory: GuestMemory;
  /** Guest offset of the record buffer, `maxSize` bytes, already bounds-checked. */
  readonly dataPtr: number;
  readonly maxSize: number;
  readonly ctx: number;
  /** The guest's sample function: (ctx, data, size) -> i32; negative stops the poll. */
  readonly callback: (ctx: number, data: number, size: number) => unknown;
}

/** Records of at most this many bytes are copied word by word; longer ones with
 * `TypedArray.set` on a subarray (one small allocation, then memcpy). Measured by `deno task
 * bench`: the loop wins for 16-byte records, memcpy for 256-byte ones. */
export const WORD_COPY_MAX = 64;

/** Guest memory views for one poll, refreshed after memory.grow. */
export class GuestViews {
  readonly #memory: GuestMemory;
  u8: Uint8Array;
  i32: Int32Array;

  constructor(memory: GuestMemory) {
    this.#memory = memory;
    this.u8 = memory.bytes;
    this.i32 = new Int32Array(this.u8.buffer, 0, this.u8.byteLength >>> 2);
  }

  /** Re-takes the views if the memory grew (cheap check; call after every guest call). */
  refresh(): void {
    if (this.u8.byteLength === 0) {
      this.u8 = this.#memory.bytes;
      this.i32 = new Int32Array(this.u8.buffer, 0, this.u8.byteLength >>> 2);
    }
  }

  /** Copies `n` bytes from `src8`/`src32` at byte offset `s` (4-aligned) to guest offset `dst`
   * (inside memory: the poll bounds-checked [dst, dst + maxSize) and n <= maxSize). */
  copyIn(src8: Uint8Array, src32: Int32Array, s: number, dst: number, n: number): void {
    if (n > WORD_COPY_MAX) {
      this.u8.set(src8.subarray(s, s + n), dst);
      return;
    }
    const g8 = this.u8;
    let i = 0;
    if ((dst & 3) === 0) {
      const g32 = this.i32;
      const words = n >>> 2;
      const si = s >>> 2;
      const di = dst >>> 2;
      for (let w = 0; w < words; w++) g32[di + w] = src32[si + w];
      i = words << 2;
    }
    for (; i < n; i++) g8[dst + i] = src8[s + i];
  }
}
