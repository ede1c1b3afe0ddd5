/**
 * Unit tests of the record pump (src/bpf/events/pump.ts, pump_wasm.ts) without a kernel: fake batches
 * of ring buffer and perf records are staged by a fake `fill`, and the callback is a JS function
 * (or a JSPI-suspending one) that records what it was given.
 */

import assert from "node:assert/strict";
import { asWasmFunction } from "./helpers/wasm_function.ts";
import { promising, suspending } from "../src/ffi/jspi.ts";
import { concatBytes as concat } from "../src/bytes.ts";
import {
  Dispatcher,
  FILL_NONE,
  FILL_STAGED,
  RECORD_BUDGET,
  type RecordFormat,
  RecordPump,
  Staging,
} from "../src/bpf/events/pump.ts";

/** The run is never held here (the copying pumps read no kernel positions themselves). */
const NOT_HELD = new WebAssembly.Global({ value: "i32", mutable: true }, 0);

const DISCARD = 0x40000000;
const DATA = 1024; // where records go in guest memory
const MAX = 64;

/** One ring buffer record: the 8-byte header, then `payload`, padded to 8 bytes. */
function ringRecord(payload: Uint8Array, flags = 0): Uint8Array {
  const out = new Uint8Array(8 + ((payload.length + 7) & ~7));
  new DataView(out.buffer).setUint32(0, (payload.length | flags) >>> 0, true);
  out.set(payload, 8);
  return out;
}

/** One perf record: perf_event_header (type, misc, size), then the body. */
function perfRecord(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + ((body.length + 7) & ~7));
  const v = new DataView(out.buffer);
  v.setUint32(0, type, true);
  v.setUint16(6, out.length, true);
  out.set(body, 8);
  return out;
}

function perfSample(payload: Uint8Array): Uint8Array {
  const body = new Uint8Array(4 + payload.length);
  new DataView(body.buffer).setUint32(0, payload.length, true);
  body.set(payload, 4);
  return perfRecord(9, body);
}

function perfLost(count: number): Uint8Array {
  const body = new Uint8Array(16);
  new DataView(body.buffer).setBigUint64(8, BigInt(count), true);
  return perfRecord(2, body);
}

/** Payload i: `len` bytes, byte j = (i + j) & 0xff. */
const payload = (i: number, len: number) => Uint8Array.from({ length: len }, (_, j) => i + j);

type Callback = (ctx: number, data: number, n: number) => number | Promise<number>;

/** A pump over fake batches: each fill stages the next batch, then says none is ready. */
function harness(format: RecordFormat, batches: Uint8Array[], callback: Callback, opts: {
  suspendingCallback?: boolean;
  wait?: (timeoutMs: number) => number | Promise<number>;
} = {}) {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const staging = new Staging(65536, 1 << 20);
  const seen: { ctx: number; bytes: number[] }[] = [];
  const pending = [...batches];
  const calls = { fill: 0, wait: [] as number[] };
  const cb = (ctx: number, data: number, n: number) => {
    seen.push({ ctx, bytes: [...new Uint8Array(memory.buffer, data, n)] });
    return callback(ctx, data, n);
  };
  const pump = RecordPump.create(
    format,
    memory,
    opts.suspendingCallback ? asWasmFunction(suspending(cb)) : cb,
    staging,
    {
      fill() {
        calls.fill++;
        const batch = pending.shift();
        if (!batch) return FILL_NONE;
        staging.ensure(batch.length);
        staging.u8.set(batch, 0);
        staging.staged(batch.length);
        return FILL_STAGED;
      },
      wait(timeoutMs) {
        calls.wait.push(timeoutMs);
        return opts.wait ? opts.wait(timeoutMs) : 0;
      },
      hold: NOT_HELD,
    },
  );
  if (typeof pump === "string") throw new Error(pump);
  const poll = promising(pump.poll as unknown as WebAssembly.ExportValue);
  return {
    seen,
    calls,
    staging,
    pending,
    poll: (timeoutMs = 0, ctx = 7) => poll(ctx, DATA, MAX, timeoutMs) as Promise<number>,
  };
}

