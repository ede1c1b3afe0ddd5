/**
 * The one boundary between the `wasm_bpf` imports and the host, as `syscall()` is for WASI
 * (src/wasi/errors.ts).
 *
 * {@link importBoundary} wraps each import (and the JS half of the buffer polls: `select`,
 * pump.ts). Around every call it:
 *
 * - runs the stop checkpoint (stop.ts): after a stop's grace period the call throws
 *   `GuestStopped`, which unwinds the guest;
 * - turns an exception the host did not expect (a bug in the host) into the import's failure
 *   value, -EIO (load: the 0 handle), and one error line of the run's rate-limited log
 *   (log_limit.ts), instead of ending the run with a JS stack;
 * - re-throws what must unwind the guest: `GuestStopped`, WASI's `ProcExit`, a stack overflow
 *   (the guest's trap), and `NotInstantiated` (context.ts: a start function used the guest's
 *   memory before instantiation finished, which fails the instantiation);
 * - with `-v`, logs each call with its arguments and result, strace-like.
 *
 * The trace is chosen when the imports are built, not per call: without `-v` the wrapper is the
 * checkpoint and a `try` around the import, nothing more (map operations and polls are hot).
 *
 * @module
 */

import { errnoName, LinuxErrno } from "../../ffi/errno.ts";
import { ProcExit } from "../../wasi/mod.ts";
import { type HostContext, NotInstantiated } from "../context.ts";
import { GuestStopped } from "../../guest/stop.ts";

/** The kind of the error lines of unexpected host exceptions, rate-limited per run. */
export const UNEXPECTED_ERRORS = "unexpected host errors";

/** What the boundary knows of one import: its name and parameters (for the trace) and what it
 * returns when the host fails unexpectedly. */
export interface ImportSpec<R extends number | bigint = number | bigint> {
  /** As the guest imports it, e.g. "wasm_bpf_map_operate". */
  readonly name: string;
  /** Parameter names as the trace shows them; a trailing `*` marks a guest pointer (shown in
   * hex). A trailing "..." entry says the guest passed more than this function sees. */
  readonly params: readonly string[];
  /** The result of a call whose host code threw an exception it did not expect. */
  readonly failed: R;
  /** The trace's text for a result (default: the value, with the errno's name if negative). */
  readonly result?: (value: R) => string;
  /** The import may return a Promise (it is JSPI-suspending). */
  readonly async?: boolean;
}

/** An import's host function. Up to six arguments (wasm_bpf_map_operate has six). */
// deno-lint-ignore no-explicit-any
export type ImportFn = (...args: any[]) => number | bigint | Promise<number | bigint>;

/**
 * Wraps `fn`, the host side of import `spec`, in the boundary (see the module doc).
 *
 * The wrappers take six fixed parameters rather than a rest parameter: a wasm call into a JS
 * function is cheapest without a rest array to build and spread (about 10 ns per call).
 */
export function importBoundary<F extends ImportFn>(
  ctx: HostContext,
  spec: ImportSpec<Awaited<ReturnType<F>>>,
  fn: F,
): F {
  const fail = (err: unknown) => unexpected(ctx, spec, err);
  const guarded = spec.async ? guardAsync(ctx, fn, fail) : guard(ctx, fn, fail);
  return (ctx.log.verbose ? traced(ctx, spec, guarded) : guarded) as F;
}

/** The checkpoint and the exception mapping, for an import that returns at once. */
function guard(ctx: HostContext, fn: ImportFn, fail: (err: unknown) => number | bigint): ImportFn {
  return function (a, b, c, d, e, f) {
    ctx.stop.checkpoint();
    try {
      return fn(a, b, c, d, e, f);
    } catch (err) {
      return fail(err);
    }
  };
}

/** {@link guard} for an import that may return a Promise: a rejection is mapped too. */
function guardAsync(
  ctx: HostContext,
  fn: ImportFn,
  fail: (err: unknown) => number | bigint,
): ImportFn {
  return function (a, b, c, d, e, f) {
    ctx.stop.checkpoint();
    try {
      const r = fn(a, b, c, d, e, f);
      return r instanceof Promise ? r.catch(fail) : r;
    } catch (err) {
      return fail(err);
    }
  };
}

/** `inner` with a -v line per call: the call, then its result (or what unwound the guest). */
function traced<R extends number | bigint>(
  ctx: HostContext,
  spec: ImportSpec<R>,
  inner: ImportFn,
): ImportFn {
  const show = spec.result ?? showResult;
  return function (a, b, c, d, e, f) {
    const call = `${spec.name}(${showArgs(spec.params, [a, b, c, d, e, f])})`;
    const done = (r: number | bigint) => {
      ctx.log.debug(`${call} = ${show(r as R)}`);
      return r;
    };
    const unwound = (err: unknown): never => {
      ctx.log.debug(`${call}: unwinds the guest (${(err as Error)?.name ?? typeof err})`);
      throw err;
    };
    let r;
    try {
      r = inner(a, b, c, d, e, f);
    } catch (err) {
      return unwound(err);
    }
    return r instanceof Promise ? r.then(done, unwound) : done(r);
  };
}

/** The import's failure value for `err`, logged; or `err` re-thrown when it must unwind. */
function unexpected<R extends number | bigint>(
  ctx: HostContext,
  spec: ImportSpec<R>,
  err: unknown,
): R {
  if (mustUnwind(err)) throw err;
  const returns = typeof spec.failed === "bigint"
    ? `the guest gets handle ${spec.failed}`
    : `the guest gets ${showResult(spec.failed)}`;
  ctx.log.error(
    UNEXPECTED_ERRORS,
    `${spec.name}: unexpected host error (a bug in wasm-bpf; ${returns}): ${described(err)}`,
  );
  if (ctx.log.verbose && err instanceof Error && err.stack) ctx.log.debug(err.stack);
  return spec.failed;
}

/** Whether `err` must go through the guest's frames rather than become an errno. */
function mustUnwind(err: unknown): boolean {
  return err instanceof GuestStopped || err instanceof ProcExit ||
    err instanceof NotInstantiated ||
    (err instanceof RangeError && err.message.includes("call stack size"));
}

/** `err` on one line: its class and message. */
function described(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : `thrown ${String(err)}`;
  return text.replaceAll("\n", " ");
}

function showArgs(params: readonly string[], args: unknown[]): string {
  return params.map((p, i) => {
    if (p === "...") return p;
    const v = args[i];
    if (p.endsWith("*") && typeof v === "number") {
      return `${p.slice(0, -1)}=0x${(v >>> 0).toString(16)}`;
    }
    return `${p}=${v}`;
  }).join(", ");
}

/** A result as the trace shows it: a handle, a count or fd, or a negative errno by name. */
export function showResult(value: number | bigint): string {
  if (typeof value === "number" && value < 0) return `${value} ${errnoName(value)}`;
  return String(value);
}

/** The errno of an unexpected host error, for every import returning one (all but load). */
export const HOST_FAILURE = -LinuxErrno.EIO;
