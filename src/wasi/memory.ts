/**
 * The guest's linear memory, seen safely from the host.
 *
 * - Views are cached and re-taken only when the cached one is detached (`memory.grow` detaches
 *   `memory.buffer`; a detached Uint8Array has `byteLength === 0`), so the hot path (fd_write) pays
 *   one comparison.
 * - Every pointer/length pair is checked against the current size; a bad one throws
 *   `WasiError(ERRNO_FAULT)`, which the syscall wrapper returns as errno 21 instead of letting a
 *   `RangeError` escape into the guest.
 * - Pointers and lengths arrive from wasm as signed i32 JS numbers; every method reinterprets a
 *   negative one as u32 (see {@link u32}), so addresses above 2 GiB work and negative lengths are
 *   not possible, while a host-computed `ptr + offset` beyond 4 GiB faults instead of wrapping.
 * - A view returned by {@link WasiMemory.bytes} is valid only until the guest runs again (it
 *   may grow memory); never keep one across an `await` — call `bytes` again afterwards.
 *
 * @module
 */

import { ERRNO_FAULT, ERRNO_ILSEQ, IOVEC_OFF, IOVEC_SIZE } from "./abi.ts";
import { WasiError } from "./errors.ts";

const EMPTY = new ArrayBuffer(0);
const utf8Fatal = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextEncoder();

/**
 * A wasm i32 (pointer or length) as the u32 it stands for. Unlike `>>> 0` it does not wrap
 * values ≥ 2^32 (host-computed sums), which then simply fail the bounds check.
 */
export function u32(x: number): number {
  return x < 0 ? x + 0x1_0000_0000 : x;
}

/** Encodes a string as UTF-8. */
export function encodeUtf8(s: string): Uint8Array {
  return utf8.encode(s);
}

/**
 * A bounds-checked, grow-aware view of a guest's memory for the WASI imports: pointers and
 * lengths are u32 (wasi-libc passes sizes ≥ 2 GiB as negative i32s), and a bad one is
 * `WasiError(ERRNO_FAULT)`. The `wasm_bpf` imports use `GuestMemory` (src/bpf/guest_memory.ts)
 * instead, whose contract differs on purpose: a negative length is a fault there (those sizes
 * come from C `int`s), and it hands out absolute addresses for FFI.
 */
export class WasiMemory {
  #memory: WebAssembly.Memory | undefined;
  #u8: Uint8Array = new Uint8Array(EMPTY);
  #dv: DataView = new DataView(EMPTY);

  /** Binds the guest's exported memory (once, after instantiation). */
  bind(memory: WebAssembly.Memory): void {
    if (!(memory instanceof WebAssembly.Memory)) {
      throw new TypeError("bindMemory: expected a WebAssembly.Memory");
    }
    this.#memory = memory;
    this.#refresh();
  }

  /** True once {@link bind} was called. */
  get bound(): boolean {
    return this.#memory !== undefined;
  }

