/**
 * `poll_oneoff`: clock subscriptions and fd_read/fd_write readiness, blocking through the
 * host's {@link BlockingGate} so a stop request ends a wait at once.
 *
 * Semantics:
 * - Clock subscriptions, relative or absolute (`SUBSCRIPTION_CLOCK_ABSTIME`), on REALTIME,
 *   MONOTONIC or the CPU-time clocks (which `clock.ts` maps to monotonic). An absolute REALTIME
 *   deadline is converted to a monotonic one once, at the start of the call. The earliest
 *   deadline wins; every subscription whose deadline has passed when we wake gets an event.
 *   An unknown clock id gives an event with `error = EINVAL` (no wait). `precision` is ignored.
 * - `fd_read` on stdin is ready when input is buffered or at end of input (then the event has
 *   `FD_READWRITE_HANGUP`); waiting for it starts one host read whose bytes the next `fd_read`
 *   gets. `fd_write` on stdout/stderr is ready unless its sink has back-pressure
 *   (`OutputSink.room`) and is full: then it is ready once the reader made room, and gives
 *   `error = EPIPE` once nobody reads. `fd_read`/`fd_write` on regular files, and `fd_write`
 *   on other stdout/stderr, are always ready (`nbytes` = bytes left to the end of the file
 *   for reads, 0 otherwise). A bad descriptor gives an event with `error = EBADF`; a
 *   directory → `EISDIR`.
 * - Blocking protocol (host_hooks.ts): `gate.checkpoint()` first (its throw propagates); if
 *   something is ready, return it without blocking; else if `gate.stopping` → EINTR; else wait
 *   (a clock-only wait uses `gate.sleep`, anything with stdin or a full output uses `gate.race`
 *   with a timer of our own that is cleared afterwards); a reported stop → EINTR.
 * - `nsubscriptions == 0` → EINVAL.
 *
 * @module
 */

import {
  CLOCKID_REALTIME,
  ERRNO_BADF,
  ERRNO_FAULT,
  ERRNO_INTR,
  ERRNO_INVAL,
  ERRNO_ISDIR,
  ERRNO_PIPE,
  ERRNO_SUCCESS,
  EVENT_OFF,
  EVENT_SIZE,
  EVENTRWFLAGS_FD_READWRITE_HANGUP,
  EVENTTYPE_CLOCK,
  EVENTTYPE_FD_READ,
  EVENTTYPE_FD_WRITE,
  SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME,
  SUBSCRIPTION_OFF,
  SUBSCRIPTION_SIZE,
} from "./abi.ts";
import { asyncSyscall } from "./errors.ts";
import { clockNs, monotonicMs, realtimeNs } from "./clock.ts";
import type { FdTable } from "./fd_table.ts";
import type { StdinReader } from "./stdin.ts";
import { u32, type WasiMemory } from "./memory.ts";
import type { BlockingGate, OutputSink } from "./host_hooks.ts";
import type { Imports } from "./context.ts";
import * as linux from "./linux.ts";

/** Everything `poll_oneoff` needs. */
export interface PollContext {
  readonly mem: WasiMemory;
  readonly fds: FdTable;
  readonly stdin: StdinReader;
  readonly gate: BlockingGate;
}

interface Event {
  userdata: bigint;
  error: number;
  type: number;
  nbytes: bigint;
  flags: number;
}

type Sub =
  | { kind: "clock"; userdata: bigint; deadlineMs: number }
  | { kind: "stdin"; userdata: bigint }
  | { kind: "output"; userdata: bigint; sink: OutputSink }
  | { kind: "now"; event: Event };

const MAX_TIMER_MS = 2 ** 31 - 1;

function event(userdata: bigint, type: number, error = 0, nbytes = 0n, flags = 0): Event {
  return { userdata, error, type, nbytes, flags };
}

