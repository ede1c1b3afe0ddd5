/**
 * The record pump: a tiny wasm module (pump_wasm.ts) that delivers a batch of staged ring
 * buffer records to the guest with no JS↔wasm transition per record. It imports the guest's
 * memory, the guest's callback function and a staging memory (multi-memory); JS copies the
 * committed records of the ring into the staging memory with one `TypedArray.set`, then calls
 * the pump once per batch, which copies each record into guest memory (`memory.copy`) and calls
 * the guest function directly (a wasm-to-wasm call).
 *
 * The callback is imported with its ABI type, `(i32, i32, i32) -> i32`: a guest function of
 * another type fails to link (a `LinkError` at instantiation), and the caller keeps the
 * TypeScript loop for it, which calls it as before (with JS coercions). A shared guest memory
 * cannot be imported as a non-shared one: same fallback.
 */

import { pumpModuleBytes } from "./pump_wasm.ts";

const WASM_PAGE = 65536;

let moduleCache: WebAssembly.Module | string | undefined;

/** The compiled pump module, or why it cannot be compiled here (no multi-memory). */
function pumpModule(): WebAssembly.Module | string {
  if (moduleCache === undefined) {
    try {
      moduleCache = new WebAssembly.Module(pumpModuleBytes() as Uint8Array<ArrayBuffer>);
    } catch (e) {
      moduleCache = `the pump module does not compile: ${(e as Error).message}`;
    }
  }
  return moduleCache;
}

/** Staging memory for one ring: grows (up to the ring's size) when a record does not fit. */
export class Staging {
  readonly memory: WebAssembly.Memory;
  #u8: Uint8Array;

  constructor(initialBytes: number, maxBytes: number) {
    const max = Math.max(1, Math.ceil(maxBytes / WASM_PAGE));
    const initial = Math.min(max, Math.max(1, Math.ceil(initialBytes / WASM_PAGE)));
    this.memory = new WebAssembly.Memory({ initial, maximum: max });
    this.#u8 = new Uint8Array(this.memory.buffer);
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
}

type RingFn = (end: number, data: number, maxSize: number, ctx: number) => number;

/** One pump instance: a (guest memory, guest callback, staging memory) triple. */
export class RecordPump {
  readonly guestMemory: WebAssembly.Memory;
  readonly callback: unknown;
  /** Delivers the records staged at [0, end); see pump_wasm.ts. */
  readonly ring: RingFn;
  readonly #pos: WebAssembly.Global;

  private constructor(
    guestMemory: WebAssembly.Memory,
    callback: unknown,
    instance: WebAssembly.Instance,
  ) {
    this.guestMemory = guestMemory;
    this.callback = callback;
    this.ring = instance.exports.ring as RingFn;
    this.#pos = instance.exports.pos as WebAssembly.Global;
  }

  /** Staging bytes consumed by the last `ring` call (also when it threw). */
  get consumed(): number {
    return this.#pos.value as number;
  }

  /** A pump delivering to `callback` in `guestMemory`, or why there can be none. */
  static create(
    guestMemory: WebAssembly.Memory,
    callback: unknown,
    staging: Staging,
  ): RecordPump | string {
    if (
      typeof SharedArrayBuffer !== "undefined" && guestMemory.buffer instanceof SharedArrayBuffer
    ) {
      return "the guest memory is shared";
    }
    if (typeof callback !== "function") return "the callback is no function";
    const mod = pumpModule();
    if (typeof mod === "string") return mod;
    try {
      const instance = new WebAssembly.Instance(mod, {
        g: { cb: callback as (...args: number[]) => number, mem: guestMemory },
        p: { stage: staging.memory },
      });
      return new RecordPump(guestMemory, callback, instance);
    } catch (e) {
      // LinkError: the callback is a JS function, or a wasm function of another type
      return `cannot link the pump: ${(e as Error).message}`;
    }
  }
}
