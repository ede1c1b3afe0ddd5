/**
 * Stopping a running guest: Ctrl-C, SIGTERM, or a stop from code.
 *
 * The guest runs on the main thread; its blocking imports (buffer polls, sleeps, stdin reads)
 * are JSPI `Suspending` functions, so the event loop runs while the guest waits. That is when a
 * stop can be observed. The design (docs/design.md §5):
 *
 * - Signals are caught only while the guest is suspended in a wait. While it runs wasm or
 *   synchronous FFI, SIGINT/SIGTERM have their default action: the process dies at once and the
 *   kernel detaches every link as it closes our fds. (A listener could not run then: a JS
 *   signal listener needs the event loop.)
 * - The listeners themselves stay from the start of the run until close(); only the
 *   disposition switches, by sigaction(2), between Deno's handler (in a wait) and the default
 *   action (out of one). Removing the listener at the end of each wait instead lost a signal
 *   that Deno's handler had recorded but whose listener had not yet run when the wait ended (a
 *   timer and the signal ready in the same turn): the child then ran on until kill()'s SIGKILL.
 * - The first signal decides the status: after a stop by one signal, the other is ignored,
 *   so SIGTERM then SIGINT still exits 143.
 * - When a stop arrives during a wait, the wait ends at once (an eventfd wakes `epoll_wait`, an
 *   AbortSignal ends sleeps) and the blocking import returns EINTR, exactly what a libbpf-tools
 *   program sees on SIGINT; a well-behaved guest breaks its loop and returns from main, so its
 *   stdio is flushed and its objects destroyed.
 * - A guest that ignores EINTR gets a grace period; after it, the next host import it calls
 *   throws `GuestStopped`, which unwinds the guest.
 */

import type { BlockingGate } from "../wasi/host_hooks.ts";
import { getLibc } from "../ffi/libc_ffi.ts";
import { OwnedFd } from "../ffi/owned_fd.ts";
import {
  type CatchableSignal,
  currentAction,
  DEFAULT_ACTION,
  IGNORE_ACTION,
  setAction,
  type SignalAction,
} from "../ffi/signal_action.ts";

/** How long a stopped guest may keep running to exit by itself. */
export const STOP_GRACE_MS = 100;

/** The longest delay setTimeout accepts. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What stopped a run: a signal to this process or `kill()`, or, in the CLI, stdout whose
 * reader went away ("SIGPIPE": as a native program dies of SIGPIPE at `| head`). */
export type StopReason = "SIGINT" | "SIGTERM" | "SIGPIPE" | "kill";

/** Thrown through the guest's frames to unwind it after a stop. Never catch it in an import. */
export class GuestStopped extends Error {
  readonly reason: StopReason;
  constructor(reason: StopReason) {
    super(`guest stopped (${reason})`);
    this.name = "GuestStopped";
    this.reason = reason;
  }
}

/** The exit status a stop maps to, by shell convention 128 + signal number ("kill": SIGKILL). */
export function exitCodeForStop(reason: StopReason): number {
  return { SIGINT: 130, SIGTERM: 143, SIGPIPE: 141, kill: 137 }[reason];
}

const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;

/** One run's stop state. Implements the WASI layer's BlockingGate. */
export class RunStop implements BlockingGate {
  readonly #controller = new AbortController();
  #reason: StopReason | undefined;
  #graceEndsAt = Infinity;
  #eventFd: OwnedFd | undefined;
  #armed = 0;
  readonly #catchSignals: boolean;
  /** Deno's handlers, saved when the listeners were added (at the start) until close(). */
  #denoActions: Map<CatchableSignal, SignalAction> | undefined;
  readonly #onSigint = () => this.request("SIGINT");
  readonly #onSigterm = () => this.request("SIGTERM");

  /** `catchSignals`: whether waits listen for SIGINT/SIGTERM (the CLI does; a library run
   * embedded in someone else's program stops through `request`). */
  constructor(catchSignals: boolean) {
    this.#catchSignals = catchSignals;
    if (catchSignals) this.#listen();
  }

  get stopping(): boolean {
    return this.#reason !== undefined;
  }

  /** An i32 wasm global, 1 while the run is stopping or paused: wasm that hands the guest
   * records without calling the host (the in-place event pumps) asks the host first then. */
  readonly hold: WebAssembly.Global = new WebAssembly.Global({ value: "i32", mutable: true }, 0);

