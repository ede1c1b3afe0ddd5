/**
 * `wasm_bpf_buffer_poll(handle, fd, sample_func, ctx, data, max_size, timeout_ms) -> i32` and
 * its TinyGo form (no `sample_func`: records go to an exported callback) (docs/abi.md §2).
 *
 * Both are wasm functions of the run's {@link Dispatcher} (pump.ts): the guest's poll, the pump
 * and the guest's callback are wasm from end to end, so a callback may block (sleep, read
 * stdin, poll another buffer, operate on maps, exit) like code at top level. The JS parts here
 * are `select` (check the arguments, find the pump of this buffer and callback; skipped while a
 * remembered selection holds), `fill` (stage ready records, or in place only the run's checks)
 * and `wait` (the one suspension, when no record is ready: signals and timers run meanwhile).
 * After a stop, a poll returns -EINTR at once, as libbpf's ring_buffer__poll does when a
 * libbpf-tools program gets SIGINT.
 */

import { LinuxErrno } from "../../ffi/errno.ts";
import { BufferPoller } from "../events/buffer_poller.ts";
import type { HostContext } from "../context.ts";
import type { LoadedObject } from "../bpf_objects.ts";
import { Dispatcher, FILL_NONE, FILL_PAUSED, FILL_STAGED, RecordPump } from "../events/pump.ts";
import type { SelectFns } from "../events/pump.ts";

/** The kind of the error lines of the poll imports, rate-limited per run (log_limit.ts). */
const POLL_ERRORS = "buffer poll errors";

/** Polls through `select` before the dispatcher may remember one (see its use). */
const MEMO_AFTER_SELECTS = 256;

/** Pumps one buffer keeps, by callback; the oldest goes when a guest uses more callbacks. */
const MAX_PUMPS_PER_BUFFER = 32;

/** The poller of buffer map `fd` of `loaded`, created on first use; or a negative errno. */
export function pollerFor(
  ctx: HostContext,
  loaded: LoadedObject,
  fd: number,
): BufferPoller | number {
  return loaded.pollerFor(fd, () => {
    // The buffer must be a map of this very object: the poller lives and dies with it.
    const map = ctx.objects.mapByFd(fd);
    if (!map || map.owner !== loaded) return -LinuxErrno.EBADF;
    const created = BufferPoller.create(
      map,
      (message) => ctx.log.error(POLL_ERRORS, message),
      (message) => ctx.log.debug(message),
    );
    if (typeof created !== "number") {
      ctx.log.debug(`buffer ${map.name}: ${created.kind} consumer`);
    }
    return created;
  });
}

/** The guest's poll imports for one run: `poll` for `wasm_bpf`, `wrapperPoll` for the TinyGo
 * form delivering to the export `callbackExportName`. `bound` puts the JS part of each in the
 * imports' boundary (boundary.ts: the stop checkpoint, unexpected errors, the -v trace). */
export function makeBufferPollDispatcher(
  ctx: HostContext,
  callbackExportName: string,
  bound: (fns: SelectFns) => SelectFns = (fns) => fns,
): Dispatcher {
  // The last poll's arguments and the slot they selected: a guest polls the same buffer with
  // the same arguments in a loop, and the lookups behind a slot cost microseconds on a cold
  // cache. The callback is still read from the table on every poll (a guest may change its
  // table), and a slot removed since (a closed object, an evicted pump) voids the memo.
  let memo: {
    handle: bigint;
    fd: number;
    data: number;
    maxSize: number;
    callback: unknown;
    loaded: LoadedObject;
    slot: number;
    removals: number;
  } | undefined;
  let selects = 0;
  const dispatcher: Dispatcher = new Dispatcher(
    ctx.stop.hold,
    bound({
      select(handle, fd, sampleFunc, data, maxSize) {
        if (ctx.stop.stopping) return -LinuxErrno.EINTR;
        const table = ctx.table;
        if (!table) return -LinuxErrno.EINVAL;
        let callback: unknown;
        try {
          callback = table.get(sampleFunc >>> 0);
        } catch {
          return -LinuxErrno.EINVAL; // index out of the table's range
        }
        const m = memo;
        if (
          m && m.callback === callback && m.handle === handle && m.fd === fd && m.data === data &&
          m.maxSize === maxSize && m.removals === dispatcher.removals && !m.loaded.closed
        ) {
          return m.slot;
        }
        const tell = (message: string) => ctx.log.debug(message);
        const slot = selectPump(ctx, dispatcher, handle, fd, callback, data, maxSize, tell);
        const loaded = ctx.objects.get(handle);
        memo = slot >= 0 && loaded
          ? { handle, fd, data, maxSize, callback, loaded, slot, removals: dispatcher.removals }
          : undefined;
        // A guest whose table never changes keeps this callback at this index: the dispatcher
        // may skip this call (a cold JS call costs 10-20 us) until a slot goes (an object closed,
        // a pump evicted) or the run is held. Not under -v, whose trace shows every poll. Asked
        // from the guest's MEMO_AFTER_SELECTS-th poll on: the walk of its code that answers it
        // costs ~2 MB of peak memory once (V8 compiles the walk), which only a guest that polls
        // that often gets back.
        if (memo && ++selects >= MEMO_AFTER_SELECTS && !ctx.log.verbose && ctx.tableFixed()) {
          dispatcher.remember(handle, fd, sampleFunc, data, maxSize, slot);
        }
        return slot;
      },
      selectWrapper(handle, fd, data, maxSize) {
        if (ctx.stop.stopping) return -LinuxErrno.EINTR;
        const callback = ctx.exports?.[callbackExportName];
        if (typeof callback !== "function") {
          ctx.log.error(
            POLL_ERRORS,
            `the guest exports no function "${callbackExportName}" to receive records`,
          );
          return -LinuxErrno.EINVAL;
        }
        // (a callback export of the wrong type is the module's bug, not a guest's bad argument)
        const tell = (message: string) => ctx.log.error(POLL_ERRORS, message);
        return selectPump(ctx, dispatcher, handle, fd, callback, data, maxSize, tell);
      },
    }),
  );
  return dispatcher;
}

