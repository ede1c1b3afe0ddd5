/**
 * A libbpf perf buffer read directly from TypeScript: libbpf creates the per-CPU perf events
 * and maps their rings (`perf_buffer__new`); we read the records from those mappings, as
 * libbpf's perf_event_read_simple does, instead of taking one FFI callback per record
 * (deno-ffi-notes.md §3c: 100+ ns each).
 *
 * Each per-CPU mapping is one `struct perf_event_mmap_page` (data_head u64 at byte 1024,
 * data_tail u64 at 1032), then the data area: records of `struct perf_event_header` (u32 type,
 * u16 misc, u16 size), 8-byte aligned, which may wrap around the end of the (singly mapped)
 * data area. PERF_RECORD_SAMPLE (9) carries u32 size + raw data; PERF_RECORD_LOST (2) carries
 * u64 id + u64 lost count.
 *
 * Unlike libbpf's sample callback, a negative guest return stops the consume right after that
 * record (it counts as consumed), as for ring buffers.
 */

import { getLibbpf } from "../libbpf_ffi.ts";
import { pageSize } from "./ringbuf_reader.ts";
import { type Delivery, GuestViews, WORD_COPY_MAX } from "./record_copy.ts";

/** libbpf's per-CPU ring accessors, or null when this libbpf lacks perf_buffer__buffer. */
function getExtra() {
  const lib = getLibbpf();
  const buffer = lib.perf_buffer__buffer;
  if (!buffer) return null;
  return { perf_buffer__buffer_cnt: lib.perf_buffer__buffer_cnt, perf_buffer__buffer: buffer };
}

const RECORD_LOST = 2;
const RECORD_SAMPLE = 9;
/** data_head / data_tail, as BigUint64Array indexes into the header page. */
const HEAD = 1024 / 8;
const TAIL = 1032 / 8;
const PUBLISH_EVERY = 1024;

interface CpuRing {
  readonly index: number;
  readonly meta: BigUint64Array;
  readonly d8: Uint8Array;
  readonly d32: Int32Array;
}

export class PerfReader {
  readonly #rings: CpuRing[];
  readonly #mask: number;
  readonly #size: number;
  /** Holds a record that wraps around the end of a data area, made contiguous. */
  #scratch8 = new Uint8Array(1 << 16);
  #scratch32 = new Int32Array(this.#scratch8.buffer);
  /** Called with (buffer index, count) for PERF_RECORD_LOST. */
  readonly #onLost: (index: number, count: bigint) => void;

  private constructor(rings: CpuRing[], size: number, onLost: (i: number, n: bigint) => void) {
    this.#rings = rings;
    this.#size = size;
    this.#mask = size - 1;
    this.#onLost = onLost;
  }

  /** A reader over every per-CPU buffer of `pb`, or why not (then use libbpf's callbacks). */
  static open(
    pb: Deno.PointerObject,
    onLost: (index: number, count: bigint) => void,
  ): PerfReader | string {
    const lib = getExtra();
    if (!lib) return "libbpf has no perf_buffer__buffer";
    const count = Number(lib.perf_buffer__buffer_cnt(pb));
    const page = pageSize();
    const bufOut = new BigUint64Array(1);
    const sizeOut = new BigUint64Array(1);
    const rings: CpuRing[] = [];
    let size = 0;
    for (let i = 0; i < count; i++) {
      const err = lib.perf_buffer__buffer(pb, i, bufOut, sizeOut);
      if (err === -2) continue; // -ENOENT: no buffer for this (offline) CPU
      if (err < 0) return `perf_buffer__buffer(${i}): ${err}`;
      const sz = Number(sizeOut[0]);
      if (sz <= 0 || (sz & (sz - 1)) !== 0 || sz > 2 ** 30 || (size && sz !== size)) {
        return `unexpected perf buffer size ${sz}`;
      }
      size = sz;
      const base = Deno.UnsafePointer.create(bufOut[0]);
      if (base === null) return `perf_buffer__buffer(${i}) gave NULL`;
      const ab = Deno.UnsafePointerView.getArrayBuffer(base, page + sz);
      rings.push({
        index: i,
        meta: new BigUint64Array(ab, 0, page / 8),
        d8: new Uint8Array(ab, page, sz),
        d32: new Int32Array(ab, page, sz >>> 2),
      });
    }
    if (rings.length === 0) return "no perf buffers";
    return new PerfReader(rings, size, onLost);
  }

