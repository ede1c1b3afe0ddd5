/**
 * Unit tests of in-place buffer reading (src/bpf/events/ringbuf_reader.ts InPlaceRing,
 * src/bpf/events/perfbuf_reader.ts InPlacePerf, the in-place pump of src/bpf/events/pump_wasm.ts) without a
 * kernel: the test plays the kernel, writing records into a ring laid out in plain memory as
 * the kernel's mmap lays it out, and the real fill and the real pump read them there.
 */

import assert from "node:assert/strict";
import { asWasmFunction } from "./helpers/wasm_function.ts";
import { promising, suspending } from "../src/ffi/jspi.ts";
import { FILL_NONE, RECORD_BUDGET, RecordPump } from "../src/bpf/events/pump.ts";
import { InPlaceRing } from "../src/bpf/events/ringbuf_reader.ts";
import { InPlacePerf } from "../src/bpf/events/perfbuf_reader.ts";

const PAGE = 4096;
const DATA = 1024; // where records go in guest memory
const MAX = 300;
const BUSY = 0x80000000;
const DISCARD = 0x40000000;

const payload = (i: number, len: number) => Uint8Array.from({ length: len }, (_, j) => i + j);

type Callback = (ctx: number, data: number, n: number) => number | Promise<number>;

/** A pump over `staging` delivering to a callback that records what it was given. */
function pumpOver(
  format: "ring" | "perf",
  reader: InPlaceRing | InPlacePerf,
  callback: Callback = () => 0,
  opts: {
    suspendingCallback?: boolean;
    beforeFill?: () => void;
    fillResult?: () => number;
    hold?: WebAssembly.Global;
  } = {},
) {
  const guest = new WebAssembly.Memory({ initial: 1 });
  const seen: number[][] = [];
  const cb = (ctx: number, data: number, n: number) => {
    seen.push([...new Uint8Array(guest.buffer, data, n)]);
    return callback(ctx, data, n);
  };
  const pump = RecordPump.create(
    format,
    guest,
    opts.suspendingCallback ? asWasmFunction(suspending(cb)) : cb,
    reader.staging,
    {
      fill() {
        opts.beforeFill?.();
        // in place, the pump reads the kernel's positions itself: the host only checks
        return opts.fillResult?.() ?? FILL_NONE;
      },
      wait: () => 0,
      hold: opts.hold ?? new WebAssembly.Global({ value: "i32", mutable: true }, 0),
    },
  );
  if (typeof pump === "string") throw new Error(pump);
  const poll = promising(pump.poll as unknown as WebAssembly.ExportValue);
  return { seen, poll: () => poll(7, DATA, MAX, 0) as Promise<number> };
}

// ---------------------------------------------------------------------------------------------
// Ring buffer: [consumer page][producer page][data][data again] (the kernel's double mapping)

class FakeRing {
  readonly memory: WebAssembly.Memory;
  readonly reader: InPlaceRing;
  readonly dv: DataView;
  prod = 0;

  constructor(readonly size: number, start = 0) {
    this.memory = new WebAssembly.Memory({ initial: Math.ceil((2 * PAGE + 2 * size) / 65536) });
    this.dv = new DataView(this.memory.buffer);
    this.dv.setBigUint64(0, BigInt(start), true);
    this.prod = start;
    this.dv.setBigUint64(PAGE, BigInt(start), true);
    this.reader = InPlaceRing.over(this.memory, PAGE, size);
  }

  get cons(): number {
    return Number(this.dv.getBigUint64(0, true));
  }

