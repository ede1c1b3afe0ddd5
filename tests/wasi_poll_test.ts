// poll_oneoff (src/wasi/poll.ts): clocks, stdin readiness, stops.
// Without a guest: the functions run on a bare WebAssembly.Memory with in-memory sinks and a
// fake BlockingGate (tests/helpers/wasi.ts).
import assert from "node:assert/strict";
import * as abi from "../src/wasi/abi.ts";
import { waitFor } from "./helpers/conditions.ts";
import { dec, putIovecs, type Setup, setup, StopSentinel } from "./helpers/wasi.ts";

function putClockSub(
  s: Setup,
  at: number,
  userdata: bigint,
  timeoutNs: bigint,
  opts: { id?: number; abs?: boolean } = {},
): void {
  s.u8().fill(0, at, at + abi.SUBSCRIPTION_SIZE);
  const dv = s.dv();
  dv.setBigUint64(at + abi.SUBSCRIPTION_OFF.userdata, userdata, true);
  dv.setUint8(at + abi.SUBSCRIPTION_OFF.tag, abi.EVENTTYPE_CLOCK);
  dv.setUint32(at + abi.SUBSCRIPTION_OFF.clock_id, opts.id ?? abi.CLOCKID_MONOTONIC, true);
  dv.setBigUint64(at + abi.SUBSCRIPTION_OFF.clock_timeout, timeoutNs, true);
  dv.setUint16(
    at + abi.SUBSCRIPTION_OFF.clock_flags,
    opts.abs ? abi.SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0,
    true,
  );
}

function putFdSub(s: Setup, at: number, userdata: bigint, tag: number, fd: number): void {
  s.u8().fill(0, at, at + abi.SUBSCRIPTION_SIZE);
  s.dv().setBigUint64(at + abi.SUBSCRIPTION_OFF.userdata, userdata, true);
  s.dv().setUint8(at + abi.SUBSCRIPTION_OFF.tag, tag);
  s.dv().setUint32(at + abi.SUBSCRIPTION_OFF.fd, fd, true);
}

function events(s: Setup, out: number, nevents: number) {
  const n = s.dv().getUint32(nevents, true);
  return Array.from({ length: n }, (_, i) => {
    const at = out + i * abi.EVENT_SIZE;
    return {
      userdata: s.dv().getBigUint64(at + abi.EVENT_OFF.userdata, true),
      error: s.dv().getUint16(at + abi.EVENT_OFF.error, true),
      type: s.dv().getUint8(at + abi.EVENT_OFF.type),
      nbytes: s.dv().getBigUint64(at + abi.EVENT_OFF.nbytes, true),
      flags: s.dv().getUint16(at + abi.EVENT_OFF.flags, true),
    };
  });
}

const IN = 1024, OUT = 4096, NEV = 8000;

Deno.test("poll_oneoff: a relative clock sleep returns about on time through gate.sleep", async () => {
  const s = setup();
  putClockSub(s, IN, 42n, 50_000_000n);
  const t0 = performance.now();
  assert.equal(await s.f.poll_oneoff(IN, OUT, 1, NEV), 0);
  const dt = performance.now() - t0;
  assert.ok(dt >= 49 && dt < 200, `slept ${dt} ms`);
  assert.deepEqual(events(s, OUT, NEV), [
    { userdata: 42n, error: 0, type: abi.EVENTTYPE_CLOCK, nbytes: 0n, flags: 0 },
  ]);
  assert.ok(s.gate.checkpoints >= 1, "checkpoint() must be called first");
  assert.ok(s.gate.sleeps.length >= 1);
});

Deno.test("poll_oneoff: the earliest of several clocks wins; absolute deadlines work", async () => {
  const s = setup();
  putClockSub(s, IN, 1n, 5_000_000_000n); // 5 s relative
  // Absolute monotonic deadline 30 ms from now.
  assert.equal(s.f.clock_time_get(abi.CLOCKID_MONOTONIC, 0n, 0), 0);
  const now = s.dv().getBigUint64(0, true);
  putClockSub(s, IN + 48, 2n, now + 30_000_000n, { abs: true });
  const t0 = performance.now();
  assert.equal(await s.f.poll_oneoff(IN, OUT, 2, NEV), 0);
  const dt = performance.now() - t0;
  assert.ok(dt >= 28 && dt < 500, `slept ${dt} ms`);
  assert.deepEqual(events(s, OUT, NEV).map((e) => e.userdata), [2n]);

  // An absolute REALTIME deadline in the past fires at once, without sleeping.
  putClockSub(s, IN, 3n, 1_000_000_000n, { id: abi.CLOCKID_REALTIME, abs: true });
  const r = s.f.poll_oneoff(IN, OUT, 1, NEV);
  assert.equal(r, 0, "a passed deadline must not block");
  assert.deepEqual(events(s, OUT, NEV).map((e) => e.userdata), [3n]);
});

