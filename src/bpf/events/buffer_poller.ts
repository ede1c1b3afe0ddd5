/**
 * The host side of ring-buffer and perf-buffer delivery: one poller per buffer map (upstream
 * keeps one per object and ignores later fds). A poller maps the buffer for the wasm pump
 * (pump.ts) to read in place, or (the copying fallback) stages the ready records into a staging
 * memory; it waits when there are none. The pump delivers the records to the guest callback,
 * wasm to wasm.
 *
 * Records are read from the mapped buffer pages, with no FFI call per record: ring buffers
 * through our own mmap of the map (ringbuf_reader.ts), perf buffers through the per-CPU mappings
 * libbpf made (perfbuf_reader.ts). libbpf's callback consumers are not used: they call the guest
 * from a JS callback, and a guest called from JS cannot suspend (sleep, read stdin, poll another
 * buffer) inside its callback. A wait is on an epoll set of our own that holds the buffer's fd
 * and the run's stop eventfd, on a worker thread, so the event loop (and with it Ctrl-C) keeps
 * running.
 */

import { getLibbpf, ptrErr } from "../../ffi/libbpf_ffi.ts";
import { getLibc, lastErrno } from "../../ffi/libc_ffi.ts";
import { LinuxErrno } from "../../ffi/errno.ts";
import { OwnedFd } from "../../ffi/owned_fd.ts";
import { type MapInfo, MapType } from "../bpf_objects.ts";
import { InPlaceRing, MmapRing } from "./ringbuf_reader.ts";
import { InPlacePerf, PerfReader } from "./perfbuf_reader.ts";
import { type RecordFormat, Staging } from "./pump.ts";

/** `WASM_BPF_COPY_BUFFERS=1` gives every buffer the copying consumer, as a failed in-place
 * self-check does: so that tests cover that path on a machine where in place works, and a way
 * out should some V8 ever break in-place reading. Read only where env access is granted
 * already: a library must not make its embedder's Deno prompt. */
function copyingForced(): boolean {
  const variable = "WASM_BPF_COPY_BUFFERS";
  try {
    if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") return false;
    return Deno.env.get(variable) === "1";
  } catch {
    return false;
  }
}

export { RECORD_BUDGET } from "./pump.ts";

/** libbpf's perf buffer size per CPU, in pages (docs/abi.md §2.1). */
export const PERF_BUFFER_PAGES = 64;

/** A staging memory starts this large (or the buffer's size, if smaller) and grows only for a
 * larger batch. */
const STAGING_BYTES = 1 << 20;

const EPOLL_CLOEXEC = 0o2000000;
const EPOLL_CTL_ADD = 1;
const EPOLLIN = 1;

export abstract class BufferPoller {
  readonly map: MapInfo;
  readonly staging: Staging;
  /** The pumps of this buffer's callbacks, by callback: their dispatcher slot, or why the
   * callback has none. Kept by imports/buffer_poll.ts. */
  readonly pumps = new Map<unknown, number | string>();
  #epoll: OwnedFd | undefined;
  #freed = false;
  readonly #onFree: (() => void)[] = [];
  readonly #events = new Uint8Array(12 * 4);

  protected constructor(map: MapInfo, staging: Staging) {
    this.map = map;
    this.staging = staging;
  }

  /** A poller for `map`, or a negative errno (-EINVAL for a map that is no buffer). `log`
   * hears errors, `debug` why a buffer is not read in place. */
  static create(
    map: MapInfo,
    log: (msg: string) => void,
    debug: (msg: string) => void = () => {},
  ): BufferPoller | number {
    if (map.type === MapType.RINGBUF) {
      const inPlace = copyingForced()
        ? "WASM_BPF_COPY_BUFFERS=1"
        : InPlaceRing.open(map.fd, map.maxEntries);
      if (typeof inPlace !== "string") return new RingPoller(map, inPlace);
      debug(`ring buffer ${map.name}: not read in place (copying instead): ${inPlace}`);
      const ring = MmapRing.open(map.fd, map.maxEntries);
      if (typeof ring !== "string") return new RingPoller(map, ring);
      log(`ring buffer ${map.name}: ${ring}`);
      return -LinuxErrno.EIO;
    }
    if (map.type === MapType.PERF_EVENT_ARRAY) return PerfPoller.open(map, log, debug);
    return -LinuxErrno.EINVAL;
  }

  /** The format of the records staged (the pump's variant). */
  abstract get format(): RecordFormat;
  /** Which consumer this poller uses, for logs and tests. */
  abstract get kind(): string;
  /** The fd that becomes readable when records may be ready. */
  protected abstract get readyFd(): number;
  /** Copies ready records into the staging memory (replacing what it held, all delivered);
   * false when none are ready. */
  protected abstract stageReady(): boolean;
  protected abstract freeBuffer(): void;

  /** Stages the next batch of ready records; false when none are ready or the poller is freed
   * (a callback closed the object it was polling). */
  stage(): boolean {
    return !this.#freed && this.stageReady();
  }

  /** Runs `fn` when the poller is freed. */
  onFree(fn: () => void): void {
    this.#onFree.push(fn);
  }