Deno.test("pump/ring: records in order, truncated to max, discarded ones skipped", async () => {
  const lens = [0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 63, 64, 65, 70, 200];
  const batch = concat(lens.flatMap((len, i) => [
    ringRecord(payload(i, len)),
    ringRecord(payload(99, 5), DISCARD),
  ]));
  const h = harness("ring", [batch], () => 0);
  assert.equal(await h.poll(), lens.length);
  assert.equal(h.seen.length, lens.length);
  lens.forEach((len, i) => {
    assert.equal(h.seen[i].ctx, 7);
    assert.deepEqual(h.seen[i].bytes, [...payload(i, Math.min(len, MAX))], `record ${i}`);
  });
  // none left: the next poll fills again and finds nothing
  assert.equal(await h.poll(), 0);
});

Deno.test("pump/ring: a negative return ends the poll; the next poll goes on", async () => {
  const batch = concat([0, 1, 2, 3].map((i) => ringRecord(payload(i, 4))));
  const h = harness("ring", [batch], () => h.seen.length === 2 ? -7 : 0);
  assert.equal(await h.poll(), -7);
  assert.equal(h.seen.length, 2);
  assert.equal(h.calls.fill, 1);
  // records 2 and 3 are still staged: delivered before any new fill
  assert.equal(await h.poll(), 2);
  assert.deepEqual(h.seen.map((s) => s.bytes[0]), [0, 1, 2, 3]);
});

Deno.test("pump/ring: a throwing callback propagates; its record counts as delivered", async () => {
  const batch = concat([0, 1, 2].map((i) => ringRecord(payload(i, 4))));
  const h = harness("ring", [batch], () => {
    if (h.seen.length === 1) throw new Error("guest trap");
    return 0;
  });
  await assert.rejects(h.poll(), /guest trap/);
  assert.equal(await h.poll(), 2);
  assert.deepEqual(h.seen.map((s) => s.bytes[0]), [0, 1, 2]);
});

Deno.test("pump/ring: a poll returns after RECORD_BUDGET records", async () => {
  const perBatch = 1000;
  const total = RECORD_BUDGET + 1234;
  const batches: Uint8Array[] = [];
  for (let left = total; left > 0; left -= perBatch) {
    const one = ringRecord(new Uint8Array(0));
    batches.push(concat(Array.from({ length: Math.min(perBatch, left) }, () => one)));
  }
  const h = harness("ring", batches, () => 0);
  assert.equal(await h.poll(), RECORD_BUDGET);
  assert.equal(await h.poll(), total - RECORD_BUDGET);
});

Deno.test("pump: waits only when nothing was delivered and the timeout is not 0", async () => {
  const h = harness("ring", [], () => 0);
  assert.equal(await h.poll(0), 0);
  assert.deepEqual(h.calls.wait, []);
  assert.equal(await h.poll(25), 0);
  assert.deepEqual(h.calls.wait, [25]); // one wait, then one more look
  assert.equal(h.calls.fill, 3);

  // records that arrive during the wait are delivered by the same poll
  const late = harness("ring", [], () => 0, {
    wait: () => {
      late.pending.push(ringRecord(payload(5, 4)));
      return 0;
    },
  });
  assert.equal(await late.poll(-1), 1);
  assert.deepEqual(late.calls.wait, [-1]);

  // a negative errno from wait (a stop: -EINTR) is the poll's result
  const stopped = harness("ring", [], () => 0, { wait: () => -4 });
  assert.equal(await stopped.poll(-1), -4);
});

Deno.test("pump: the callback may suspend (JSPI) in the middle of a batch", async () => {
  const batch = concat([0, 1, 2].map((i) => ringRecord(payload(i, 8))));
  const h = harness(
    "ring",
    [batch],
    async () => {
      await new Promise((r) => setTimeout(r, 5)); // a callback that suspends: under test
      return 0;
    },
    { suspendingCallback: true },
  );
  assert.equal(await h.poll(), 3);
  assert.deepEqual(h.seen.map((s) => s.bytes[0]), [0, 1, 2]);
});

Deno.test("pump/perf: samples delivered, lost counts summed, other records skipped", async () => {
  const batch = concat([
    perfSample(payload(0, 24)),
    perfLost(3),
    perfRecord(14, new Uint8Array(8)), // some other record type
    perfSample(payload(1, 100)),
    perfLost(4),
    perfSample(payload(2, 5)),
  ]);
  const h = harness("perf", [batch], () => 0);
  assert.equal(await h.poll(), 3);
  assert.deepEqual(h.seen[0].bytes, [...payload(0, 24)]);
  assert.deepEqual(h.seen[1].bytes, [...payload(1, MAX)]);
  assert.deepEqual(h.seen[2].bytes, [...payload(2, 5)]);
  assert.equal(h.staging.lost.value, 7n);
});