Deno.test("poll_oneoff: EINTR promptly when the gate stops, at once when already stopping", async () => {
  const s = setup();
  putClockSub(s, IN, 1n, 10_000_000_000n); // 10 s
  const t0 = performance.now();
  const p = s.f.poll_oneoff(IN, OUT, 1, NEV);
  await waitFor("the poll to sleep", () => s.gate.waiters > 0);
  s.gate.stop();
  assert.equal(await p, abi.ERRNO_INTR);
  const dt = performance.now() - t0;
  assert.ok(dt < 300, `stop took ${dt} ms`);
  const r = s.f.poll_oneoff(IN, OUT, 1, NEV);
  assert.equal(r, abi.ERRNO_INTR, "stopping: must return EINTR synchronously");
});

Deno.test("poll_oneoff: a u64::MAX timeout sleeps in timer-sized chunks, not at once", async () => {
  const s = setup();
  putClockSub(s, IN, 1n, 0xffff_ffff_ffff_ffffn);
  const p = s.f.poll_oneoff(IN, OUT, 1, NEV);
  await waitFor("the poll to sleep", () => s.gate.sleeps.length > 0);
  // 30 ms in which a timer given the whole timeout (an overflow: it fires at once) would have
  // fired and slept again: what is under test
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(s.gate.sleeps.length, 1, `re-slept: ${s.gate.sleeps}`);
  assert.ok(s.gate.sleeps[0] <= 2 ** 31 - 1);
  s.gate.stop();
  assert.equal(await p, abi.ERRNO_INTR);
});

Deno.test("poll_oneoff: the host's checkpoint sentinel propagates, it is not an errno", () => {
  const s = setup();
  s.gate.throwOnCheckpoint = true;
  putClockSub(s, IN, 1n, 1_000_000n);
  assert.throws(() => s.f.poll_oneoff(IN, OUT, 1, NEV), StopSentinel);
  putIovecs(s, 100, [[1000, 16]]);
  assert.throws(() => s.f.fd_read(0, 100, 1, 200), StopSentinel);
});

Deno.test("poll_oneoff: stdin readiness, bad fds, zero subscriptions", async () => {
  const s = setup();
  assert.equal(s.f.poll_oneoff(IN, OUT, 0, NEV), abi.ERRNO_INVAL);
  putFdSub(s, IN, 7n, abi.EVENTTYPE_FD_READ, 0);
  putClockSub(s, IN + 48, 8n, 5_000_000_000n);
  const p = s.f.poll_oneoff(IN, OUT, 2, NEV);
  await waitFor("the poll to read stdin", () => s.stdin.reads > 0);
  s.stdin.push("xyz");
  assert.equal(await p, 0);
  assert.deepEqual(events(s, OUT, NEV), [
    { userdata: 7n, error: 0, type: abi.EVENTTYPE_FD_READ, nbytes: 3n, flags: 0 },
  ]);
  // The bytes the poll read in are delivered by the next fd_read, without blocking.
  putIovecs(s, 100, [[1000, 16]]);
  assert.equal(s.f.fd_read(0, 100, 1, 200), 0);
  assert.equal(dec.decode(s.u8().subarray(1000, 1000 + s.dv().getUint32(200, true))), "xyz");

  putFdSub(s, IN, 1n, abi.EVENTTYPE_FD_WRITE, 1);
  putFdSub(s, IN + 48, 2n, abi.EVENTTYPE_FD_READ, 99);
  assert.equal(s.f.poll_oneoff(IN, OUT, 2, NEV), 0);
  assert.deepEqual(events(s, OUT, NEV).map((e) => [e.userdata, e.error]), [
    [1n, 0],
    [2n, abi.ERRNO_BADF],
  ]);
});
