/**
 * The wasm side of buffer delivery (module bytes and their contract: pump_wasm.ts).
 *
 * A guest's `wasm_bpf_buffer_poll` is the {@link Dispatcher}'s export, a wasm function: it asks
 * JS (`select`, synchronous) which pump serves this (buffer, callback) pair, and calls that
 * pump through its table (or skips `select` while a remembered selection holds). A
 * {@link RecordPump} calls JS only to stage records or check the run (`fill`, synchronous; in
 * place it reads the kernel's positions itself) and, when there are none, to wait (`wait`, a
 * JSPI `Suspending` import). From
 * the guest's `_start` down to its callback everything is wasm, so the callback may itself
 * suspend: sleep, read stdin, poll another buffer, call any import.
 *
 * The dispatcher must exist before the guest (it provides the guest's imports), and a pump
 * after it (it imports the guest's memory and callback): the dispatcher's table is what joins
 * them. A pump imports the callback with its ABI type, `(i32, i32, i32) -> i32`: a function of
 * another type fails to link, and the poll returns -EINVAL.
 */

import { suspending } from "../../ffi/jspi.ts";
import {
  dispatcherModuleBytes,
  type PerfLayout,
  pumpModuleBytes,
  type PumpVariant,
  type RecordFormat,
} from "./pump_wasm.ts";

export { FILL_NONE, FILL_PAUSED, FILL_STAGED, PUBLISH_EVERY, RECORD_BUDGET } from "./pump_wasm.ts";
export type { PerfLayout, RecordFormat } from "./pump_wasm.ts";

const WASM_PAGE = 65536;

const modules = new Map<string, WebAssembly.Module>();

function compiled(key: string, bytes: () => Uint8Array): WebAssembly.Module {
  let mod = modules.get(key);
  if (!mod) {
    mod = new WebAssembly.Module(bytes() as Uint8Array<ArrayBuffer>);
    modules.set(key, mod);
  }
  return mod;
}

/** select(handle, fd, sampleFunc, data, maxSize) and its TinyGo form: a pump's slot in the
 * dispatcher's table, or a negative errno for the guest. */
export interface SelectFns {
  select(handle: bigint, fd: number, sampleFunc: number, data: number, maxSize: number): number;
  selectWrapper(handle: bigint, fd: number, data: number, maxSize: number): number;
}

type RememberFn = (
  handle: bigint,
  fd: number,
  fn: number,
  data: number,
  max: number,
  slot: number,
) => void;

/** One per run: the guest's poll imports and the table of pumps they call. */
export class Dispatcher {
  /** The guest's `wasm_bpf.wasm_bpf_buffer_poll`. */
  readonly poll: WebAssembly.ExportValue;
  /** The guest's `callback-wrapper.wasm_bpf_buffer_poll` (TinyGo). */
  readonly wrapperPoll: WebAssembly.ExportValue;
  readonly #slots: WebAssembly.Table;
  readonly #free: number[] = [];
  readonly #remember: RememberFn;
  readonly #forget: () => void;

  /** `hold`: the run's RunStop.hold (the memo is not used while it is set). */
  constructor(hold: WebAssembly.Global, fns: SelectFns) {
    const instance = new WebAssembly.Instance(compiled("dispatcher", dispatcherModuleBytes), {
      h: { select: fns.select, selectWrapper: fns.selectWrapper, hold },
    });
    this.poll = instance.exports.poll;
    this.wrapperPoll = instance.exports.wpoll;
    this.#slots = instance.exports.slots as WebAssembly.Table;
    this.#remember = instance.exports.remember as RememberFn;
    this.#forget = instance.exports.forget as () => void;
  }

  /** Lets `poll` skip `select` while it is called with these same arguments: only for a slot
   * `select` would return again for them (its callback is fixed: the guest's table never
   * changes), until {@link forget} (any slot removed, the run held). */
  remember(handle: bigint, fd: number, fn: number, data: number, max: number, slot: number): void {
    this.#remember(handle, fd, fn, data, max, slot);
  }

  forget(): void {
    this.#forget();
  }

  /** Puts a pump's poll in the table; returns its slot. */
  add(pump: RecordPump): number {
    const slot = this.#free.pop();
    if (slot !== undefined) {
      this.#slots.set(slot, pump.poll);
      return slot;
    }
    const grown = this.#slots.grow(1);
    this.#slots.set(grown, pump.poll);
    return grown;
  }

  /** Empties a slot for reuse (a later call through it would trap: select never returns it). */
  remove(slot: number): void {
    this.#forget();
    this.#slots.set(slot, null);
    this.#free.push(slot);
    this.#removals++;
  }

  #removals = 0;
  /** Counts removals: a slot remembered with an older count may be gone. */
  get removals(): number {
    return this.#removals;
  }
}

const i32Global = () => new WebAssembly.Global({ value: "i32", mutable: true }, 0);

/** A buffer's records as its pumps read them (memory 1 of a pump) and the [head, end) range of
 * them not yet delivered. Shared by the buffer's pumps.
 *
 * Either a staging memory the host copies records into (grown, up to `maxBytes`, for a batch
 * that does not fit), or ({@link Staging.inPlace}) a fixed memory with the kernel's buffer pages
 * mapped into it, where the pump reads the records where the kernel wrote them. */
