/**
 * A signal's disposition (its `struct sigaction`), read and set through libc, treated as opaque
 * bytes: the CLI saves the handler that Deno installs for a signal listener, and switches
 * between it and the default action (src/guest/stop.ts says why).
 */

import { getLibc, lastErrno } from "./libc_ffi.ts";
import { errnoName } from "./errno.ts";

/** glibc's `struct sigaction` is 152 bytes on x86_64 and aarch64; a little more is harmless. */
const SIGACTION_BYTES = 160;

/** Linux signal numbers, for the signals the host sends, catches or reports (128 + n). */
export const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGTERM: 15,
};
export type CatchableSignal = "SIGINT" | "SIGTERM";

export type SignalAction = Uint8Array<ArrayBuffer>;

/** SIG_DFL with an empty mask and no flags: all zeros. */
export const DEFAULT_ACTION: SignalAction = new Uint8Array(SIGACTION_BYTES);

/** SIG_IGN: the handler field (the first word) is 1. */
export const IGNORE_ACTION: SignalAction = (() => {
  const action = new Uint8Array(SIGACTION_BYTES);
  new DataView(action.buffer).setBigUint64(0, 1n, true);
  return action;
})();

/** The signal's disposition now. */
export function currentAction(signal: CatchableSignal): SignalAction {
  const action = new Uint8Array(SIGACTION_BYTES);
  call(signal, null, action);
  return action;
}

/** Sets the signal's disposition to `action` (one returned by currentAction, or a constant). */
export function setAction(signal: CatchableSignal, action: SignalAction): void {
  call(signal, action, null);
}

function call(signal: CatchableSignal, act: SignalAction | null, old: SignalAction | null): void {
  if (getLibc().sigaction(SIGNAL_NUMBERS[signal]!, act, old) !== 0) {
    // Only EINVAL is documented, for a bad signal number: a bug here, not a run-time condition.
    throw new Error(`sigaction(${signal}) failed: ${errnoName(lastErrno())}`);
  }
}
