/**
 * `wasm_bpf_buffer_poll(handle, fd, sample_func, ctx, data, max_size, timeout_ms) -> i32` and
 * its TinyGo form (no `sample_func`: records go to an exported callback) (abi.md §2).
 *
 * Ready records are delivered synchronously; only an empty buffer makes the call wait, and the
 * wait is a JSPI suspension, so signals and timers run meanwhile. After a stop, a poll returns
 * -EINTR at once, as libbpf's ring_buffer__poll does when a libbpf-tools program gets SIGINT.
 */

import { Errno } from "../../errno.ts";
import { BufferPoller, type Delivery } from "../buffer_poller.ts";
import type { HostContext } from "../context.ts";
import type { LoadedObject } from "../bpf_objects.ts";

type GuestCallback = Delivery["callback"];

/** The poller of buffer map `fd` of `loaded`, created on first use; or a negative errno. */
export function pollerFor(
  ctx: HostContext,
  loaded: LoadedObject,
  fd: number,
): BufferPoller | number {
  const existing = loaded.pollers.get(fd);
  if (existing) return existing;
  // The buffer must be a map of this very object: the poller lives and dies with it.
  const map = ctx.objects.mapByFd(fd);
  if (!map || map.owner !== loaded) return -Errno.EBADF;
  const created = BufferPoller.create(map, ctx.log.debug);
  if (typeof created === "number") return created;
  loaded.pollers.set(fd, created);
  ctx.log.debug(`buffer ${map.name}: ${created.kind} consumer`);
  return created;
}

/** Shared by both forms once the callback is known. */
function poll(
  ctx: HostContext,
  handle: bigint,
  fd: number,
  callback: GuestCallback,
  cbCtx: number,
  dataPtr: number,
  maxSize: number,
  timeoutMs: number,
): number | Promise<number> {
  if (ctx.stop.paused) {
    // A paused guest gets no records: it stays suspended here until resume() (or a stop).
    return ctx.stop.untilResumed().then(() =>
      ctx.stop.stopping
        ? -Errno.EINTR
        : poll(ctx, handle, fd, callback, cbCtx, dataPtr, maxSize, timeoutMs)
    );
  }
  const loaded = ctx.objects.get(handle);
  if (!loaded) return -Errno.EINVAL;
  if (!ctx.memory.inBounds(dataPtr, maxSize)) return -Errno.EFAULT;
  const poller = pollerFor(ctx, loaded, fd);
  if (typeof poller === "number") return poller;
  const delivery: Delivery = { memory: ctx.memory, dataPtr, maxSize, ctx: cbCtx, callback };
  const ready = poller.consume(delivery);
  if (ready !== 0 || timeoutMs === 0) return ready;

  return ctx.stop.waiting(() => poller.wait(timeoutMs, ctx.stop.wakeFd)).then(() => {
    if (ctx.stop.stopping) return -Errno.EINTR;
    if (loaded.closed) return -Errno.EINVAL;
    return poller.consume(delivery);
  });
}

export function makeBufferPoll(
  ctx: HostContext,
): (
  handle: bigint,
  fd: number,
  sampleFunc: number,
  cbCtx: number,
  data: number,
  maxSize: number,
  timeoutMs: number,
) => number | Promise<number> {
  return (handle, fd, sampleFunc, cbCtx, data, maxSize, timeoutMs) => {
    ctx.stop.checkpoint();
    if (ctx.stop.stopping) return -Errno.EINTR;
    const table = ctx.table;
    if (!table) return -Errno.EINVAL;
    let callback: unknown;
    try {
      callback = table.get(sampleFunc >>> 0);
    } catch {
      return -Errno.EINVAL; // index out of the table's range
    }
    if (typeof callback !== "function") return -Errno.EINVAL;
    return poll(
      ctx,
      handle,
      fd,
      callback as GuestCallback,
      cbCtx,
      data,
      maxSize,
      timeoutMs,
    );
  };
}

/** The TinyGo form: `callback-wrapper.wasm_bpf_buffer_poll(handle, fd, ctx, data, max_size,
 * timeout_ms)`, delivering to the exported callback (default `go-callback`). */
export function makeWrapperBufferPoll(
  ctx: HostContext,
  callbackExportName: string,
): (
  handle: bigint,
  fd: number,
  cbCtx: number,
  data: number,
  maxSize: number,
  timeoutMs: number,
) => number | Promise<number> {
  return (handle, fd, cbCtx, data, maxSize, timeoutMs) => {
    ctx.stop.checkpoint();
    if (ctx.stop.stopping) return -Errno.EINTR;
    const callback = ctx.exports?.[callbackExportName];
    if (typeof callback !== "function") {
      ctx.log.error(`the guest exports no function "${callbackExportName}" to receive records`);
      return -Errno.EINVAL;
    }
    return poll(ctx, handle, fd, callback as GuestCallback, cbCtx, data, maxSize, timeoutMs);
  };
}