  #updateHold(): void {
    this.hold.value = this.stopping || this.paused ? 1 : 0;
  }

  get reason(): StopReason | undefined {
    return this.#reason;
  }

  /** Aborted on stop. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Asks the guest to stop; idempotent (the first reason wins). */
  request(reason: StopReason): void {
    if (this.#reason) return;
    this.#reason = reason;
    this.#graceEndsAt = performance.now() + STOP_GRACE_MS;
    this.#controller.abort(new GuestStopped(reason));
    // Out of a wait (a listener that ran late), the other signal is ignored from now on.
    if (this.#armed === 0) this.#uncatch();
    this.resume(); // a paused guest must wake up to stop
    this.#updateHold();
    this.#signalEventFd();
  }

  checkpoint(): void {
    if (this.#reason && performance.now() >= this.#graceEndsAt) {
      throw new GuestStopped(this.#reason);
    }
  }

  /** An eventfd that becomes readable on stop, for epoll sets that a wait blocks on. */
  get wakeFd(): number {
    if (this.#eventFd === undefined) {
      const fd = getLibc().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (fd < 0) throw new Error("eventfd failed");
      this.#eventFd = new OwnedFd(fd);
      if (this.#reason) this.#signalEventFd(); // already stopped: readable at once
    }
    return this.#eventFd.fd;
  }

  /** Makes the eventfd readable (if it exists yet): it stays so, ending every later wait. */
  #signalEventFd(): void {
    if (this.#eventFd === undefined) return;
    const one = new BigUint64Array([1n]);
    getLibc().write(this.#eventFd.fd, new Uint8Array(one.buffer), 8n);
  }

  /** Runs `wait` with the signal listeners armed (see the module comment for why only then).
   * A paused run stays suspended here, before and after the wait, until resumed or stopped. */
  async waiting<T>(wait: () => Promise<T>): Promise<T> {
    this.#arm();
    try {
      await this.untilResumed();
      const result = await wait();
      await this.untilResumed();
      return result;
    } finally {
      this.#disarm();
    }
  }

  // --- pause -------------------------------------------------------------------------------
  // A paused guest makes no progress past its next blocking call (poll, sleep, stdin read):
  // the call stays suspended until resume() or a stop. Pure computation between host calls
  // cannot be paused on this thread; a guest in its own process is paused with SIGSTOP.

  #resumed: Promise<void> | undefined;
  #resume: (() => void) | undefined;

  get paused(): boolean {
    return this.#resumed !== undefined;
  }

  pause(): void {
    if (this.#resumed || this.stopping) return;
    this.#resumed = new Promise((resolve) => (this.#resume = resolve));
    this.#updateHold();
  }

  resume(): void {
    const resume = this.#resume;
    this.#resumed = this.#resume = undefined;
    this.#updateHold();
    resume?.();
  }

  /** Resolves at once unless paused; then when resumed or stopped. */
  untilResumed(): Promise<void> {
    return this.#resumed ?? Promise.resolve();
  }

  sleep(ms: number): Promise<boolean> {
    if (this.stopping) return Promise.resolve(true);
    return this.waiting(() =>
      new Promise<boolean>((resolve) => {
        const signal = this.#controller.signal;
        const deadline = performance.now() + ms;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const onAbort = () => {
          clearTimeout(timer);
          resolve(true);
        };
        // JS timers take at most 2^31-1 ms (about 24.8 days): longer sleeps re-arm.
        const arm = () => {
          const left = deadline - performance.now();
          if (left <= 0) {
            signal.removeEventListener("abort", onAbort);
            resolve(false);
            return;
          }
          timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        if (Number.isFinite(ms)) arm();
      })
    );
  }

  race<T>(p: Promise<T>): Promise<{ value: T } | "stopped"> {
    if (this.stopping) return Promise.resolve("stopped");
    return this.waiting(() =>
      new Promise<{ value: T } | "stopped">((resolve, reject) => {
        const signal = this.#controller.signal;
        const onAbort = () => resolve("stopped");
        signal.addEventListener("abort", onAbort, { once: true });
        p.then(
          (value) => {
            signal.removeEventListener("abort", onAbort);
            resolve({ value });
          },
          (error) => {
            signal.removeEventListener("abort", onAbort);
            reject(error);
          },
        );
      })
    );
  }

  /** Adds the listeners, keeps the handlers Deno installed for them, and leaves the default
   * action in place until the first wait. (Done at the start rather than at the first wait:
   * when that first wait was a sleep inside a buffer callback, a SIGTERM that the process was
   * shown to catch sometimes killed it, in about 1 run in 15.) */
  #listen(): void {
    Deno.addSignalListener("SIGINT", this.#onSigint);
    Deno.addSignalListener("SIGTERM", this.#onSigterm);
    this.#denoActions = new Map([
      ["SIGINT", currentAction("SIGINT")],
      ["SIGTERM", currentAction("SIGTERM")],
    ]);
    this.#uncatch();
  }

  #arm(): void {
    if (this.#armed++ > 0 || !this.#denoActions) return;
    for (const [signal, action] of this.#denoActions) setAction(signal, action);
  }

  #disarm(): void {
    if (--this.#armed === 0) this.#uncatch();
  }

  /** The disposition out of a wait: the default action, except that after a stop by one
   * signal the other is ignored (the first signal decides the status). */
  #uncatch(): void {
    if (!this.#catchSignals) return;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const other = this.#reason !== undefined && this.#reason !== "kill" &&
        this.#reason !== signal;
      setAction(signal, other ? IGNORE_ACTION : DEFAULT_ACTION);
    }
  }

  /** Removes the listeners and releases the eventfd; idempotent. */
  close(): void {
    if (this.#denoActions) {
      this.#denoActions = undefined;
      Deno.removeSignalListener("SIGINT", this.#onSigint);
      Deno.removeSignalListener("SIGTERM", this.#onSigterm);
      this.#uncatch(); // whatever removing the listeners left, a stop's choice stays
    }
    this.#eventFd?.close();
    this.#eventFd = undefined;
  }
}