  /** Waits until records may be ready, the timeout passes or the run is stopped (`wakeFd`
   * readable). Negative timeout: forever. */
  async wait(timeoutMs: number, wakeFd: number): Promise<void> {
    if (this.#freed) return;
    const libc = getLibc();
    if (this.#epoll === undefined) {
      const epfd = libc.epoll_create1(EPOLL_CLOEXEC);
      if (epfd < 0) throw new Error(`epoll_create1: errno ${lastErrno()}`);
      const epoll = new OwnedFd(epfd);
      const ev = new Uint8Array(12);
      new DataView(ev.buffer).setUint32(0, EPOLLIN, true);
      for (const fd of [this.readyFd, wakeFd]) {
        if (libc.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, ev) < 0) {
          const errno = lastErrno();
          epoll.close();
          throw new Error(`epoll_ctl: errno ${errno}`);
        }
      }
      this.#epoll = epoll;
    }
    await libc.epoll_wait_async(this.#epoll.fd, this.#events, 4, timeoutMs < 0 ? -1 : timeoutMs);
  }

  /** Releases the buffer and everything else this poller holds; idempotent. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#epoll?.close();
    this.#epoll = undefined;
    this.freeBuffer();
    // Records staged and not delivered die with the buffer: a pump still running (the object
    // was closed from inside a callback) finds none left, and its fill reports the close.
    this.staging.staged(0);
    for (const fn of this.#onFree.splice(0)) fn();
  }
}

/** A copying staging memory for batches of up to `max` bytes. */
function stagingFor(max: number): Staging {
  return new Staging(Math.min(max, STAGING_BYTES), max);
}

/** A ring buffer: our own mapping of the ring, read in place by the pump or (fallback) copied
 * into a staging memory; polled through the map fd itself (a ring buffer map fd is readable
 * while data is pending). */
class RingPoller extends BufferPoller {
  readonly #ring: MmapRing | InPlaceRing;

  constructor(map: MapInfo, ring: MmapRing | InPlaceRing) {
    super(map, ring instanceof InPlaceRing ? ring.staging : stagingFor(ring.size));
    this.#ring = ring;
  }

  get format(): RecordFormat {
    return "ring";
  }

  get kind(): string {
    return this.#ring instanceof InPlaceRing ? "ringbuf-inplace" : "ringbuf-copy";
  }

  protected get readyFd(): number {
    return this.map.fd;
  }

  protected stageReady(): boolean {
    const ring = this.#ring;
    // in place, the pump takes the records itself
    return ring instanceof InPlaceRing ? false : ring.stage(this.staging);
  }

  protected freeBuffer(): void {
    this.#ring.close();
  }
}

/** A perf buffer: libbpf opens the per-CPU perf events and maps them (`perf_buffer__new`);
 * the pump reads them in place through a second mapping of each (InPlacePerf), or (fallback)
 * we copy batches from libbpf's mappings into a staging memory (PerfReader). libbpf's sample
 * callbacks are never called (we never call its consume functions), so it gets none. */
class PerfPoller extends BufferPoller {
  readonly #pb: Deno.PointerObject;
  readonly #reader: PerfReader | InPlacePerf;

  private constructor(map: MapInfo, pb: Deno.PointerObject, reader: PerfReader | InPlacePerf) {
    super(map, reader instanceof InPlacePerf ? reader.staging : stagingFor(reader.size));
    this.#pb = pb;
    this.#reader = reader;
  }

  static open(
    map: MapInfo,
    log: (msg: string) => void,
    debug: (msg: string) => void,
  ): PerfPoller | number {
    const lib = getLibbpf();
    const pb = lib.perf_buffer__new(map.fd, BigInt(PERF_BUFFER_PAGES), null, null, null, null);
    if (pb === null) return ptrErr(pb);
    const inPlace = copyingForced() ? "WASM_BPF_COPY_BUFFERS=1" : InPlacePerf.open(pb);
    if (typeof inPlace !== "string") return new PerfPoller(map, pb, inPlace);
    debug(`perf buffer ${map.name}: not read in place (copying instead): ${inPlace}`);
    const reader = PerfReader.open(pb);
    if (typeof reader === "string") {
      log(`perf buffer ${map.name}: ${reader}`);
      lib.perf_buffer__free(pb);
      return -LinuxErrno.EIO;
    }
    return new PerfPoller(map, pb, reader);
  }

  get format(): RecordFormat {
    return "perf";
  }

  get kind(): string {
    return this.#reader instanceof InPlacePerf ? "perfbuf-inplace" : "perfbuf-copy";
  }

  protected get readyFd(): number {
    return getLibbpf().perf_buffer__epoll_fd(this.#pb);
  }

  protected stageReady(): boolean {
    const r = this.#reader;
    // in place, the pump takes the records itself
    return r instanceof InPlacePerf ? false : r.stage(this.staging);
  }

  protected freeBuffer(): void {
    // our mappings first: perf_buffer__free then closes the last references to the events
    if (this.#reader instanceof InPlacePerf) this.#reader.close();
    getLibbpf().perf_buffer__free(this.#pb);
  }
}
