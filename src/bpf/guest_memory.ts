/**
 * The guest's linear memory as the host sees it. Every pointer and length a guest passes to a
 * `wasm_bpf` import goes through here before FFI sees it: guest memory is hostile.
 *
 * Pointers arrive from wasm i32 parameters as signed JS numbers; `>>> 0` makes them the unsigned
 * offsets the guest meant. Lengths are taken as signed: a negative length is a fault (the
 * imports' sizes are C `int`s). The WASI imports use `WasiMemory` (src/wasi/memory.ts) instead,
 * where lengths are u32 as preview1 defines them.
 */

const SPAN_CACHE_SLOTS = 8;

/** One decoder for every name: constructing a TextDecoder costs more than a short decode. */
const decoder = new TextDecoder();

export class GuestMemory {
  readonly #memory: WebAssembly.Memory;
  #bytes: Uint8Array;
  #base: bigint;
  /** Guest offsets whose absolute addresses `span` computed last, by slot (-1: empty). */
  readonly #spanCache = new Float64Array(SPAN_CACHE_SLOTS).fill(-1);
  readonly #spanAddresses: bigint[] = new Array(SPAN_CACHE_SLOTS).fill(0n);

  constructor(memory: WebAssembly.Memory) {
    this.#memory = memory;
    this.#bytes = new Uint8Array(memory.buffer);
    this.#base = GuestMemory.#addressOf(memory.buffer as ArrayBuffer);
  }

  static #addressOf(buffer: ArrayBuffer): bigint {
    return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
  }

  /** A byte view of the whole memory, re-taken when `memory.grow` detached the old one. */
  get bytes(): Uint8Array {
    // memory.grow detaches the old buffer, and a view of a detached buffer has length 0 (a
    // wasm memory never has length 0 once it has a page, and one with none has no data).
    if (this.#bytes.byteLength === 0) {
      this.#bytes = new Uint8Array(this.#memory.buffer);
      // V8 grows wasm memory in place on x86-64 (docs/design.md §3); re-take the base anyway,
      // so a moved memory can never make us pass a stale address to the kernel.
      const base = GuestMemory.#addressOf(this.#memory.buffer as ArrayBuffer);
      if (base !== this.#base) this.#spanCache.fill(-1);
      this.#base = base;
    }
    return this.#bytes;
  }

  /** The memory object itself (the event pump imports it: pump.ts). */
  get wasmMemory(): WebAssembly.Memory {
    return this.#memory;
  }

  get byteLength(): number {
    return this.bytes.byteLength;
  }

  /** True when [ptr, ptr + len) lies inside memory. ptr is an i32 from the guest. */
  inBounds(ptr: number, len: number): boolean {
    if (len < 0 || !Number.isInteger(len)) return false;
    const p = ptr >>> 0;
    return p + len <= this.byteLength;
  }

  /** The absolute address of guest buffer [ptr, ptr + size) for an FFI `u64` parameter, or -1n
   * when it is out of bounds. One bounds check and one view refresh: the map-operation hot
   * path. */
  span(ptr: number, size: number): bigint {
    const p = ptr >>> 0;
    if (p + size > this.bytes.byteLength) return -1n;
    // Guests reuse the same few key/value buffers: remember their addresses rather than
    // allocating two BigInts per call.
    const slot = (p >>> 3) & (SPAN_CACHE_SLOTS - 1);
    if (this.#spanCache[slot] === p) return this.#spanAddresses[slot];
    const address = this.#base + BigInt(p);
    this.#spanCache[slot] = p;
    this.#spanAddresses[slot] = address;
    return address;
  }

  /** A NUL-terminated string at `ptr`, or null when no NUL comes before the end of memory
   * (or within `maxLen` bytes). */
  cString(ptr: number, maxLen = 4096): string | null {
    const bytes = this.bytes;
    const start = ptr >>> 0;
    if (start >= bytes.byteLength) return null;
    const end = Math.min(bytes.byteLength, start + maxLen + 1);
    const nul = bytes.subarray(start, end).indexOf(0);
    if (nul < 0) return null;
    return decoder.decode(bytes.subarray(start, start + nul));
  }

  /** A copy of [ptr, ptr + len); call only after `inBounds`. */
  copyOut(ptr: number, len: number): Uint8Array<ArrayBuffer> {
    const start = ptr >>> 0;
    return this.bytes.slice(start, start + len);
  }
}