  /** Writes one byte at ring position `pos`, in both copies of the data area. */
  #put(pos: number, byte: number) {
    const off = pos & (this.size - 1);
    this.dv.setUint8(2 * PAGE + off, byte);
    this.dv.setUint8(2 * PAGE + this.size + off, byte);
  }

  /** Reserves and writes a record; returns its position (to commit or discard it later). */
  write(data: Uint8Array, flags = 0): number {
    const at = this.prod;
    const hdr = new Uint8Array(8);
    new DataView(hdr.buffer).setUint32(0, (data.length | flags) >>> 0, true);
    hdr.forEach((b, i) => this.#put(at + i, b));
    data.forEach((b, i) => this.#put(at + 8 + i, b));
    this.prod += (8 + data.length + 7) & ~7;
    this.dv.setBigUint64(PAGE, BigInt(this.prod), true);
    return at;
  }

  /** Clears a record's BUSY bit (commits it). */
  commit(at: number) {
    const off = at & (this.size - 1);
    const len = this.dv.getUint32(2 * PAGE + off, true) & ~BUSY;
    new Uint8Array(4).fill(0).forEach((_, i) => this.#put(at + i, (len >>> (8 * i)) & 0xff));
  }
}

Deno.test("in place ring: records in order, DISCARD skipped, BUSY stops, consumer_pos published", async () => {
  const ring = new FakeRing(PAGE);
  const p = pumpOver("ring", ring.reader);
  ring.write(payload(0, 5));
  ring.write(payload(1, 3), DISCARD);
  ring.write(payload(2, 16));
  const busy = ring.write(payload(3, 9), BUSY);
  ring.write(payload(4, 1));
  assert.equal(await p.poll(), 2);
  assert.deepEqual(p.seen, [[...payload(0, 5)], [...payload(2, 16)]]);
  assert.equal(ring.cons, busy, "published up to the BUSY record");
  // still BUSY: nothing more
  assert.equal(await p.poll(), 0);
  ring.commit(busy);
  assert.equal(await p.poll(), 2);
  assert.deepEqual(p.seen.slice(2), [[...payload(3, 9)], [...payload(4, 1)]]);
  assert.equal(ring.cons, ring.prod);
});

Deno.test("in place ring: a record crossing the end of the ring arrives whole", async () => {
  // start 24 bytes before the end: the second record's data crosses it
  const ring = new FakeRing(PAGE, 7 * PAGE - 24);
  const p = pumpOver("ring", ring.reader);
  ring.write(payload(0, 8));
  ring.write(payload(1, 200));
  ring.write(payload(2, 4));
  assert.equal(await p.poll(), 3);
  assert.deepEqual(p.seen, [[...payload(0, 8)], [...payload(1, 200)], [...payload(2, 4)]]);
  assert.equal(ring.cons, ring.prod);
});

Deno.test("in place ring: a negative return ends the poll; the next goes on from the next record", async () => {
  const ring = new FakeRing(PAGE);
  const p = pumpOver("ring", ring.reader, () => p.seen.length === 2 ? -7 : 0);
  for (let i = 0; i < 4; i++) ring.write(payload(i, 4));
  assert.equal(await p.poll(), -7);
  assert.equal(await p.poll(), 2);
  assert.deepEqual(p.seen.map((s) => s[0]), [0, 1, 2, 3]);
  assert.equal(ring.cons, ring.prod);
});

Deno.test("in place ring: a trapping callback propagates; its record counts as consumed", async () => {
  const ring = new FakeRing(PAGE);
  const p = pumpOver("ring", ring.reader, () => {
    if (p.seen.length === 1) throw new WebAssembly.RuntimeError("guest trap");
    return 0;
  });
  for (let i = 0; i < 3; i++) ring.write(payload(i, 4));
  await assert.rejects(p.poll(), /guest trap/);
  assert.equal(await p.poll(), 2);
  assert.deepEqual(p.seen.map((s) => s[0]), [0, 1, 2]);
});

Deno.test("in place ring: a suspending callback; records keep their order", async () => {
  const ring = new FakeRing(PAGE);
  const p = pumpOver("ring", ring.reader, async () => {
    await new Promise((r) => setTimeout(r, 1));
    return 0;
  }, { suspendingCallback: true });
  for (let i = 0; i < 3; i++) ring.write(payload(i, 12));
  assert.equal(await p.poll(), 3);
  assert.deepEqual(p.seen.map((s) => s[0]), [0, 1, 2]);
});

Deno.test("in place ring: a poll returns after RECORD_BUDGET records, consumer_pos published", async () => {
  const ring = new FakeRing(16 * PAGE);
  let produced = 0;
  const total = RECORD_BUDGET + 1000;
  // the "kernel" produces while the guest consumes, as far as the published consumer_pos lets
  // it: a poll would go on without end but for the budget
  const refill = () => {
    while (produced < total && ring.prod - ring.cons + 8 <= ring.size) {
      ring.write(new Uint8Array(0));
      produced++;
    }
    return 0;
  };
  refill();
  const p = pumpOver("ring", ring.reader, refill);
  assert.equal(await p.poll(), RECORD_BUDGET);
  assert.equal(ring.cons, RECORD_BUDGET * 8, "the budget's records are published as consumed");
  assert.equal(await p.poll(), total - RECORD_BUDGET);
  assert.equal(ring.cons, total * 8);
});

Deno.test("in place ring: while the run is held (stopping, paused), records wait for the host's word", async () => {
  const ring = new FakeRing(PAGE);
  const hold = new WebAssembly.Global({ value: "i32", mutable: true }, 1);
  let asked = 0;
  const EINTR = 4;
  const p = pumpOver("ring", ring.reader, () => 0, {
    hold,
    fillResult: () => (asked++, hold.value ? -EINTR : FILL_NONE),
  });
  for (let i = 0; i < 3; i++) ring.write(payload(i, 4));
  assert.equal(await p.poll(), -EINTR, "held: the host was asked and said EINTR");
  assert.equal(asked, 1);
  assert.equal(p.seen.length, 0, "no record delivered while held");
  hold.value = 0;
  assert.equal(await p.poll(), 3);
  assert.equal(asked, 1, "records ready and not held: no host call");
});

Deno.test("in place ring: after close, a pump inside a callback finds nothing more", async () => {
  const ring = new FakeRing(PAGE);
  const p = pumpOver("ring", ring.reader, () => {
    ring.reader.close();
    return 0;
  });
  for (let i = 0; i < 3; i++) ring.write(payload(i, 4));
  assert.equal(await p.poll(), 1);
});

// ---------------------------------------------------------------------------------------------
// Perf buffer: per CPU, [perf_event_mmap_page][data] (singly mapped: records wrap)

const HEAD = 1024, TAIL = 1032;

class FakePerf {
  readonly memory: WebAssembly.Memory;
  readonly reader: InPlacePerf;
  readonly dv: DataView;
  readonly heads: number[];

  constructor(readonly cpus: number, readonly size: number, start = 0) {
    const stride = PAGE + size;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil((cpus * stride) / 65536) });
    this.dv = new DataView(this.memory.buffer);
    this.heads = Array(cpus).fill(start);
    for (let c = 0; c < cpus; c++) {
      this.dv.setBigUint64(c * stride + HEAD, BigInt(start), true);
      this.dv.setBigUint64(c * stride + TAIL, BigInt(start), true);
    }
    this.reader = InPlacePerf.over(this.memory, cpus, PAGE, size);
  }

  tail(cpu: number): number {
    return Number(this.dv.getBigUint64(cpu * (PAGE + this.size) + TAIL, true));
  }

  #record(cpu: number, type: number, body: Uint8Array) {
    const base = cpu * (PAGE + this.size);
    const rec = new Uint8Array(8 + ((body.length + 7) & ~7));
    const v = new DataView(rec.buffer);
    v.setUint32(0, type, true);
    v.setUint16(6, rec.length, true);
    rec.set(body, 8);
    const at = this.heads[cpu];
    rec.forEach((b, i) => this.dv.setUint8(base + PAGE + ((at + i) & (this.size - 1)), b));
    this.heads[cpu] += rec.length;
    this.dv.setBigUint64(base + HEAD, BigInt(this.heads[cpu]), true);
  }

  sample(cpu: number, data: Uint8Array) {
    const body = new Uint8Array(4 + data.length);
    new DataView(body.buffer).setUint32(0, data.length, true);
    body.set(data, 4);
    this.#record(cpu, 9, body);
  }

  lost(cpu: number, count: number) {
    const body = new Uint8Array(16);
    new DataView(body.buffer).setBigUint64(8, BigInt(count), true);
    this.#record(cpu, 2, body);
  }

  other(cpu: number) {
    this.#record(cpu, 14, new Uint8Array(8));
  }
}

