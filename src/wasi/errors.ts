/**
 * The one boundary between host exceptions and guest errnos.
 *
 * Every import is wrapped by {@link syscall} (or {@link asyncSyscall} for the JSPI-suspending
 * ones). Inside, code reports a guest-visible failure by throwing {@link WasiError} (the
 * `WasiMemory` bounds checks throw `WasiError(ERRNO_FAULT)`), or lets a Deno file-system error
 * escape; the wrapper turns both into the errno return value. Anything else — `ProcExit`, the
 * host's stop sentinel thrown by `BlockingGate.checkpoint()`, or a genuine bug — is re-thrown
 * untouched, so it unwinds the guest.
 *
 * @module
 */

import {
  ERRNO_ACCES,
  ERRNO_AGAIN,
  ERRNO_BADF,
  ERRNO_BUSY,
  ERRNO_BY_LINUX_NAME,
  ERRNO_EXIST,
  ERRNO_INTR,
  ERRNO_INVAL,
  ERRNO_IO,
  ERRNO_ISDIR,
  ERRNO_LOOP,
  ERRNO_NOENT,
  ERRNO_NOTCAPABLE,
  ERRNO_NOTDIR,
  ERRNO_NOTSUP,
  ERRNO_PIPE,
  ERRNO_TIMEDOUT,
} from "./abi.ts";

/** A guest-visible failure: the import returns `errno`. Never escapes the wrapper. */
export class WasiError extends Error {
  readonly errno: number;
  constructor(errno: number, message?: string) {
    super(message ?? `WASI errno ${errno}`);
    this.name = "WasiError";
    this.errno = errno;
  }
}

/** Deno error classes → WASI errno, used when the error carries no usable `code`. */
const BY_CLASS: ReadonlyArray<readonly [new (...a: never[]) => Error, number]> = [
  [Deno.errors.NotFound, ERRNO_NOENT],
  [Deno.errors.PermissionDenied, ERRNO_ACCES],
  // Deno's own permission system (no --allow-read / --allow-write for that path).
  [Deno.errors.NotCapable, ERRNO_NOTCAPABLE],
  [Deno.errors.AlreadyExists, ERRNO_EXIST],
  [Deno.errors.IsADirectory, ERRNO_ISDIR],
  [Deno.errors.NotADirectory, ERRNO_NOTDIR],
  [Deno.errors.FilesystemLoop, ERRNO_LOOP],
  [Deno.errors.BadResource, ERRNO_BADF],
  [Deno.errors.Interrupted, ERRNO_INTR],
  [Deno.errors.BrokenPipe, ERRNO_PIPE],
  [Deno.errors.TimedOut, ERRNO_TIMEDOUT],
  [Deno.errors.WouldBlock, ERRNO_AGAIN],
  [Deno.errors.Busy, ERRNO_BUSY],
  [Deno.errors.NotSupported, ERRNO_NOTSUP],
  [Deno.errors.InvalidData, ERRNO_INVAL],
  [Deno.errors.WriteZero, ERRNO_IO],
  [Deno.errors.UnexpectedEof, ERRNO_IO],
];

/**
 * The errno for a thrown value, or `undefined` when it is not an error this layer owns (then the
 * caller must re-throw it). Owned: {@link WasiError}, every `Deno.errors.*` class, and any Error
 * whose `code` is a Linux errno name (Deno throws plain `Error`s with `code: "ENOTEMPTY"` etc.
 * for OS errors that have no dedicated class).
 */
export function errnoOf(err: unknown): number | undefined {
  if (err instanceof WasiError) return err.errno;
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && Object.hasOwn(ERRNO_BY_LINUX_NAME, code)) {
    return ERRNO_BY_LINUX_NAME[code];
  }
  for (const [cls, errno] of BY_CLASS) if (err instanceof cls) return errno;
  // Other Deno.errors classes (network ones): still a host I/O error, not a sentinel.
  for (const cls of Object.values(Deno.errors)) if (err instanceof cls) return ERRNO_IO;
  return undefined;
}

// deno-lint-ignore no-explicit-any
type Fn = (...args: any[]) => number;
// deno-lint-ignore no-explicit-any
type AsyncFn = (...args: any[]) => number | Promise<number>;

/** Wraps a synchronous import: owned errors become the errno, the rest is re-thrown. */
export function syscall<F extends Fn>(fn: F): F {
  return function (...args: Parameters<F>): number {
    try {
      return fn(...args);
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === undefined) throw err;
      return errno;
    }
  } as F;
}

/**
 * Wraps an import that may return a Promise (it becomes a `WebAssembly.Suspending`): a
 * synchronous result stays synchronous, a rejection with an owned error becomes the errno.
 */
export function asyncSyscall<F extends AsyncFn>(fn: F): F {
  const onError = (err: unknown): number => {
    const errno = errnoOf(err);
    if (errno === undefined) throw err;
    return errno;
  };
  return function (...args: Parameters<F>): number | Promise<number> {
    try {
      const r = fn(...args);
      return typeof r === "number" ? r : r.catch(onError);
    } catch (err) {
      return onError(err);
    }
  } as F;
}

/** Throws `WasiError(ERRNO_INVAL)` unless `cond`. */
export function assertValid(cond: boolean, errno: number = ERRNO_INVAL): asserts cond {
  if (!cond) throw new WasiError(errno);
}
