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
import { errnoName } from "../../ffi/errno.ts";
import { pageSize } from "./ringbuf_reader.ts";
import { Staging } from "./pump.ts";
import { FixedMemory } from "./in_place_memory.ts";

/** libbpf's per-CPU buffers of `pb` (the index libbpf knows each by, and its mapping) and
 * their common data size; or why not. */
function perCpuBuffers(
  pb: Deno.PointerObject,
): { size: number; buffers: { index: number; base: bigint }[] } | string {
  const lib = getLibbpf();
  const buffer = lib.perf_buffer__buffer;
  if (!buffer) return "libbpf has no perf_buffer__buffer (libbpf >= 1.0 has it)";
  const count = Number(lib.perf_buffer__buffer_cnt(pb));
  const page = pageSize();
  const bufOut = new BigUint64Array(1);
  const sizeOut = new BigUint64Array(1);
  const buffers: { index: number; base: bigint }[] = [];
  let size = 0;
  for (let i = 0; i < count; i++) {
    const err = buffer(pb, i, bufOut, sizeOut);
    if (err === -2) continue; // -ENOENT: no buffer for this (offline) CPU
    if (err < 0) return `perf_buffer__buffer(${i}): ${errnoName(-err)}`;
    const sz = Number(sizeOut[0]);
    if (sz <= 0 || (sz & (sz - 1)) !== 0 || sz > 2 ** 30 || sz % page || (size && sz !== size)) {
      return `unexpected perf buffer size ${sz}`;
    }
    size = sz;
    if (bufOut[0] === 0n) return `perf_buffer__buffer(${i}) gave NULL`;
    buffers.push({ index: i, base: bufOut[0] });
  }
  if (buffers.length === 0) return "no perf buffers";
  return { size, buffers };
}

/** data_head / data_tail, as BigUint64Array indexes into the header page. */
const HEAD = 1024 / 8;
const TAIL = 1032 / 8;
/** data_offset / data_size (Linux >= 4.1): known values for the in-place self-check. */
const DATA_OFFSET = 1040 / 8;
const DATA_SIZE = 1048 / 8;

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
    const found = perCpuBuffers(pb);
    if (typeof found === "string") return found;
    const { size, buffers } = found;
    const page = pageSize();
    const rings = buffers.map(({ base }): CpuRing => {
      const ab = Deno.UnsafePointerView.getArrayBuffer(
        Deno.UnsafePointer.create(base)!,
        page + size,
      );
      return { meta: new BigUint64Array(ab, 0, page / 8), d8: new Uint8Array(ab, page, size) };
    });
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

/**
 * A perf buffer read in place by the pump: each CPU's perf event fd (`perf_buffer__buffer_fd`)
 * mapped a second time into one fixed memory (in_place_memory.ts), CPU i at i * (page + size):
 * its `perf_event_mmap_page`, then its data area (singly mapped: a record may cross the end,
 * and the pump copies it out in two pieces).
 *
 * The pump does all of the reading, in wasm (pump_wasm.ts `fillInPlace`): per batch it
 * publishes data_tail of the CPU it was reading (tail = pos + head, at [meta]), then takes the
 * next CPU's pending range: base = its data area, head/end = [data_tail, data_head) as offsets
 * into the data area, unwrapped (the pump masks them). It also publishes data_tail every
 * PUBLISH_EVERY records. The mapping is read-write (a perf ring's consumer writes data_tail in
 * its header page); the pump writes only data_tail.
 */
export class InPlacePerf {
  readonly staging: Staging;
  readonly size: number;
  readonly #mem: FixedMemory | null;

  private constructor(
    memory: WebAssembly.Memory,
    mem: FixedMemory | null,
    cpus: number,
    page: number,
    size: number,
  ) {
    this.#mem = mem;
    this.size = size;
    const stride = page + size;
    this.staging = Staging.inPlace(memory, { cpus, stride, page });
    this.staging.mask.value = size - 1;
    // nothing taken: as if CPU 0 had been read up to its data_tail (the first fill publishes
    // that same value, then looks at CPU 1 first)
    const tail = new BigUint64Array(memory.buffer as ArrayBuffer, 0, page / 8)[TAIL];
    this.staging.meta.value = TAIL * 8;
    this.staging.pos.value = tail;
    this.staging.base.value = page;
  }

  /** Maps every per-CPU buffer of `pb` in place, or explains why not (the caller falls back to
   * {@link PerfReader}). */
  static open(pb: Deno.PointerObject): InPlacePerf | string {
    const bufferFd = getLibbpf().perf_buffer__buffer_fd;
    if (!bufferFd) return "libbpf has no perf_buffer__buffer_fd";
    const found = perCpuBuffers(pb);
    if (typeof found === "string") return found;
    const { size, buffers } = found;
    const page = pageSize();
    const fds: number[] = [];
    for (const { index } of buffers) {
      const fd = bufferFd(pb, BigInt(index));
      if (fd < 0) return `perf_buffer__buffer_fd(${index}): ${errnoName(-fd)}`;
      fds.push(fd);
    }
    const stride = page + size;
    const mem = FixedMemory.create(fds.length * stride);
    if (typeof mem === "string") return mem;
    const metas = fds.map((_, i) => new BigUint64Array(mem.buffer, i * stride, page / 8));
    for (const meta of metas) meta[DATA_OFFSET] = meta[DATA_SIZE] = 0xa5a5a5a5n;
    for (let i = 0; i < fds.length; i++) {
      const why = mem.map(i * stride, stride, true, fds[i], 0);
      if (why) {
        mem.release();
        return why;
      }
      const meta = metas[i];
      if (meta[DATA_OFFSET] !== BigInt(page) || meta[DATA_SIZE] !== BigInt(size)) {
        mem.release();
        return "the kernel's pages do not show through the memory (self-check)";
      }
    }
    return new InPlacePerf(mem.memory, mem, fds.length, page, size);
  }

  /** The protocol over `cpus` perf rings laid out (as above) in plain `memory` by someone
   * else: tests, which play the kernel. */
  static over(memory: WebAssembly.Memory, cpus: number, page: number, size: number): InPlacePerf {
    return new InPlacePerf(memory, null, cpus, page, size);
  }

  /** Replaces the mappings with anonymous memory: the perf events are released with their fds
   * (perf_buffer__free), not at the next GC; idempotent. */
  close(): void {
    if (this.staging.closed.value) return; // (the pump reads the same flag)
    this.staging.closed.value = 1;
    this.staging.end.value = this.staging.head.value;
    this.#mem?.release();
  }
}