Deno.test("in place perf: a sample crossing the end of the buffer arrives whole, in two pieces", async () => {
  for (const shift of [8, 16, 24, 40, 120]) {
    // the second sample's header sits `shift` bytes before the end
    const perf = new FakePerf(1, PAGE, 3 * PAGE - 40 - shift);
    const p = pumpOver("perf", perf.reader);
    perf.sample(0, payload(0, 28)); // 8 + 4 + 28 = 40 bytes
    perf.sample(0, payload(1, 250));
    perf.sample(0, payload(2, 3));
    assert.equal(await p.poll(), 3, `shift ${shift}`);
    assert.deepEqual(p.seen, [[...payload(0, 28)], [...payload(1, 250)], [...payload(2, 3)]]);
    assert.equal(perf.tail(0), perf.heads[0], "data_tail published");
  }
});

Deno.test("in place perf: lost counts summed (also across the end), other records skipped, CPUs take turns", async () => {
  const perf = new FakePerf(2, PAGE, PAGE - 8);
  const p = pumpOver("perf", perf.reader);
  perf.lost(0, 3); // its count lies past the end
  perf.sample(0, payload(0, 4));
  perf.other(1);
  perf.sample(1, payload(1, 4));
  perf.lost(1, 4);
  assert.equal(await p.poll(), 2);
  assert.deepEqual(p.seen.map((s) => s[0]).sort(), [0, 1]);
  assert.equal(perf.reader.staging.lost.value, 7n);
  assert.equal(perf.tail(0), perf.heads[0]);
  assert.equal(perf.tail(1), perf.heads[1]);
});

Deno.test("in place perf: a negative return ends the poll; data_tail published by the next", async () => {
  const perf = new FakePerf(1, PAGE);
  const p = pumpOver("perf", perf.reader, () => p.seen.length === 1 ? -5 : 0);
  for (let i = 0; i < 3; i++) perf.sample(0, payload(i, 4));
  assert.equal(await p.poll(), -5);
  assert.equal(await p.poll(), 2);
  assert.deepEqual(p.seen.map((s) => s[0]), [0, 1, 2]);
  assert.equal(perf.tail(0), perf.heads[0]);
});
