/**
 * A fixed-size WebAssembly.Memory with a buffer's kernel pages mapped into it, so that a pump
 * (pump.ts) reads records where the kernel wrote them (docs/design.md, issue 10 §2).
 *
 * What this rests on (measured on Deno 2.x, which installs no wasm trap handler): a
 * `WebAssembly.Memory` is one read-write mmap of exactly its size, 64 KiB-aligned, with no guard
 * region; its base is `Deno.UnsafePointer.of(memory.buffer)`, and with maximum = initial it
 * never moves. `mmap(MAP_FIXED | MAP_SHARED)` of a map or perf event fd over part of it then
 * shows the kernel's pages through the memory. {@link FixedMemory.create} checks both at start
 * (the base is stable across `grow(0)`; a value written before the mapping is replaced by the
 * kernel's); the caller checks a known value of the buffer through it, and falls back to copying
 * when any check fails.
 *
 * Hazards this module keeps to:
 * - The memory is never exported or given to a guest: only a pump imports it, and a pump
 *   writes to it only the consumer position (in the buffer's one writable page). A write to a
 *   read-only page would be a SIGSEGV, not a trap.
 * - On release, the range is never `munmap`ed (it is V8's: a later mmap could fill the hole);
 *   anonymous memory is mapped over it instead (MAP_FIXED), which also drops the kernel's
 *   references at once (a perf event is released with its fd, not at the next GC).
 */

import { getLibc, lastErrno } from "../../ffi/libc_ffi.ts";
import { errnoName } from "../../ffi/errno.ts";

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;

const WASM_PAGE = 65536;

/** The largest memory we make (a wasm32 memory's limit is 4 GiB; keep well inside it). */
const MAX_BYTES = 2 ** 31 + 2 * WASM_PAGE;

function addr(p: Deno.PointerValue): bigint {
  return p === null ? 0n : BigInt(Deno.UnsafePointer.value(p));
}

export class FixedMemory {
  readonly memory: WebAssembly.Memory;
  readonly #base: bigint;
  /** Bytes from the base that hold mappings of ours (replaced with anonymous memory on release). */
  #mapped = 0;
  #released = false;

  private constructor(memory: WebAssembly.Memory, base: bigint) {
    this.memory = memory;
    this.#base = base;
  }

  /** A fixed memory of at least `bytes`, or why there can be none. */
  static create(bytes: number): FixedMemory | string {
    if (bytes <= 0 || bytes > MAX_BYTES) return `${bytes} bytes is too large to map in place`;
    const pages = Math.ceil(bytes / WASM_PAGE);
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    } catch (e) {
      return `no fixed memory of ${pages} pages: ${(e as Error).message}`;
    }
    const base = addr(Deno.UnsafePointer.of(memory.buffer));
    if (base === 0n || base % BigInt(WASM_PAGE) !== 0n) {
      return `the memory's base 0x${base.toString(16)} is not 64 KiB-aligned`;
    }
    try {
      memory.grow(0);
    } catch (e) {
      return `grow(0) failed: ${(e as Error).message}`;
    }
    const after = addr(Deno.UnsafePointer.of(memory.buffer));
    if (after !== base) return "the memory's base moved on grow(0)";
    if (memory.buffer.byteLength !== pages * WASM_PAGE) return "the memory has an unexpected size";
    return new FixedMemory(memory, base);
  }

  /** A view of the memory (valid as long as it is: it never grows). */
  get buffer(): ArrayBuffer {
    return this.memory.buffer as ArrayBuffer;
  }

  /**
   * Maps `length` bytes of `fd` from `fileOffset` at `offset` in the memory (shared; writable
   * when `writable`), or says why not. Before mapping, writes a marker at `probe` (an offset
   * inside the new mapping) that the caller expects the kernel's pages to replace: the
   * returned string names a mapping that did not show through the memory.
   */
  map(
    offset: number,
    length: number,
    writable: boolean,
    fd: number,
    fileOffset: number,
  ): string | null {
    if (this.#released) return "the memory was released";
    if (offset % 4096 !== 0 || offset + length > this.memory.buffer.byteLength) {
      return `a mapping of ${length} bytes at ${offset} does not fit`;
    }
    const want = this.#base + BigInt(offset);
    const prot = PROT_READ | (writable ? PROT_WRITE : 0);
    const got = getLibc().mmap(
      Deno.UnsafePointer.create(want),
      BigInt(length),
      prot,
      MAP_SHARED | MAP_FIXED,
      fd,
      BigInt(fileOffset),
    );
    if (addr(got) !== want) {
      return `mmap(MAP_FIXED) of fd ${fd} at offset ${fileOffset}: ${errnoName(lastErrno())}`;
    }
    this.#mapped = Math.max(this.#mapped, offset + length);
    return null;
  }

  /** Maps anonymous zero pages over every mapping of ours (never munmap: the range is V8's);
   * idempotent. The kernel's pages are unreferenced from here on. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#mapped === 0) return;
    const len = Math.ceil(this.#mapped / 4096) * 4096;
    const got = getLibc().mmap(
      Deno.UnsafePointer.create(this.#base),
      BigInt(len),
      PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
      -1,
      0n,
    );
    if (addr(got) !== this.#base) {
      // Nothing sane is left to do: the kernel's pages stay mapped (read-only ones would fault
      // on a V8 write, but V8 never writes a memory no code can name) until the memory is freed.
      console.error(
        `wasm-bpf: internal error: replacing an in-place buffer mapping failed: ` +
          errnoName(lastErrno()),
      );
    }
    this.#mapped = 0;
  }
}