  #refresh(): void {
    if (this.#memory === undefined) {
      throw new Error("WASI: guest memory is not bound (call bindMemory() before _start)");
    }
    const buf = this.#memory.buffer;
    this.#u8 = new Uint8Array(buf);
    this.#dv = new DataView(buf);
  }

  /** The whole memory as bytes (re-taken after a grow). */
  get u8(): Uint8Array {
    if (this.#u8.byteLength === 0) this.#refresh();
    return this.#u8;
  }

  /** The whole memory as a DataView (re-taken after a grow). */
  get view(): DataView {
    // Check through the Uint8Array: a detached typed array reads as length 0, whereas a
    // DataView's byteLength getter throws once its buffer is detached.
    if (this.#u8.byteLength === 0) this.#refresh();
    return this.#dv;
  }

  /** Throws `WasiError(ERRNO_FAULT)` unless `[ptr, ptr + len)` lies inside memory. */
  check(ptr: number, len: number): void {
    if (u32(ptr) + u32(len) > this.u8.byteLength) throw new WasiError(ERRNO_FAULT);
  }

  /** True when `[ptr, ptr + len)` lies inside memory. */
  inBounds(ptr: number, len: number): boolean {
    return u32(ptr) + u32(len) <= this.u8.byteLength;
  }

  /** A view (not a copy) of `len` bytes at `ptr`; valid until the guest runs again. */
  bytes(ptr: number, len: number): Uint8Array {
    ptr = u32(ptr);
    len = u32(len);
    const u8 = this.u8;
    if (ptr + len > u8.byteLength) throw new WasiError(ERRNO_FAULT);
    return u8.subarray(ptr, ptr + len);
  }

  /** A copy of `len` bytes at `ptr`. */
  copyOut(ptr: number, len: number): Uint8Array {
    ptr = u32(ptr);
    len = u32(len);
    const u8 = this.u8;
    if (ptr + len > u8.byteLength) throw new WasiError(ERRNO_FAULT);
    return u8.slice(ptr, ptr + len);
  }

  /** Copies `src` into memory at `ptr`. */
  copyIn(ptr: number, src: Uint8Array): void {
    ptr = u32(ptr);
    const u8 = this.u8;
    if (ptr + src.byteLength > u8.byteLength) throw new WasiError(ERRNO_FAULT);
    u8.set(src, ptr);
  }

  /** Decodes `len` bytes at `ptr` as strict UTF-8 (invalid → `WasiError(ERRNO_ILSEQ)`). */
  string(ptr: number, len: number): string {
    const b = this.bytes(ptr, len);
    try {
      return utf8Fatal.decode(b);
    } catch {
      throw new WasiError(ERRNO_ILSEQ);
    }
  }

  #dvAt(ptr: number, size: number): DataView {
    const dv = this.view;
    if (u32(ptr) + size > dv.byteLength) throw new WasiError(ERRNO_FAULT);
    return dv;
  }

  getU8(ptr: number): number {
    return this.#dvAt(ptr, 1).getUint8(u32(ptr));
  }
  getU16(ptr: number): number {
    return this.#dvAt(ptr, 2).getUint16(u32(ptr), true);
  }
  getU32(ptr: number): number {
    return this.#dvAt(ptr, 4).getUint32(u32(ptr), true);
  }
  getU64(ptr: number): bigint {
    return this.#dvAt(ptr, 8).getBigUint64(u32(ptr), true);
  }
  setU8(ptr: number, v: number): void {
    this.#dvAt(ptr, 1).setUint8(u32(ptr), v);
  }
  setU16(ptr: number, v: number): void {
    this.#dvAt(ptr, 2).setUint16(u32(ptr), v, true);
  }
  setU32(ptr: number, v: number): void {
    this.#dvAt(ptr, 4).setUint32(u32(ptr), v, true);
  }
  /** Writes a u64; a number is converted (it must be a non-negative safe integer). */
  setU64(ptr: number, v: bigint | number): void {
    this.#dvAt(ptr, 8).setBigUint64(u32(ptr), typeof v === "bigint" ? v : BigInt(v), true);
  }

  /**
   * Reads `count` iovecs at `ptr` and checks each buffer; returns them as `[ptr, len]` pairs
   * (u32). Throws `WasiError(ERRNO_FAULT)` if the array or any buffer is out of bounds.
   */
  iovecs(ptr: number, count: number): Array<[number, number]> {
    ptr = u32(ptr);
    count = u32(count);
    const dv = this.view;
    if (ptr + count * IOVEC_SIZE > dv.byteLength) throw new WasiError(ERRNO_FAULT);
    const out: Array<[number, number]> = new Array(count);
    for (let i = 0; i < count; i++) {
      const at = ptr + i * IOVEC_SIZE;
      const buf = dv.getUint32(at + IOVEC_OFF.buf, true);
      const len = dv.getUint32(at + IOVEC_OFF.buf_len, true);
      if (buf + len > dv.byteLength) throw new WasiError(ERRNO_FAULT);
      out[i] = [buf, len];
    }
    return out;
  }
}

/** A list of strings (argv, environ) pre-encoded as NUL-terminated UTF-8. */
export class StringList {
  readonly items: Uint8Array[];
  readonly bufSize: number;
  constructor(strings: readonly string[]) {
    this.items = strings.map((s) => {
      const e = utf8.encode(s);
      const z = new Uint8Array(e.byteLength + 1);
      z.set(e);
      return z;
    });
    this.bufSize = this.items.reduce((n, b) => n + b.byteLength, 0);
  }

  /** `*_sizes_get`: writes the count and the total buffer size. */
  sizes(mem: WasiMemory, countPtr: number, bufSizePtr: number): void {
    mem.check(countPtr, 4);
    mem.check(bufSizePtr, 4);
    mem.setU32(countPtr, this.items.length);
    mem.setU32(bufSizePtr, this.bufSize);
  }

  /** `*_get`: writes the pointer array and the packed strings (all checked before writing). */
  get(mem: WasiMemory, ptrsPtr: number, bufPtr: number): void {
    mem.check(ptrsPtr, this.items.length * 4);
    mem.check(bufPtr, this.bufSize);
    let p = u32(bufPtr);
    for (let i = 0; i < this.items.length; i++) {
      mem.setU32(u32(ptrsPtr) + i * 4, p);
      mem.copyIn(p, this.items[i]);
      p += this.items[i].byteLength;
    }
  }
}
