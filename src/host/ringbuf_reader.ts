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
 *
 * Two ways to deliver: the TypeScript loop below (copy each record into guest memory, call the
 * guest), and the pump (pump.ts): per batch, a TypeScript walk over the headers finds the
 * committed records, one `TypedArray.set` copies them into a staging wasm memory, and one call
 * into the pump module delivers them all, with no JS↔wasm transition per record. The header walk
 * before the copy is what makes the bulk copy safe: memcpy may load a record's data before its
 * header, so a header seen committed during the copy could come with data read before the
 * producer wrote it; a header seen committed before the copy cannot.
 */

import { getLibc, lastErrno } from "../libc_ffi.ts";
import { type Delivery, GuestViews, WORD_COPY_MAX } from "./record_copy.ts";
import { RecordPump, Staging } from "./pump.ts";

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

/** The pump's staging memory starts this large and grows only for a larger record. */
const STAGING_BYTES = 1 << 20;

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
  /** Deliver through the pump when it links (else the TypeScript loop). */
  readonly #usePump: boolean;
  #staging: Staging | undefined;
  /** Pumps by guest callback, or why the callback cannot have one. */
  readonly #pumps = new Map<unknown, RecordPump | string>();
  /** Told once per callback why it goes through the TypeScript loop. */
  readonly #log: (msg: string) => void;

  private constructor(
    consPtr: Deno.PointerObject,
    prodPtr: Deno.PointerObject,
    page: number,
    size: number,
    usePump: boolean,
    log: (msg: string) => void,
  ) {
    this.#usePump = usePump;
    this.#log = log;
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

  /** Maps the ring buffer map `fd` of `size` bytes (its max_entries), or explains why not.
   * `usePump`: deliver through the pump when possible; `log` hears why not. */
  static open(
    fd: number,
    size: number,
    usePump = false,
    log: (msg: string) => void = () => {},
  ): MmapRing | string {
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
    return new MmapRing(cons!, prod!, page, size, usePump, log);
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
    if (this.#usePump) {
      const pump = this.#pumpFor(d);
      if (pump) return this.#consumePumped(pump, d, budget);
    }
    return this.#consumeLoop(d, budget);
  }

  /** The pump for this delivery's guest callback, created at its first poll; or undefined
   * when it has none (then the TypeScript loop delivers). */
  #pumpFor(d: Delivery): RecordPump | undefined {
    let pump = this.#pumps.get(d.callback);
    const memory = d.memory.wasmMemory;
    if (typeof pump === "object" && pump.guestMemory !== memory) pump = undefined;
    if (pump === undefined) {
      const size = this.#mask + 1;
      this.#staging ??= new Staging(Math.min(size, STAGING_BYTES), size);
      pump = RecordPump.create(memory, d.callback, this.#staging);
      this.#pumps.set(d.callback, pump);
      if (typeof pump === "string") this.#log(`${pump}; delivering with the TypeScript loop`);
    }
    return typeof pump === "string" ? undefined : pump;
  }

  /** `consume` through the pump: the same contract and the same consumer_pos updates. */
  #consumePumped(pump: RecordPump, d: Delivery, budget: number): number {
    const cons = this.#cons;
    const prod = this.#prod;
    const d8 = this.#d8;
    const d32 = this.#d32;
    const mask = this.#mask;
    const staging = this.#staging!;
    const ring = pump.ring;
    const dataPtr = d.dataPtr | 0;
    const maxSize = d.maxSize | 0;
    const ctx = d.ctx | 0;
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
        // Walk the headers: the committed records of this batch, at most PUBLISH_EVERY (and
        // what is left of the budget) to deliver, as many bytes as the staging memory holds.
        const want = Math.min(budget - delivered, PUBLISH_EVERY);
        let capacity = staging.capacity;
        let bytes = 0;
        let count = 0;
        let busy = false;
        while (pos + bytes < prodPos && count < want) {
          const hdr = d32[((off + bytes) & mask) >>> 2];
          if ((hdr & BUSY_BIT) !== 0) {
            busy = true;
            break;
          }
          const step = ((hdr & LEN_MASK) + HDR_SZ + 7) & ~7;
          if (bytes + step > capacity) {
            if (bytes > 0) break;
            if (!staging.ensure(step)) throw new Error(`ring record of ${step} bytes`);
            capacity = staging.capacity;
          }
          bytes += step;
          if ((hdr & DISCARD_BIT) === 0) count++;
        }
        if (bytes === 0) break; // the next record is still being written
        if (count > 0) {
          // The data area is mapped twice in a row: [off, off + bytes) is contiguous.
          staging.u8.set(d8.subarray(off, off + bytes), 0);
          let ret: number;
          try {
            ret = ring(bytes, dataPtr, maxSize, ctx);
          } catch (e) {
            // the throwing record counts as consumed
            const used = pump.consumed;
            pos += used;
            off = (off + used) & mask;
            throw e;
          }
          if (ret < 0) {
            const used = pump.consumed;
            pos += used;
            off = (off + used) & mask;
            return ret;
          }
          delivered += ret;
          // always `bytes`: the walk above found every record in it committed
          bytes = pump.consumed;
        }
        pos += bytes;
        off = (off + bytes) & mask;
        if (busy || delivered >= budget) break;
        Atomics.store(cons, 0, BigInt(pos));
        published = pos;
      }
    } finally {
      if (pos !== published) Atomics.store(cons, 0, BigInt(pos));
      this.#pos = pos;
      this.#off = off;
    }
    return delivered;
  }

  /** `consume` by the TypeScript loop. */
  #consumeLoop(d: Delivery, budget: number): number {
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