export class Staging {
  readonly memory: WebAssembly.Memory;
  /** The records are read in place (base, mask, pos and meta are used). */
  readonly inPlace: boolean;
  readonly head: WebAssembly.Global = i32Global();
  readonly end: WebAssembly.Global = i32Global();
  /** Perf buffers: samples the kernel reported lost, not yet logged. */
  readonly lost = new WebAssembly.Global({ value: "i64", mutable: true }, 0n);
  /** In place, perf: the data area's address; the byte at offset x is at base + (x & mask). */
  readonly base: WebAssembly.Global = i32Global();
  readonly mask: WebAssembly.Global = i32Global();
  /** In place: the consumer position is pos + head, published by the pump at [meta]. */
  readonly pos = new WebAssembly.Global({ value: "i64", mutable: true }, 0n);
  readonly meta: WebAssembly.Global = i32Global();
  /** In place: 1 once the buffer is closed (the pump takes no more records from it). */
  readonly closed: WebAssembly.Global = i32Global();
  /** In place, perf: where the per-CPU buffers lie (the pump's fill walks them). */
  readonly perfLayout: PerfLayout | undefined;
  #u8: Uint8Array;

  constructor(
    initialBytes: number,
    maxBytes: number,
    fixed?: WebAssembly.Memory,
    perfLayout?: PerfLayout,
  ) {
    this.perfLayout = perfLayout;
    if (fixed) {
      this.memory = fixed;
      this.inPlace = true;
    } else {
      const max = Math.max(1, Math.ceil(maxBytes / WASM_PAGE));
      const initial = Math.min(max, Math.max(1, Math.ceil(initialBytes / WASM_PAGE)));
      this.memory = new WebAssembly.Memory({ initial, maximum: max });
      this.inPlace = false;
    }
    this.#u8 = new Uint8Array(this.memory.buffer);
  }

  /** The records of a buffer mapped into `memory` (fixed size), read in place: a ring
   * buffer, or perf buffers laid out as `perfLayout` says. */
  static inPlace(memory: WebAssembly.Memory, perfLayout?: PerfLayout): Staging {
    return new Staging(0, 0, memory, perfLayout);
  }

  get u8(): Uint8Array {
    if (this.#u8.byteLength === 0) this.#u8 = new Uint8Array(this.memory.buffer);
    return this.#u8;
  }

  get capacity(): number {
    return this.u8.byteLength;
  }

  /** Grows to at least `bytes` (at most the maximum given at construction). */
  ensure(bytes: number): boolean {
    const have = this.capacity;
    if (bytes <= have) return true;
    try {
      this.memory.grow(Math.ceil((bytes - have) / WASM_PAGE));
    } catch {
      return false;
    }
    return this.capacity >= bytes;
  }

  /** Marks [0, bytes) as freshly staged. */
  staged(bytes: number): void {
    this.head.value = 0;
    this.end.value = bytes;
  }
}

/** A pump's `poll(ctx, data, maxSize, timeoutMs)`. */
type PumpPoll = (ctx: number, data: number, maxSize: number, timeoutMs: number) => number;

/** What a pump calls in JS. */
export interface PumpHost {
  /** Stages ready records (FILL_STAGED), or says there are none (FILL_NONE), that the run is
   * paused (FILL_PAUSED), or returns a negative errno for the guest. Synchronous. In place
   * it stages nothing (the pump reads the kernel's positions itself): FILL_NONE means the
   * host's checks passed. */
  fill(): number;
  /** In place: an i32 global, nonzero while the guest may take no record without asking
   * `fill` (the run is stopping or paused). */
  readonly hold: WebAssembly.Global;
  /** Waits for records (timeout in ms, negative: forever); 0, or a negative errno. */
  wait(timeoutMs: number): number | Promise<number>;
}

/** One pump: delivers `staging`'s records to one guest callback in one guest memory. */
export class RecordPump {
  readonly poll: PumpPoll;

  private constructor(poll: PumpPoll) {
    this.poll = poll;
  }

  /** A pump, or why there can be none (a callback that is no wasm function of the ABI type). */
  static create(
    format: RecordFormat,
    guestMemory: WebAssembly.Memory,
    callback: unknown,
    staging: Staging,
    host: PumpHost,
  ): RecordPump | string {
    if (typeof callback !== "function") return "the callback is no function";
    const variant: PumpVariant = {
      format,
      sharedGuestMemory: typeof SharedArrayBuffer !== "undefined" &&
        guestMemory.buffer instanceof SharedArrayBuffer,
      inPlace: staging.inPlace,
      acquireHeaders: staging.inPlace && Deno.build.arch !== "x86_64",
      perfLayout: staging.perfLayout,
    };
    const mod = compiled(JSON.stringify(variant), () => pumpModuleBytes(variant));
    const s = staging;
    try {
      const instance = new WebAssembly.Instance(mod, {
        g: { cb: callback as (...args: number[]) => number, mem: guestMemory },
        h: {
          fill: () => host.fill(),
          wait: suspending((t: number) => host.wait(t)),
          hold: host.hold,
        },
        p: {
          stage: s.memory,
          head: s.head,
          end: s.end,
          lost: s.lost,
          ...(s.inPlace
            ? { base: s.base, mask: s.mask, pos: s.pos, meta: s.meta, closed: s.closed }
            : {}),
        },
      });
      return new RecordPump(instance.exports.poll as PumpPoll);
    } catch (e) {
      // LinkError: a wasm function of another type
      return `the callback does not link: ${(e as Error).message}`;
    }
  }
}
