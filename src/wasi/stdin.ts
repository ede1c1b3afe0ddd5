/**
 * stdin: the one descriptor whose read blocks on the host.
 *
 * {@link StdinReader} buffers what the host's `InputSource` delivers, so that `poll_oneoff` can
 * wait for readiness and a later `fd_read` takes the bytes; {@link readStdin} is `fd_read` on
 * descriptor 0, which suspends the guest (JSPI) instead of the event loop while it waits.
 *
 * @module
 */

import { ERRNO_AGAIN, ERRNO_INTR, ERRNO_IO, ERRNO_SUCCESS, FDFLAGS_NONBLOCK } from "./abi.ts";
import { errnoOf, WasiError } from "./errors.ts";
import type { WasiMemory } from "./memory.ts";
import type { BlockingGate, InputSource } from "./host_hooks.ts";
import type { StdinEntry } from "./fd_table.ts";

const STDIN_CHUNK = 65536;

/**
 * Buffers stdin so that `poll_oneoff` can wait for readiness and a later `fd_read` gets the
 * bytes. At most one host read is in flight; a read abandoned by a stop stays in flight and its
 * bytes are kept for the next `fd_read`.
 */
export class StdinReader {
  readonly #src: InputSource;
  #buf: Uint8Array = new Uint8Array(0);
  /** The last read's buffer, once all its bytes are taken: the next read reuses it. A fresh
   * zeroed 64 KiB per read (a guest reading line by line) piled up until V8 collected them,
   * megabytes of a run's peak memory. */
  #spare: Uint8Array<ArrayBuffer> | null = null;
  #pending: Promise<void> | null = null;
  #eof = false;
  #error: WasiError | null = null;

  constructor(src: InputSource) {
    this.#src = src;
  }

  /** The underlying source. */
  get source(): InputSource {
    return this.#src;
  }

  /** Bytes available without blocking. */
  get buffered(): number {
    return this.#buf.byteLength;
  }

  /** True once the source reported end of input (and the buffer is drained). */
  get eof(): boolean {
    return this.#eof && this.#buf.byteLength === 0;
  }

  /** True when a read would not block: data, EOF, or a stored error. */
  get ready(): boolean {
    return this.#buf.byteLength > 0 || this.#eof || this.#error !== null;
  }

  /** Throws (once) the error the last host read failed with. */
  throwPendingError(): void {
    const e = this.#error;
    if (e !== null) {
      this.#error = null;
      throw e;
    }
  }

  /** Moves up to `dst.length` buffered bytes into `dst`; returns the count. */
  take(dst: Uint8Array): number {
    const n = Math.min(dst.byteLength, this.#buf.byteLength);
    dst.set(this.#buf.subarray(0, n));
    this.#buf = this.#buf.subarray(n);
    if (n > 0 && this.#buf.byteLength === 0 && this.#buf.buffer.byteLength === STDIN_CHUNK) {
      this.#spare = new Uint8Array(this.#buf.buffer as ArrayBuffer);
    }
    return n;
  }

  /** Starts (or joins) one host read; resolves when it completed (never rejects). */
  fill(): Promise<void> {
    if (this.#pending !== null) return this.#pending;
    if (this.ready) return Promise.resolve();
    const chunk = this.#spare ?? new Uint8Array(STDIN_CHUNK);
    this.#spare = null;
    this.#pending = this.#src.read(chunk).then(
      (n) => {
        if (n === null) this.#eof = true;
        else this.#buf = chunk.subarray(0, n);
      },
      (err) => {
        this.#error = new WasiError(errnoOf(err) ?? ERRNO_IO, String(err));
      },
    ).finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }
}

/** What a stdin read needs. */
export interface StdinContext {
  readonly mem: WasiMemory;
  readonly stdin: StdinReader;
  readonly gate: BlockingGate;
}

/**
 * `fd_read` on stdin: what is buffered now, EAGAIN for a NONBLOCK descriptor with nothing
 * buffered (a host read then starts in the background), otherwise a Promise that settles when
 * the host read completes, or with EINTR when the run stops first.
 */
export function readStdin(
  ctx: StdinContext,
  e: StdinEntry,
  iovsPtr: number,
  iovsLen: number,
  nreadPtr: number,
): number | Promise<number> {
  const { mem, stdin, gate } = ctx;
  const iovs = mem.iovecs(iovsPtr, iovsLen);
  mem.check(nreadPtr, 4);
  if (iovs.every(([, len]) => len === 0)) {
    mem.setU32(nreadPtr, 0);
    return ERRNO_SUCCESS;
  }
  // BlockingGate protocol, step 1 (may throw the host's sentinel: never caught here).
  gate.checkpoint();
  if (stdin.ready) return deliverStdin(ctx, iovsPtr, iovsLen, nreadPtr);
  if (e.fdflags & FDFLAGS_NONBLOCK) {
    stdin.fill();
    return ERRNO_AGAIN;
  }
  if (gate.stopping) return ERRNO_INTR; // step 2
  return (async () => {
    const r = await gate.race(stdin.fill()); // step 3
    if (r === "stopped") return ERRNO_INTR;
    return deliverStdin(ctx, iovsPtr, iovsLen, nreadPtr);
  })();
}

/** Scatters buffered stdin into the iovecs (re-read: memory may have grown meanwhile). */
function deliverStdin(
  { mem, stdin }: StdinContext,
  iovsPtr: number,
  iovsLen: number,
  nreadPtr: number,
): number {
  stdin.throwPendingError();
  const iovs = mem.iovecs(iovsPtr, iovsLen);
  mem.check(nreadPtr, 4);
  let total = 0;
  for (const [p, len] of iovs) {
    if (stdin.buffered === 0) break;
    total += stdin.take(mem.bytes(p, len));
  }
  mem.setU32(nreadPtr, total);
  return ERRNO_SUCCESS;
}
