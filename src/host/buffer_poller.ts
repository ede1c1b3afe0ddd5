/**
 * Delivery of ring-buffer and perf-buffer records to a guest callback.
 *
 * One poller per buffer map (upstream keeps one per object and ignores later fds). Ready records
 * are delivered synchronously; only when none are ready does a poll wait, on an epoll set of our
 * own that holds the buffer's fd and the run's stop eventfd, on a worker thread so the event
 * loop (and with it Ctrl-C) keeps running.
 *
 * The fast path reads records straight from the mapped buffer pages in TypeScript, with no FFI
 * call per record: ring buffers through our own mmap of the map (ringbuf_reader.ts), perf
 * buffers through the per-CPU mappings libbpf made (perfbuf_reader.ts). libbpf's callback
 * consumers (`ring_buffer__consume`, `perf_buffer__consume` with `Deno.UnsafeCallback`s) remain
 * the fallback, when mapping fails, or on request (WASM_BPF_BUFFER_READER=libbpf). Ring buffer
 * records go to the guest through the wasm pump (pump.ts) when it can call the guest's callback,
 * else (or with WASM_BPF_BUFFER_READER=js) through a TypeScript loop.
 */

import { getLibbpf, ptrErr } from "../libbpf_ffi.ts";
import { getLibc, lastErrno } from "../libc_ffi.ts";
import { Errno } from "../errno.ts";
import { type MapInfo, MapType } from "./bpf_objects.ts";
import { MmapRing } from "./ringbuf_reader.ts";
import { PerfReader } from "./perfbuf_reader.ts";
import type { Delivery } from "./record_copy.ts";

export type { Delivery } from "./record_copy.ts";

/** libbpf's perf buffer size per CPU, in pages (abi.md §2). */
export const PERF_BUFFER_PAGES = 64;

/** Records delivered in one synchronous consume before a poll returns: a producer faster than
 * the consumer must not keep a poll from returning (libbpf 1.1's ring consume loops while the
 * producer keeps up). */
export const RECORD_BUDGET = 1 << 16;
/** Returned from our libbpf callback to end a consume early; never reaches the guest. */
const BUDGET_SENTINEL = -Errno.ECANCELED;

/** An UnsafeCallback of any signature, as kept until its buffer is freed. */
type Closable = { close(): void };

const EPOLL_CLOEXEC = 0o2000000;
const EPOLL_CTL_ADD = 1;
const EPOLLIN = 1;

/** The consumers WASM_BPF_BUFFER_READER selects. */
export type ReaderChoice = "pump" | "js" | "libbpf";

/** Which consumer to use, from WASM_BPF_BUFFER_READER when readable:
 * - "pump" (the default; also "mmap"): the mapped buffer, records delivered by the wasm pump
 *   (pump.ts), or by the TypeScript loop for a callback the pump cannot call;
 * - "js": the mapped buffer, records delivered by the TypeScript loop;
 * - "libbpf": libbpf's callback consumers.
 * Mapping failures fall back to libbpf's consumers. */
function preferredReader(): ReaderChoice {
  try {
    const state = Deno.permissions.querySync({ name: "env", variable: "WASM_BPF_BUFFER_READER" });
    if (state.state !== "granted") return "pump";
    const value = Deno.env.get("WASM_BPF_BUFFER_READER");
    return value === "libbpf" || value === "js" ? value : "pump";
  } catch {
    return "pump";
  }
}

export abstract class BufferPoller {
  readonly map: MapInfo;
  #epollFd = -1;
  readonly #events = new Uint8Array(12 * 4);

  protected constructor(map: MapInfo) {
    this.map = map;
  }

  /** A poller for `map`, or a negative errno (-EINVAL for a map that is no buffer). */
  static create(map: MapInfo, log: (msg: string) => void): BufferPoller | number {
    const reader = preferredReader();
    const mmap = reader !== "libbpf";
    if (map.type === MapType.RINGBUF) {
      if (mmap) {
        const pump = reader === "pump";
        const ring = MmapRing.open(
          map.fd,
          map.maxEntries,
          pump,
          (msg) => log(`ring buffer ${map.name}: ${msg}`),
        );
        if (typeof ring !== "string") return new MmapRingPoller(map, ring, pump);
        log(`ring buffer ${map.name}: ${ring}; using libbpf's consumer`);
      }
      return LibbpfRingPoller.open(map);
    }
    if (map.type === MapType.PERF_EVENT_ARRAY) return PerfBufferPoller.open(map, log, mmap);
    return -Errno.EINVAL;
  }

  /** Which consumer this poller uses, for logs and tests. */
  abstract get kind(): string;
  /** The fd that becomes readable when records may be ready. */
  protected abstract get readyFd(): number;
  /** Delivers the records that are ready now, synchronously, at most RECORD_BUDGET of them.
   * Returns how many were delivered, or the guest callback's negative return (that record is
   * consumed). Rethrows what the guest callback threw. */
  abstract consume(delivery: Delivery): number;
  abstract free(): void;

