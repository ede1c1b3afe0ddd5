/**
 * A BPF ring buffer consumed directly from TypeScript over its mmap'ed pages: no FFI call and no
 * allocation per record (deno-ffi-notes.md §3b). The same protocol as libbpf's
 * ringbuf_process_ring (tools/lib/bpf/ringbuf.c) and the kernel's kernel/bpf/ringbuf.c:
 *
 * - page 0 (read-write): `consumer_pos` (u64); then, read-only: `producer_pos` (u64) on the next
 *   page and the data area, mapped twice in a row so that a record crossing the end of the ring
 *   is contiguous in our view.
 * - each record: an 8-byte header (u32 len with BUSY bit 31 and DISCARD bit 30, u32 page
 *   offset), then `len` bytes; records are 8-byte aligned. A BUSY record is still being written:
 *   stop there. A DISCARDed one is skipped (but consumed).
 * - positions grow forever; offset = position & (size - 1).
 *
 * Differences from libbpf, all invisible to the guest: consumer_pos is published every
 * {@link PUBLISH_EVERY} records and when a consume ends (libbpf: after every record), and a
 * consume stops after a budget of records (libbpf 1.1 loops while the producer keeps up).
 * Stores and the producer/header loads are `Atomics` operations (sequentially consistent): the
 * store of consumer_pos before the re-read of producer_pos is what keeps the kernel's "wake the
 * consumer when it has caught up" decision from racing with us.
 */

import { getLibc, lastErrno } from "../libc_ffi.ts";
import { type Delivery, GuestViews, WORD_COPY_MAX } from "./record_copy.ts";

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const SC_PAGESIZE = 30;

const BUSY_BIT = 0x80000000 | 0;
const DISCARD_BIT = 0x40000000;
const LEN_MASK = 0x3fffffff;
const HDR_SZ = 8;

/** Publish consumer_pos at least this often within one consume, so that a producer blocked
 * on a full ring sees free space while a long batch is still being delivered. */
const PUBLISH_EVERY = 1024;

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
  /** Our consumer position (published to #cons lazily) and its offset in the ring. */
  #pos: number;
  #off: number;
  #unmapped = false;

  private constructor(
    consPtr: Deno.PointerObject,
    prodPtr: Deno.PointerObject,
    page: number,
    size: number,
  ) {
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
    if (size <= 0 || size > MAX_RING || (size & (size - 1)) !== 0 || size % page !== 0) {
      return `ring size ${size} is not a power-of-2 multiple of the page size up to 1 GiB`;
    }
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

  /** True when records (or a record still being written) are pending. */
  get pending(): boolean {
    return Number(Atomics.load(this.#prod, 0)) > this.#pos;
  }

  /**
   * Delivers the committed records, in order, until the ring is empty, a record is BUSY, the
   * guest returns a negative value (returned; that record counts as consumed), or `budget`
   * records were delivered. Returns the number delivered. Whatever the guest callback throws
   * propagates, with consumer_pos published up to and including that record.
   */
  consume(d: Delivery, budget: number): number {
    if (this.#unmapped) throw new Error("ring buffer used after free");
    const cons = this.#cons;
    const prod = this.#prod;
    const d8 = this.#d8;
    const d32 = this.#d32;
    const mask = this.#mask;
    const maxSize = d.maxSize;
    const dataPtr = d.dataPtr >>> 0;
    const callback = d.callback;
    const ctx = d.ctx;
    const views = new GuestViews(d.memory);
    let g8 = views.u8;
    let g32 = views.i32;
    const aligned = (dataPtr & 3) === 0;
    const di = dataPtr >>> 2;
    let pos = this.#pos;
    let off = this.#off;
    let published = pos;
    let prodPos = Number(Atomics.load(prod, 0));
    let delivered = 0;
    try {
      for (;;) {
        if (pos >= prodPos) {
          // Caught up: publish, then look again (the order matters, see the module comment).
          if (pos !== published) {
            Atomics.store(cons, 0, BigInt(pos));
            published = pos;
          }
          prodPos = Number(Atomics.load(prod, 0));
          if (pos >= prodPos) break;
        }
        // A plain load: the reads of the record depend on it (its length bounds them), V8 does
        // not hoist loads above the branches that guard them, and x86 does not reorder loads.
        // Atomics.load here cost 3-4 ns per record (deno task bench).
        const hdr = d32[off >>> 2];
        if ((hdr & BUSY_BIT) !== 0) break;
        const len = hdr & LEN_MASK;
        const recOff = off + HDR_SZ;
        const step = (len + HDR_SZ + 7) & ~7;
        pos += step;
        off = (off + step) & mask;
        if ((hdr & DISCARD_BIT) !== 0) continue;
        const n = len < maxSize ? len : maxSize;
        if (n > 0) {
          if (n <= WORD_COPY_MAX && aligned) {
            // the common case, inlined: whole words, then the tail bytes
            const words = n >>> 2;
            const si = recOff >>> 2;
            for (let w = 0; w < words; w++) g32[di + w] = d32[si + w];
            for (let i = words << 2; i < n; i++) g8[dataPtr + i] = d8[recOff + i];
          } else {
            views.copyIn(d8, d32, recOff, dataPtr, n);
          }
        }
        const ret = (callback(ctx, dataPtr, n) as number) | 0;
        if (g8.byteLength === 0) {
          // the guest grew its memory: take new views
          views.refresh();
          g8 = views.u8;
          g32 = views.i32;
        }
        if (ret < 0) return ret;
        if (++delivered >= budget) break;
        if (delivered % PUBLISH_EVERY === 0) {
          Atomics.store(cons, 0, BigInt(pos));
          published = pos;
        }
      }
    } finally {
      if (pos !== published) Atomics.store(cons, 0, BigInt(pos));
      this.#pos = pos;
      this.#off = off;
    }
    return delivered;
  }

  /** Unmaps the pages. The views die with them: never call consume afterwards. */
  close(): void {
    if (this.#unmapped) return;
    this.#unmapped = true;
    const libc = getLibc();
    libc.munmap(this.#consPtr, this.#consLen);
    libc.munmap(this.#prodPtr, this.#prodLen);
  }
}