  /** Delivers pending samples (buffer by buffer, each in order) until all are read, the guest
   * returns a negative value (returned; that record counts as consumed) or `budget` records
   * were delivered. Guest exceptions propagate, the throwing record consumed. */
  consume(d: Delivery, budget: number): number {
    let delivered = 0;
    const views = new GuestViews(d.memory);
    for (const ring of this.#rings) {
      const r = this.#consumeRing(ring, d, views, budget - delivered);
      if (r < 0) return r;
      delivered += r;
      if (delivered >= budget) break;
    }
    return delivered;
  }

  #consumeRing(ring: CpuRing, d: Delivery, views: GuestViews, budget: number): number {
    const meta = ring.meta;
    let head = Number(Atomics.load(meta, HEAD));
    let tail = Number(meta[TAIL]);
    if (tail >= head) return 0;
    const mask = this.#mask;
    const size = this.#size;
    const maxSize = d.maxSize;
    const dataPtr = d.dataPtr >>> 0;
    const callback = d.callback;
    const ctx = d.ctx;
    const aligned = (dataPtr & 3) === 0;
    const di = dataPtr >>> 2;
    let published = tail;
    let delivered = 0;
    try {
      while (tail < head) {
        const off = tail & mask;
        let s8 = ring.d8;
        let s32 = ring.d32;
        let at = off;
        // perf_event_header: type at +0, size (u16) at +6
        const type = s32[off >>> 2];
        const recSize = s8[off + 6] | (s8[off + 7] << 8);
        if (recSize < 8) throw new Error(`corrupt perf record (size ${recSize})`);
        if (off + recSize > size) {
          // wraps: make it contiguous
          const first = size - off;
          this.#scratch8.set(s8.subarray(off, size), 0);
          this.#scratch8.set(s8.subarray(0, recSize - first), first);
          s8 = this.#scratch8;
          s32 = this.#scratch32;
          at = 0;
        }
        tail += recSize;
        if (type === RECORD_SAMPLE) {
          const raw = s32[(at + 8) >>> 2] >>> 0;
          const n = raw < maxSize ? raw : maxSize;
          if (n > 0) {
            if (n <= WORD_COPY_MAX && aligned) {
              // the common case, inlined (see ringbuf_reader.ts)
              const words = n >>> 2;
              const si = (at + 12) >>> 2;
              const g32 = views.i32;
              for (let w = 0; w < words; w++) g32[di + w] = s32[si + w];
              const g8 = views.u8;
              for (let i = words << 2; i < n; i++) g8[dataPtr + i] = s8[at + 12 + i];
            } else {
              views.copyIn(s8, s32, at + 12, dataPtr, n);
            }
          }
          const ret = (callback(ctx, dataPtr, n) as number) | 0;
          if (views.u8.byteLength === 0) views.refresh();
          if (ret < 0) return ret;
          if (++delivered >= budget) break;
          if (delivered % PUBLISH_EVERY === 0) {
            Atomics.store(meta, TAIL, BigInt(tail));
            published = tail;
          }
        } else if (type === RECORD_LOST) {
          const lo = s32[(at + 16) >>> 2] >>> 0;
          const hi = s32[(at + 20) >>> 2] >>> 0;
          this.#onLost(ring.index, (BigInt(hi) << 32n) | BigInt(lo));
        }
        if (tail >= head) head = Number(Atomics.load(meta, HEAD));
      }
    } finally {
      if (tail !== published) Atomics.store(meta, TAIL, BigInt(tail));
    }
    return delivered;
  }
}