  /** Waits until records may be ready, the timeout passes or the run is stopped (`wakeFd`
   * readable). Negative timeout: forever. */
  async wait(timeoutMs: number, wakeFd: number): Promise<void> {
    const libc = getLibc();
    if (this.#epollFd < 0) {
      const epfd = libc.epoll_create1(EPOLL_CLOEXEC);
      if (epfd < 0) throw new Error(`epoll_create1: errno ${lastErrno()}`);
      const ev = new Uint8Array(12);
      new DataView(ev.buffer).setUint32(0, EPOLLIN, true);
      for (const fd of [this.readyFd, wakeFd]) {
        if (libc.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, ev) < 0) {
          const errno = lastErrno();
          libc.close(epfd);
          throw new Error(`epoll_ctl: errno ${errno}`);
        }
      }
      this.#epollFd = epfd;
    }
    await libc.epoll_wait_async(this.#epollFd, this.#events, 4, timeoutMs < 0 ? -1 : timeoutMs);
  }

  protected closeEpoll(): void {
    if (this.#epollFd >= 0) getLibc().close(this.#epollFd);
    this.#epollFd = -1;
  }
}

/** The fast ring consumer: our own mapping of the ring, polled through the map fd itself
 * (a ring buffer map fd is readable while data is pending). */
class MmapRingPoller extends BufferPoller {
  readonly #ring: MmapRing;
  readonly #pump: boolean;

  constructor(map: MapInfo, ring: MmapRing, pump: boolean) {
    super(map);
    this.#ring = ring;
    this.#pump = pump;
  }

  get kind(): string {
    return this.#pump ? "ringbuf-pump" : "ringbuf-js";
  }

  protected get readyFd(): number {
    return this.map.fd;
  }

  consume(delivery: Delivery): number {
    return this.#ring.consume(delivery, RECORD_BUDGET);
  }

  free(): void {
    this.closeEpoll();
    this.#ring.close();
  }
}

/** Pollers that take records through libbpf's FFI callbacks. An exception thrown inside an
 * UnsafeCallback is swallowed by FFI, so it is kept and rethrown once libbpf has returned. */
abstract class CallbackPoller extends BufferPoller {
  protected delivery: Delivery | undefined;
  protected delivered = 0;
  /** The guest callback's negative return, when it stopped the poll. */
  protected guestStop: number | undefined;
  /** An exception from the guest callback (a trap, proc_exit, a stop), rethrown after FFI. */
  protected guestError: { error: unknown } | undefined;

  protected abstract consumeReady(): void;

  consume(delivery: Delivery): number {
    this.delivery = delivery;
    this.delivered = 0;
    this.guestStop = undefined;
    this.guestError = undefined;
    try {
      this.consumeReady();
    } finally {
      this.delivery = undefined;
    }
    // Set from inside the FFI callbacks, which TypeScript's narrowing cannot see.
    const failure = this.guestError as { error: unknown } | undefined;
    if (failure) throw failure.error;
    return this.guestStop ?? this.delivered;
  }

  /** Copies one record into guest memory and calls the guest. Returns false to stop. */
  protected deliver(data: Deno.PointerValue, size: number): boolean {
    const d = this.delivery!;
    try {
      const n = Math.min(size, d.maxSize);
      if (n > 0 && data !== null) {
        const dst = d.memory.bytes;
        const start = d.dataPtr >>> 0;
        Deno.UnsafePointerView.copyInto(data, dst.subarray(start, start + n));
      }
      const ret = Number(d.callback(d.ctx, d.dataPtr, n)) | 0;
      if (ret < 0) {
        this.guestStop = ret;
        return false;
      }
      this.delivered++;
      return this.delivered < RECORD_BUDGET;
    } catch (error) {
      // FFI swallows exceptions thrown in callbacks: keep it and rethrow after the call.
      this.guestError = { error };
      return false;
    }
  }
}

class LibbpfRingPoller extends CallbackPoller {
  readonly #rb: Deno.PointerObject;
  readonly #callback: Closable;

  private constructor(map: MapInfo, rb: Deno.PointerObject, cb: Closable) {
    super(map);
    this.#rb = rb;
    this.#callback = cb;
  }

  static open(map: MapInfo): LibbpfRingPoller | number {
    // The callback is created before the poller it calls into.
    const target: { poller?: LibbpfRingPoller } = {};
    const cb = new Deno.UnsafeCallback(
      // int (*)(void *ctx, void *data, size_t size); size declared u32: a number, not a BigInt.
      { parameters: ["pointer", "pointer", "u32"], result: "i32" } as const,
      (_ctx, data, size) => target.poller!.onRecord(data, size),
    );
    const rb = getLibbpf().ring_buffer__new(map.fd, cb.pointer, null, null);
    if (rb === null) {
      const err = ptrErr(rb);
      cb.close();
      return err;
    }
    target.poller = new LibbpfRingPoller(map, rb, cb);
    return target.poller;
  }

