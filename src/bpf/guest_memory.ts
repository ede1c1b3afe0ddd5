/**
 * The guest's linear memory as the host sees it. Every pointer and length a guest passes to a
 * `wasm_bpf` import goes through here before FFI sees it: guest memory is hostile.
 *
 * Pointers arrive from wasm i32 parameters as signed JS numbers; `>>> 0` makes them the unsigned
 * offsets the guest meant. Lengths are taken as signed: a negative length is a fault (the
 * imports' sizes are C `int`s). The WASI imports use `WasiMemory` (src/wasi/memory.ts) instead,
 * where lengths are u32 as preview1 defines them.
 */

/** One decoder for every name: constructing a TextDecoder costs more than a short decode. */
const decoder = new TextDecoder();

export class GuestMemory {
  readonly #memory: WebAssembly.Memory;
  #bytes: Uint8Array;
  #base: bigint;

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
    if (this.#bytes.byteLength === 0) this.#retake();
    return this.#bytes;
  }

  /** The view and the base after a grow. V8 grows wasm memory in place on x86-64
   * (docs/design.md §3); the base is re-taken anyway, so a moved memory can never make us
   * pass a stale address to the kernel. */
  #retake(): void {
    this.#bytes = new Uint8Array(this.#memory.buffer);
    this.#base = GuestMemory.#addressOf(this.#memory.buffer as ArrayBuffer);
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

  /** True when guest buffer [ptr, ptr + size) is not NULL and lies inside memory, so that
   * `address(ptr)` may go to the kernel. ptr is an i32 from the guest; size is the host's
   * (a map's key or value size), never negative. */
  holds(ptr: number, size: number): boolean {
    return ptr !== 0 && (ptr >>> 0) + size <= this.bytes.byteLength;
  }

  /**
   * The absolute address of guest offset `ptr`, for an FFI `u64` parameter; call only after
   * `holds`. The map-operation hot path: computed per call rather than cached, because
   * optimized code then adds in 64-bit registers and hands the sum to the FFI call without
   * allocating a BigInt (a cache of the BigInts measured slower: its lookups cost more, and
   * its miss path deoptimized the import when a guest moved to new buffers).
   */
  address(ptr: number): bigint {
    if (this.#bytes.byteLength === 0) this.#retake();
    return this.#base + BigInt(ptr >>> 0);
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
