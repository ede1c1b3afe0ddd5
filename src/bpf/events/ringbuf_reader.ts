/**
 * A BPF ring buffer read directly over its mmap'ed pages: no FFI call and no allocation per
 * record (docs/design.md §4). The same protocol as libbpf's ringbuf_process_ring
 * (tools/lib/bpf/ringbuf.c) and the kernel's kernel/bpf/ringbuf.c:
 *
 * - page 0 (read-write): `consumer_pos` (u64); then, read-only: `producer_pos` (u64) on the next
 *   page and the data area, mapped twice in a row so that a record crossing the end of the ring
 *   is contiguous in our view.
 * - each record: an 8-byte header (u32 len with BUSY bit 31 and DISCARD bit 30, u32 page
 *   offset), then `len` bytes; records are 8-byte aligned. A BUSY record is still being written:
 *   stop there. A DISCARDed one is skipped (but consumed).
 * - positions grow forever; offset = position & (size - 1).
 *
 * `stage` moves a batch of committed records into a staging memory, where the pump (pump.ts)
 * delivers them: a walk over the headers finds the committed records, one `TypedArray.set`
 * copies them, and consumer_pos is published at once (the records are the host's now: the
 * kernel may reuse their space). The header walk before the copy is what makes the bulk copy
 * safe: memcpy may load a record's data before its header, so a header seen committed during
 * the copy could come with data read before the producer wrote it; a header seen committed
 * before the copy cannot. Loads of producer_pos and stores of consumer_pos are `Atomics`
 * operations (sequentially consistent): the store of consumer_pos before the next read of
 * producer_pos is what keeps the kernel's "wake the consumer when it has caught up" decision
 * from racing with us.
 */

import { getLibc, lastErrno } from "../../ffi/libc_ffi.ts";
import { Staging } from "./pump.ts";
import { FixedMemory } from "./in_place_memory.ts";

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const SC_PAGESIZE = 30;

const BUSY_BIT = 0x80000000 | 0;
const LEN_MASK = 0x3fffffff;
const HDR_SZ = 8;

/** The most records one batch stages: consumer_pos is published per batch, so that a producer
 * blocked on a full ring sees free space while a long run of records is being delivered. */
const BATCH_RECORDS = 1024;

/** The largest ring we index with 32-bit offsets (the data view is twice this). */
const MAX_RING = 2 ** 30;

let pageSizeCache = 0;

/** The system page size (sysconf(_SC_PAGESIZE)). */
export function pageSize(): number {
  if (!pageSizeCache) {
    const n = Number(getLibc().sysconf(SC_PAGESIZE));
    pageSizeCache = n > 0 ? n : 4096;
  }
  return pageSizeCache;
}

function mapFailed(p: Deno.PointerValue): boolean {
  return p === null || BigInt.asIntN(64, BigInt(Deno.UnsafePointer.value(p))) === -1n;
}

export class MmapRing {
  readonly #consPtr: Deno.PointerObject;
  readonly #prodPtr: Deno.PointerObject;
  readonly #consLen: bigint;
  readonly #prodLen: bigint;
  readonly #cons: BigUint64Array;
  readonly #prod: BigUint64Array;
  readonly #d8: Uint8Array;
  readonly #d32: Int32Array;
  readonly #mask: number;
  /** The ring's data size in bytes. */
  readonly size: number;
  /** Our consumer position (as published) and its offset in the ring. */
  #pos: number;
  #off: number;
  #unmapped = false;

  private constructor(
    consPtr: Deno.PointerObject,
    prodPtr: Deno.PointerObject,
    page: number,
    size: number,
  ) {
    this.size = size;
    this.#consPtr = consPtr;
    this.#prodPtr = prodPtr;
    this.#consLen = BigInt(page);
    this.#prodLen = BigInt(page + 2 * size);
    this.#cons = new BigUint64Array(Deno.UnsafePointerView.getArrayBuffer(consPtr, 8), 0, 1);
    const prod = Deno.UnsafePointerView.getArrayBuffer(prodPtr, page + 2 * size);
    this.#prod = new BigUint64Array(prod, 0, 1);
    this.#d8 = new Uint8Array(prod, page, 2 * size);
    this.#d32 = new Int32Array(prod, page, (2 * size) >>> 2);
    this.#mask = size - 1;
    this.#pos = Number(Atomics.load(this.#cons, 0));
    this.#off = this.#pos % size;
  }