  get kind(): string {
    return "ringbuf-libbpf";
  }

  onRecord(data: Deno.PointerValue, size: number): number {
    if (this.deliver(data, size)) return 0;
    return this.guestStop ?? BUDGET_SENTINEL;
  }

  protected get readyFd(): number {
    return getLibbpf().ring_buffer__epoll_fd(this.#rb);
  }

  protected consumeReady(): void {
    // Returns the record count, or the negative value our callback returned (guestStop /
    // budget), or a libbpf error.
    const ret = getLibbpf().ring_buffer__consume(this.#rb);
    if (ret < 0 && this.guestStop === undefined && ret !== BUDGET_SENTINEL && !this.guestError) {
      this.guestStop = ret;
    }
  }

  free(): void {
    this.closeEpoll();
    getLibbpf().ring_buffer__free(this.#rb);
    this.#callback.close();
  }
}

class PerfBufferPoller extends CallbackPoller {
  readonly #pb: Deno.PointerObject;
  readonly #callbacks: Closable[];
  /** Reads the per-CPU mappings directly; undefined: libbpf's callbacks (the fallback). */
  #reader: PerfReader | undefined;
  /** Records libbpf handed us after the guest stopped a poll; delivered first next time. */
  readonly #pending: Uint8Array[] = [];
  #halted = false;
  lost = 0n;

  private constructor(map: MapInfo, pb: Deno.PointerObject, cbs: Closable[]) {
    super(map);
    this.#pb = pb;
    this.#callbacks = cbs;
  }

  static open(map: MapInfo, log: (msg: string) => void, mmap: boolean): PerfBufferPoller | number {
    const target: { poller?: PerfBufferPoller } = {};
    const onLost = (cpu: number | string, count: number | bigint) => {
      target.poller!.lost += BigInt(count);
      log(`perf buffer ${map.name}: lost ${count} samples on ${cpu}`);
    };
    const sample = new Deno.UnsafeCallback(
      // void (*)(void *ctx, int cpu, void *data, __u32 size)
      { parameters: ["pointer", "i32", "pointer", "u32"], result: "void" } as const,
      (_ctx, _cpu, data, size) => target.poller!.onSample(data, size),
    );
    const lost = new Deno.UnsafeCallback(
      // void (*)(void *ctx, int cpu, __u64 cnt)
      { parameters: ["pointer", "i32", "u64"], result: "void" } as const,
      (_ctx, cpu, count) => onLost(`CPU ${cpu}`, count),
    );
    const pb = getLibbpf().perf_buffer__new(
      map.fd,
      BigInt(PERF_BUFFER_PAGES),
      sample.pointer,
      lost.pointer,
      null,
      null,
    );
    if (pb === null) {
      const err = ptrErr(pb);
      sample.close();
      lost.close();
      return err;
    }
    target.poller = new PerfBufferPoller(map, pb, [sample, lost]);
    if (mmap) {
      const reader = PerfReader.open(pb, (i, n) => onLost(`buffer ${i}`, n));
      if (typeof reader === "string") {
        log(`perf buffer ${map.name}: ${reader}; using libbpf's consumer`);
      } else {
        target.poller.#reader = reader;
      }
    }
    return target.poller;
  }

  get kind(): string {
    return this.#reader ? "perfbuf-mmap" : "perfbuf-libbpf";
  }

  override consume(delivery: Delivery): number {
    if (this.#reader) return this.#reader.consume(delivery, RECORD_BUDGET);
    return super.consume(delivery);
  }

  onSample(data: Deno.PointerValue, size: number): void {
    if (this.#halted) {
      // libbpf's perf sample callback cannot stop the consume: keep the record for next time.
      const copy = new Uint8Array(size);
      if (size > 0 && data !== null) Deno.UnsafePointerView.copyInto(data, copy);
      this.#pending.push(copy);
      return;
    }
    if (!this.deliver(data, size)) this.#halted = true;
  }

  protected get readyFd(): number {
    return getLibbpf().perf_buffer__epoll_fd(this.#pb);
  }

  protected consumeReady(): void {
    this.#halted = false;
    while (this.#pending.length > 0 && !this.#halted) {
      const record = this.#pending.shift()!;
      if (!this.deliverCopy(record)) this.#halted = true;
    }
    if (this.#halted) return;
    const ret = getLibbpf().perf_buffer__consume(this.#pb);
    if (ret < 0 && this.guestStop === undefined && !this.guestError) this.guestStop = ret;
  }

  private deliverCopy(record: Uint8Array): boolean {
    const d = this.delivery!;
    const n = Math.min(record.length, d.maxSize);
    d.memory.bytes.set(record.subarray(0, n), d.dataPtr >>> 0);
    return this.deliver(null, n);
  }

  free(): void {
    this.closeEpoll();
    this.#reader = undefined;
    getLibbpf().perf_buffer__free(this.#pb);
    for (const cb of this.#callbacks) cb.close();
  }
}