Deno.test("pump/perf: a record of size < 8 drops the rest of its batch, no hang", async () => {
  const bad = perfRecord(9, new Uint8Array(8));
  new DataView(bad.buffer).setUint16(6, 4, true);
  const h = harness(
    "perf",
    [concat([perfSample(payload(0, 4)), bad, perfSample(payload(1, 4))])],
    () => 0,
  );
  assert.equal(await h.poll(), 1);
});

Deno.test("pump: a callback of another type does not link", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const staging = new Staging(65536, 65536);
  // a wasm function of type () -> i32: (module (func (export "f") (result i32) i32.const 0))
  const f = new WebAssembly.Instance(
    new WebAssembly.Module(
      Uint8Array.from([
        0,
        97,
        115,
        109,
        1,
        0,
        0,
        0,
        1,
        5,
        1,
        96,
        0,
        1,
        127,
        3,
        2,
        1,
        0,
        7,
        5,
        1,
        1,
        102,
        0,
        0,
        10,
        6,
        1,
        4,
        0,
        65,
        0,
        11,
      ]),
    ),
  ).exports.f;
  const host = { fill: () => FILL_NONE, wait: () => 0, hold: NOT_HELD };
  const pump = RecordPump.create("ring", memory, f, staging, host);
  assert.equal(typeof pump, "string");
  assert.equal(typeof RecordPump.create("ring", memory, null, staging, host), "string");
});

Deno.test("dispatcher: slots are handed out, freed and reused", () => {
  const d = new Dispatcher(NOT_HELD, { select: () => -22, selectWrapper: () => -22 });
  const memory = new WebAssembly.Memory({ initial: 1 });
  const staging = new Staging(65536, 65536);
  const host = { fill: () => FILL_NONE, wait: () => 0, hold: NOT_HELD };
  const pump = RecordPump.create("ring", memory, () => 0, staging, host) as RecordPump;
  const a = d.add(pump);
  const b = d.add(pump);
  assert.notEqual(a, b);
  d.remove(a);
  assert.equal(d.add(pump), a);
});

Deno.test("dispatcher: a remembered poll skips select until forgotten, a slot removed or the run held", async () => {
  const hold = new WebAssembly.Global({ value: "i32", mutable: true }, 0);
  const selects: number[] = [];
  let slot = -22;
  const d = new Dispatcher(hold, {
    select: (_handle, fd) => (selects.push(fd), slot),
    selectWrapper: () => -22,
  });
  const memory = new WebAssembly.Memory({ initial: 1 });
  const host = { fill: () => FILL_NONE, wait: () => 0, hold: NOT_HELD };
  const pump = RecordPump.create("ring", memory, () => 0, new Staging(65536, 65536), host);
  slot = d.add(pump as RecordPump);
  const poll = promising(d.poll) as (...args: (number | bigint)[]) => Promise<number>;
  const pollFd = (fd: number) => poll(1n, fd, 5, 0, 1024, 64, 0);

  assert.equal(await pollFd(3), 0);
  assert.deepEqual(selects, [3], "nothing remembered: select");
  d.remember(1n, 3, 5, 1024, 64, slot);
  assert.equal(await pollFd(3), 0);
  assert.deepEqual(selects, [3], "the same arguments: no select");
  assert.equal(await pollFd(4), 0);
  assert.deepEqual(selects, [3, 4], "another fd: select");
  assert.equal(await poll(1n, 3, 5, 0, 1024, 65, 0), 0);
  assert.deepEqual(selects, [3, 4, 3], "another max: select");

  hold.value = 1;
  assert.equal(await pollFd(3), 0);
  assert.deepEqual(selects.length, 4, "held (stopping, paused): select");
  hold.value = 0;
  assert.equal(await pollFd(3), 0);
  assert.deepEqual(selects.length, 4, "no longer held: remembered again");

  const other = d.add(pump as RecordPump);
  d.remove(other);
  assert.equal(await pollFd(3), 0);
  assert.deepEqual(selects.length, 5, "a slot removed: select");

  slot = -9; // EBADF: what select says now is what the guest gets
  assert.equal(await pollFd(3), -9);
});