/** Pollers whose pumps hold dispatcher slots, which their free() must release. */
const holdingSlots = new WeakSet<BufferPoller>();

/** The dispatcher slot of the pump delivering buffer `fd` of object `handle` to `callback`,
 * created at first use; or a negative errno. `tell` hears why a callback has no pump. */
function selectPump(
  ctx: HostContext,
  dispatcher: Dispatcher,
  handle: bigint,
  fd: number,
  callback: unknown,
  dataPtr: number,
  maxSize: number,
  tell: (msg: string) => void,
): number {
  const loaded = ctx.objects.get(handle);
  if (!loaded) return -LinuxErrno.EINVAL;
  if (!ctx.memory.inBounds(dataPtr, maxSize)) return -LinuxErrno.EFAULT;
  const poller = pollerFor(ctx, loaded, fd);
  if (typeof poller === "number") return poller;
  const known = poller.pumps.get(callback);
  if (typeof known === "number") return known;
  if (typeof known === "string") return -LinuxErrno.EINVAL;
  if (callback === null) return -LinuxErrno.EINVAL; // an empty table slot
  const pump = RecordPump.create(
    poller.format,
    ctx.memory.wasmMemory,
    callback,
    poller.staging,
    {
      fill: () => fill(ctx, loaded, poller),
      wait: (timeoutMs) => wait(ctx, loaded, poller, timeoutMs),
      hold: ctx.stop.hold,
    },
  );
  if (poller.pumps.size >= MAX_PUMPS_PER_BUFFER) {
    const [oldest, slot] = poller.pumps.entries().next().value!;
    poller.pumps.delete(oldest);
    if (typeof slot === "number") dispatcher.remove(slot);
  }
  if (typeof pump === "string") {
    tell(`buffer ${poller.map.name}: ${pump}`);
    poller.pumps.set(callback, pump);
    return -LinuxErrno.EINVAL;
  }
  const slot = dispatcher.add(pump);
  if (!holdingSlots.has(poller)) {
    holdingSlots.add(poller);
    poller.onFree(() => {
      for (const s of poller.pumps.values()) if (typeof s === "number") dispatcher.remove(s);
      poller.pumps.clear();
    });
  }
  poller.pumps.set(callback, slot);
  return slot;
}

/** A pump's `fill`: stages the buffer's ready records. */
function fill(ctx: HostContext, loaded: LoadedObject, poller: BufferPoller): number {
  ctx.stop.checkpoint();
  if (ctx.stop.stopping) return -LinuxErrno.EINTR;
  // A paused guest gets no records: it stays suspended in wait until resume() (or a stop).
  if (ctx.stop.paused) return FILL_PAUSED;
  if (loaded.closed) return -LinuxErrno.EINVAL; // a callback closed the object it was polling
  const lost = poller.staging.lost;
  if (lost.value !== 0n) {
    ctx.log.debug(`perf buffer ${poller.map.name}: lost ${lost.value} samples`);
    lost.value = 0n;
  }
  return poller.stage() ? FILL_STAGED : FILL_NONE;
}

/** A pump's `wait` (JSPI-suspending): until records may be ready, the timeout passes, or the
 * run is stopped (-EINTR) or resumed after a pause. */
function wait(
  ctx: HostContext,
  loaded: LoadedObject,
  poller: BufferPoller,
  timeoutMs: number,
): number | Promise<number> {
  if (ctx.stop.stopping) return -LinuxErrno.EINTR;
  return ctx.stop.waiting(() => poller.wait(timeoutMs, ctx.stop.wakeFd)).then(() => {
    if (ctx.stop.stopping) return -LinuxErrno.EINTR;
    if (loaded.closed) return -LinuxErrno.EINVAL;
    return 0;
  });
}