  /** Maps the ring buffer map `fd` of `size` bytes (its max_entries), or explains why not. */
  static open(fd: number, size: number): MmapRing | string {
    const page = pageSize();
    const bad = badRingSize(size, page);
    if (bad) return bad;
    const libc = getLibc();
    const cons = libc.mmap(null, BigInt(page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0n);
    if (mapFailed(cons)) return `mmap of consumer page failed: errno ${lastErrno()}`;
    const prod = libc.mmap(
      null,
      BigInt(page + 2 * size),
      PROT_READ,
      MAP_SHARED,
      fd,
      BigInt(page),
    );
    if (mapFailed(prod)) {
      const errno = lastErrno();
      libc.munmap(cons, BigInt(page));
      return `mmap of producer pages failed: errno ${errno}`;
    }
    return new MmapRing(cons!, prod!, page, size);
  }

  /**
   * Copies the committed records from consumer_pos on (at most {@link BATCH_RECORDS} of them,
   * as many bytes as `staging` holds, stopping before a BUSY one) to the start of `staging`,
   * marks them staged and publishes the new consumer_pos. False when none are committed.
   */
  stage(staging: Staging): boolean {
    if (this.#unmapped) return false;
    const d32 = this.#d32;
    const mask = this.#mask;
    const pos = this.#pos;
    const off = this.#off;
    const prodPos = Number(Atomics.load(this.#prod, 0));
    let capacity = staging.capacity;
    let bytes = 0;
    let count = 0;
    while (pos + bytes < prodPos && count < BATCH_RECORDS) {
      const hdr = d32[((off + bytes) & mask) >>> 2];
      if ((hdr & BUSY_BIT) !== 0) break;
      const step = ((hdr & LEN_MASK) + HDR_SZ + 7) & ~7;
      if (bytes + step > capacity) {
        if (bytes > 0) break;
        if (!staging.ensure(step)) throw new Error(`ring record of ${step} bytes`);
        capacity = staging.capacity;
      }
      bytes += step;
      count++;
    }
    if (bytes === 0) return false;
    // The data area is mapped twice in a row: [off, off + bytes) is contiguous.
    staging.u8.set(this.#d8.subarray(off, off + bytes), 0);
    staging.staged(bytes);
    this.#pos = pos + bytes;
    this.#off = (off + bytes) & mask;
    Atomics.store(this.#cons, 0, BigInt(this.#pos));
    return true;
  }

  /** Unmaps the pages; idempotent. The views die with them: `stage` stages nothing after. */
  close(): void {
    if (this.#unmapped) return;
    this.#unmapped = true;
    const libc = getLibc();
    libc.munmap(this.#consPtr, this.#consLen);
    libc.munmap(this.#prodPtr, this.#prodLen);
  }
}

/** Checks the size of a ring buffer map; null when it can be mapped. */
function badRingSize(size: number, page: number): string | null {
  if (size <= 0 || size > MAX_RING || (size & (size - 1)) !== 0 || size % page !== 0) {
    return `ring size ${size} is not a power-of-2 multiple of the page size up to 1 GiB`;
  }
  return null;
}

/**
 * A ring buffer read in place by the pump: its pages mapped into a fixed memory
 * (in_place_memory.ts), laid out as the kernel lays out its own mmap:
 *
 *     [0, page)                 consumer page (read-write): consumer_pos
 *     [page, 2 page)            producer page (read-only): producer_pos
 *     [2 page, 2 page + 2 size) the data area, twice in a row (read-only)
 *
 * The pump does all of the reading, in wasm (pump_wasm.ts `fillInPlace`): per batch it
 * publishes the consumer position reached, reads producer_pos and takes [head, end), the
 * committed range's addresses in the double mapping (base = 2 page, the data area), so that
 * every record is contiguous; it walks the records (stopping before a BUSY one, skipping
 * DISCARDed ones), copies each into guest memory and publishes consumer_pos every
 * PUBLISH_EVERY records too (consumer position = pos + head). Its store of consumer_pos is
 * sequentially consistent and comes before producer_pos is read again: that is what keeps the
 * kernel's "wake the consumer when it has caught up" decision from racing with us.
 */
export class InPlaceRing {
  readonly staging: Staging;
  readonly size: number;
  readonly #mem: FixedMemory | null;

  private constructor(
    memory: WebAssembly.Memory,
    mem: FixedMemory | null,
    page: number,
    size: number,
  ) {
    this.#mem = mem;
    this.size = size;
    const data = 2 * page;
    this.staging = Staging.inPlace(memory);
    this.staging.meta.value = 0;
    this.staging.base.value = data;
    this.staging.mask.value = size - 1;
    // nothing staged: the first fill starts from consumer_pos
    const pos = Number(Atomics.load(new BigUint64Array(memory.buffer as ArrayBuffer, 0, 1), 0));
    const off = data + (pos & (size - 1));
    this.staging.pos.value = BigInt(pos - off);
    this.staging.head.value = off;
    this.staging.end.value = off;
  }

  /** Maps ring buffer map `fd` of `size` bytes in place, or explains why not (the caller falls
   * back to {@link MmapRing}). */
  static open(fd: number, size: number): InPlaceRing | string {
    const page = pageSize();
    const bad = badRingSize(size, page);
    if (bad) return bad;
    const mem = FixedMemory.create(2 * page + 2 * size);
    if (typeof mem === "string") return mem;
    // markers the kernel's pages must replace: consumer page past consumer_pos (zero in the
    // kernel's), and the first data word of each copy of the data area (equal in the kernel's)
    const u32 = new Uint32Array(mem.buffer);
    u32[2] = 0xa5a5a5a5;
    u32[(2 * page) >>> 2] = 0x11111111;
    u32[(2 * page + size) >>> 2] = 0x22222222;
    const why = mem.map(0, page, true, fd, 0) ??
      mem.map(page, page + 2 * size, false, fd, page);
    if (why) {
      mem.release();
      return why;
    }
    if (u32[2] !== 0 || u32[(2 * page) >>> 2] !== u32[(2 * page + size) >>> 2]) {
      mem.release();
      return "the kernel's pages do not show through the memory (self-check)";
    }
    return new InPlaceRing(mem.memory, mem, page, size);
  }

  /** The protocol over a ring laid out (as above) in plain `memory` by someone else: tests,
   * which play the kernel. */
  static over(memory: WebAssembly.Memory, page: number, size: number): InPlaceRing {
    return new InPlaceRing(memory, null, page, size);
  }

  /** Replaces the mapping with anonymous memory (the ring is unreferenced at once); idempotent.
   * A pump still running finds nothing staged (head = end). */
  close(): void {
    if (this.staging.closed.value) return; // (the pump reads the same flag)
    this.staging.closed.value = 1;
    this.staging.end.value = this.staging.head.value;
    this.#mem?.release();
  }
}
