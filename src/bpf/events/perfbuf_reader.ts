/**
 * A libbpf perf buffer read directly: libbpf creates the per-CPU perf events and maps their
 * rings (`perf_buffer__new`); we read the records from those mappings instead of taking one FFI
 * callback per record (docs/design.md §4: 100+ ns each).
 *
 * Each per-CPU mapping is one `struct perf_event_mmap_page` (data_head u64 at byte 1024,
 * data_tail u64 at 1032), then the data area: records of `struct perf_event_header` (u32 type,
 * u16 misc, u16 size), 8-byte aligned, which may wrap around the end of the (singly mapped)
 * data area. `stage` copies one CPU's pending records [data_tail, data_head) into a staging
 * memory, in two pieces when they wrap (so a record crossing the end becomes contiguous), and
 * publishes data_tail; the pump (pump.ts) walks the records there. data_head is written by the
 * kernel after the records it covers (a release store), and read here with an acquire load
 * (`Atomics.load`): every byte below it is complete.
 */

import { getLibbpf } from "../../ffi/libbpf_ffi.ts";
import { pageSize } from "./ringbuf_reader.ts";
import type { Staging } from "./pump.ts";

/** libbpf's per-CPU ring accessors, or null when this libbpf lacks perf_buffer__buffer. */
function getExtra() {
  const lib = getLibbpf();
  const buffer = lib.perf_buffer__buffer;
  if (!buffer) return null;
  return { perf_buffer__buffer_cnt: lib.perf_buffer__buffer_cnt, perf_buffer__buffer: buffer };
}

/** data_head / data_tail, as BigUint64Array indexes into the header page. */
const HEAD = 1024 / 8;
const TAIL = 1032 / 8;

interface CpuRing {
  readonly meta: BigUint64Array;
  readonly d8: Uint8Array;
}

export class PerfReader {
  readonly #rings: CpuRing[];
  /** The size of each per-CPU data area (a power of two). */
  readonly size: number;
  /** The ring `stage` looks at first: the CPUs take turns. */
  #next = 0;

  private constructor(rings: CpuRing[], size: number) {
    this.#rings = rings;
    this.size = size;
  }

  /** A reader over every per-CPU buffer of `pb`, or why not. */
  static open(pb: Deno.PointerObject): PerfReader | string {
    const lib = getExtra();
    if (!lib) return "libbpf has no perf_buffer__buffer (libbpf >= 1.0 has it)";
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
      rings.push({ meta: new BigUint64Array(ab, 0, page / 8), d8: new Uint8Array(ab, page, sz) });
    }
    if (rings.length === 0) return "no perf buffers";
    return new PerfReader(rings, size);
  }

  /** Stages the pending records of the next CPU that has some; false when none has. */
  stage(staging: Staging): boolean {
    const n = this.#rings.length;
    for (let i = 0; i < n; i++) {
      const ring = this.#rings[(this.#next + i) % n];
      const meta = ring.meta;
      const head = Number(Atomics.load(meta, HEAD));
      const tail = Number(meta[TAIL]);
      if (tail >= head) continue;
      this.#next = (this.#next + i + 1) % n;
      const bytes = head - tail;
      if (!staging.ensure(bytes)) throw new Error(`perf buffer batch of ${bytes} bytes`);
      const off = tail & (this.size - 1);
      const first = Math.min(bytes, this.size - off);
      const u8 = staging.u8;
      u8.set(ring.d8.subarray(off, off + first), 0);
      if (first < bytes) u8.set(ring.d8.subarray(0, bytes - first), first);
      staging.staged(bytes);
      Atomics.store(meta, TAIL, BigInt(head));
      return true;
    }
    return false;
  }
}
