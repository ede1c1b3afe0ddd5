/**
 * `clock_time_get` / `clock_res_get`.
 *
 * - REALTIME: `performance.timeOrigin + performance.now()`, in ns since the Unix epoch (the
 *   whole-µs part of `timeOrigin` is kept as a bigint so no precision is lost above 2^53).
 * - MONOTONIC: `performance.now()` in ns (zero at process start; never goes backwards).
 * - PROCESS_CPUTIME_ID / THREAD_CPUTIME_ID: Deno has no cheap CPU-time API (`node:process`'s
 *   `cpuUsage()` costs ~35 ms of start-up to import), so both report the monotonic time since
 *   process start: an upper bound of the CPU time of a single-threaded guest, enough for C's
 *   `clock()` to measure durations. Documented choice.
 * - Resolution is reported as 1 µs for every clock (what `performance.now()` gives in Deno).
 * - Any other clock id → `EINVAL`. The `precision` argument is ignored.
 *
 * @module
 */

import {
  CLOCKID_MONOTONIC,
  CLOCKID_PROCESS_CPUTIME_ID,
  CLOCKID_REALTIME,
  CLOCKID_THREAD_CPUTIME_ID,
  ERRNO_INVAL,
  ERRNO_SUCCESS,
} from "./abi.ts";
import { syscall } from "./errors.ts";
import type { WasiMemory } from "./memory.ts";
import type { Imports } from "./context.ts";

const ORIGIN_US = Math.trunc(performance.timeOrigin * 1000);
const ORIGIN_FRAC_MS = performance.timeOrigin - ORIGIN_US / 1000;
const ORIGIN_NS = BigInt(ORIGIN_US) * 1000n;

/** Monotonic time in ms (fractional). The clock poll_oneoff deadlines use. */
export function monotonicMs(): number {
  return performance.now();
}

/** Monotonic time in ns. */
export function monotonicNs(): bigint {
  return BigInt(Math.round(performance.now() * 1e6));
}

/** Wall-clock time in ns since the Unix epoch. */
export function realtimeNs(): bigint {
  return ORIGIN_NS + BigInt(Math.round((performance.now() + ORIGIN_FRAC_MS) * 1e6));
}

/** The current value of a clock in ns, or `undefined` for an unknown clock id. */
export function clockNs(id: number): bigint | undefined {
  switch (id) {
    case CLOCKID_REALTIME:
      return realtimeNs();
    case CLOCKID_MONOTONIC:
    case CLOCKID_PROCESS_CPUTIME_ID:
    case CLOCKID_THREAD_CPUTIME_ID:
      return monotonicNs();
    default:
      return undefined;
  }
}

const RESOLUTION_NS = 1000n;

/** The clock imports. */
export function clockImports(mem: WasiMemory): Imports {
  return {
    clock_res_get: syscall((id: number, resPtr: number): number => {
      if (clockNs(id) === undefined) return ERRNO_INVAL;
      mem.setU64(resPtr, RESOLUTION_NS);
      return ERRNO_SUCCESS;
    }),
    clock_time_get: syscall((id: number, _precision: bigint, timePtr: number): number => {
      const t = clockNs(id);
      if (t === undefined) return ERRNO_INVAL;
      mem.setU64(timePtr, t);
      return ERRNO_SUCCESS;
    }),
  };
}