/** The poll import (it may return a Promise: wrap it in `WebAssembly.Suspending`). */
export function pollImports(ctx: PollContext): Imports {
  const { mem, fds, stdin, gate } = ctx;

  const parse = (inPtr: number, n: number): Sub[] => {
    const now = monotonicMs();
    const subs: Sub[] = [];
    for (let i = 0; i < n; i++) {
      const at = u32(inPtr) + i * SUBSCRIPTION_SIZE;
      const userdata = mem.getU64(at + SUBSCRIPTION_OFF.userdata);
      const tag = mem.getU8(at + SUBSCRIPTION_OFF.tag);
      if (tag === EVENTTYPE_CLOCK) {
        const id = mem.getU32(at + SUBSCRIPTION_OFF.clock_id);
        const timeout = mem.getU64(at + SUBSCRIPTION_OFF.clock_timeout);
        const flags = mem.getU16(at + SUBSCRIPTION_OFF.clock_flags);
        const clockNow = clockNs(id);
        if (clockNow === undefined) {
          subs.push({ kind: "now", event: event(userdata, EVENTTYPE_CLOCK, ERRNO_INVAL) });
          continue;
        }
        let relNs: bigint;
        if (flags & SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME) {
          relNs = timeout - (id === CLOCKID_REALTIME ? realtimeNs() : clockNow);
        } else {
          relNs = timeout;
        }
        const deadlineMs = relNs <= 0n ? now : now + Number(relNs) / 1e6;
        subs.push({ kind: "clock", userdata, deadlineMs });
      } else if (tag === EVENTTYPE_FD_READ || tag === EVENTTYPE_FD_WRITE) {
        const fd = mem.getU32(at + SUBSCRIPTION_OFF.fd);
        const e = fds.peek(fd);
        if (e === undefined) {
          subs.push({ kind: "now", event: event(userdata, tag, ERRNO_BADF) });
        } else if (e.kind === "dir") {
          subs.push({ kind: "now", event: event(userdata, tag, ERRNO_ISDIR) });
        } else if (tag === EVENTTYPE_FD_READ && e.kind === "stdin") {
          subs.push({ kind: "stdin", userdata });
        } else if (tag === EVENTTYPE_FD_WRITE && e.kind === "output" && e.sink.room) {
          subs.push({ kind: "output", userdata, sink: e.sink });
        } else if (
          (tag === EVENTTYPE_FD_READ && e.kind === "output") ||
          (tag === EVENTTYPE_FD_WRITE && e.kind === "stdin")
        ) {
          subs.push({ kind: "now", event: event(userdata, tag, ERRNO_BADF) });
        } else {
          let nbytes = 0n;
          if (tag === EVENTTYPE_FD_READ && e.kind === "file") {
            try {
              const size = linux.fstat(e.host.fd).size;
              const pos = linux.lseek(e.host.fd, 0n, 1 /* SEEK_CUR */);
              nbytes = size > pos ? size - pos : 0n;
            } catch { /* unknown: 0 */ }
          }
          subs.push({ kind: "now", event: event(userdata, tag, 0, nbytes) });
        }
      } else {
        subs.push({ kind: "now", event: event(userdata, tag, ERRNO_INVAL) });
      }
    }
    return subs;
  };

  /** The events ready now (none → the caller waits). */
  const collect = (subs: Sub[]): Event[] => {
    const now = monotonicMs();
    const out: Event[] = [];
    for (const s of subs) {
      if (s.kind === "now") out.push(s.event);
      else if (s.kind === "clock") {
        if (s.deadlineMs <= now) out.push(event(s.userdata, EVENTTYPE_CLOCK));
      } else if (s.kind === "output") {
        const room = s.sink.room!();
        if (room !== "full") {
          out.push(event(s.userdata, EVENTTYPE_FD_WRITE, room === "closed" ? ERRNO_PIPE : 0));
        }
      } else if (stdin.ready) {
        const hangup = stdin.eof ? EVENTRWFLAGS_FD_READWRITE_HANGUP : 0;
        out.push(event(s.userdata, EVENTTYPE_FD_READ, 0, BigInt(stdin.buffered), hangup));
      }
    }
    return out;
  };

  const emit = (outPtr: number, neventsPtr: number, events: Event[]): number => {
    // Memory may have grown while we waited: WasiMemory re-takes its views and re-checks.
    mem.check(outPtr, events.length * EVENT_SIZE);
    mem.check(neventsPtr, 4);
    for (let i = 0; i < events.length; i++) {
      const at = u32(outPtr) + i * EVENT_SIZE;
      const ev = events[i];
      mem.bytes(at, EVENT_SIZE).fill(0);
      mem.setU64(at + EVENT_OFF.userdata, ev.userdata);
      mem.setU16(at + EVENT_OFF.error, ev.error);
      mem.setU8(at + EVENT_OFF.type, ev.type);
      mem.setU64(at + EVENT_OFF.nbytes, ev.nbytes);
      mem.setU16(at + EVENT_OFF.flags, ev.flags);
    }
    mem.setU32(neventsPtr, events.length);
    return ERRNO_SUCCESS;
  };

  /** Waits until something may be ready; true when a stop was reported. */
  const wait = async (subs: Sub[]): Promise<boolean> => {
    let deadline = Infinity;
    let wantsStdin = false;
    const drained: Promise<void>[] = [];
    for (const s of subs) {
      if (s.kind === "clock") deadline = Math.min(deadline, s.deadlineMs);
      else if (s.kind === "stdin") wantsStdin = true;
      else if (s.kind === "output") drained.push(s.sink.drained!());
    }
    // Timers overflow past 2^31-1 ms (they would fire at once): wait in chunks, the caller
    // loops until the deadline.
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, deadline - monotonicMs()));
    const events: Promise<unknown>[] = wantsStdin ? [stdin.fill(), ...drained] : drained;
    if (events.length === 0) return await gate.sleep(ms);
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (deadline !== Infinity) {
      events.push(new Promise((resolve) => timer = setTimeout(resolve, ms)));
    }
    try {
      return (await gate.race(Promise.race(events))) === "stopped";
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    poll_oneoff: asyncSyscall(
      (
        inPtr: number,
        outPtr: number,
        nsubscriptions: number,
        neventsPtr: number,
      ): number | Promise<number> => {
        const n = nsubscriptions >>> 0;
        if (n === 0) return ERRNO_INVAL;
        if (!mem.inBounds(inPtr, n * SUBSCRIPTION_SIZE)) return ERRNO_FAULT;
        mem.check(outPtr, n * EVENT_SIZE);
        mem.check(neventsPtr, 4);
        // BlockingGate protocol, step 1 (may throw the host's sentinel: never caught here).
        gate.checkpoint();
        const subs = parse(inPtr, n);
        const ready = collect(subs);
        if (ready.length > 0) return emit(outPtr, neventsPtr, ready);
        if (gate.stopping) return ERRNO_INTR; // step 2
        return (async () => {
          for (;;) {
            if (await wait(subs)) return ERRNO_INTR; // step 3
            const events = collect(subs);
            // A timer may fire a little early: wait again for the remainder.
            if (events.length > 0) return emit(outPtr, neventsPtr, events);
            if (gate.stopping) return ERRNO_INTR;
          }
        })();
      },
    ),
  };
}
