/**
 * `proc_exit`, `proc_raise`, `sched_yield`.
 *
 * @module
 */

import { ERRNO_NOSYS, ERRNO_SUCCESS } from "./abi.ts";
import type { Imports } from "./context.ts";

/**
 * Thrown by `proc_exit`. It unwinds the guest (it is not an error this layer maps to an errno);
 * the host catches it around `_start` and exits with {@link ProcExit.code}.
 */
export class ProcExit extends Error {
  /** The exit status the guest passed, as an unsigned 32-bit value (as WASI defines it). */
  readonly code: number;
  /** Creates the exit signal for `code`, the value the guest passed (reinterpreted as u32). */
  constructor(code: number) {
    super(`guest called proc_exit(${code >>> 0})`);
    this.name = "ProcExit";
    this.code = code >>> 0;
  }
}

/** The process imports. */
export function procImports(): Imports {
  return {
    proc_exit: (code: number): never => {
      throw new ProcExit(code);
    },
    // Signals are not part of this runtime's model.
    proc_raise: (_sig: number): number => ERRNO_NOSYS,
    // The guest is single-threaded on the main thread: nothing to yield to synchronously.
    sched_yield: (): number => ERRNO_SUCCESS,
  };
}
