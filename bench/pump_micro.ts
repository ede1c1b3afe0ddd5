// `deno task bench:pump [--trivial]`: the per-record cost of the in-place pumps alone, no kernel
// and no root: ring-buffer and perf-buffer records laid out in plain memory as the kernel lays
// them out (as tests/pump_inplace_unit_test.ts does), 16-byte records, delivered to a guest
// callback that does what bench/guests/evbench's does (--trivial: one that only returns 0).
// Rounds fit in L2 (16k ring records, 2 x 4000 perf samples); prints the median and the min of
// the rounds in ns per record. The machine's noise moves the median a lot: compare mins, in one
// session, when working on the pump's code.
import { name, section, uleb, vec, wasmModule } from "../src/format/wasm.ts";
import { promising } from "../src/ffi/jspi.ts";
import { FILL_NONE, RecordPump, type Staging } from "../src/bpf/events/pump.ts";
import { InPlaceRing } from "../src/bpf/events/ringbuf_reader.ts";
import { InPlacePerf } from "../src/bpf/events/perfbuf_reader.ts";

const PAGE = 4096;
const DATA = 1024;
const I32 = 0x7f, I64 = 0x7e;

/** on_record(ctx, data, n): seq = *(u64*)data; if (seq != expected) jumps++; expected = seq+1;
 * sum += seq; got++; return 0 — statics at 64.. in the guest's memory. */
function guest(): { memory: WebAssembly.Memory; cb: unknown; got: () => bigint } {
  const EXP = 64, JUMPS = 72, SUM = 80, GOT = 88;
  const ld = (a: number) => [0x41, ...uleb(0), 0x29, 3, ...uleb(a)]; // i32.const 0; i64.load off=a
  const st = (a: number, v: number[]) => [0x41, ...uleb(0), ...v, 0x37, 3, ...uleb(a)];
  const code = Deno.args.includes("--trivial") ? [...vec([]), 0x41, 0, 0x0b] : [
    ...vec([[1, I64]]),
    0x20,
    1,
    0x29,
    0,
    0,
    0x21,
    3, // seq = i64.load align=1 [data]
    0x20,
    3,
    ...ld(EXP),
    0x52,
    0x04,
    0x40, // if (seq != expected)
    ...st(JUMPS, [...ld(JUMPS), 0x42, 1, 0x7c]),
    0x0b,
    ...st(EXP, [0x20, 3, 0x42, 1, 0x7c]),
    ...st(SUM, [...ld(SUM), 0x20, 3, 0x7c]),
    ...st(GOT, [...ld(GOT), 0x42, 1, 0x7c]),
    0x41,
    0,
    0x0b,
  ];
  const bytes = wasmModule([
    section(1, vec([[0x60, ...vec([[I32], [I32], [I32]]), ...vec([[I32]])]])),
    section(3, vec([uleb(0)])),
    section(5, vec([[0x00, 1]])),
    section(7, vec([[...name("cb"), 0, 0], [...name("mem"), 2, 0]])),
    section(10, vec([[...uleb(code.length), ...code]])),
  ]);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));
  const memory = inst.exports.mem as WebAssembly.Memory;
  return {
    memory,
    cb: inst.exports.cb,
    got: () => new DataView(memory.buffer).getBigUint64(GOT, true),
  };
}

/** The poll of a pump over `staging` into guest `g` (the host never holds it, fill only
 * checks: records are read in place). */
function pollOf(format: "ring" | "perf", g: ReturnType<typeof guest>, staging: Staging) {
  const pump = RecordPump.create(format, g.memory, g.cb, staging, {
    fill: () => FILL_NONE,
    wait: () => 0,
    hold: new WebAssembly.Global({ value: "i32", mutable: true }, 0),
  });
  if (typeof pump === "string") throw new Error(pump);
  return promising(pump.poll as unknown as WebAssembly.ExportValue);
}

async function ring(records: number, rounds: number): Promise<number[]> {
  const size = 4 << 20;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((2 * PAGE + 2 * size) / 65536) });
  const dv = new DataView(memory.buffer);
  const reader = InPlaceRing.over(memory, PAGE, size);
  const g = guest();
  const poll = pollOf("ring", g, reader.staging);
  let prod = 0, seq = 0;
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < records; i++) {
      for (const copy of [0, size]) {
        const at = 2 * PAGE + copy + (prod & (size - 1));
        dv.setUint32(at, 16, true);
        dv.setBigUint64(at + 8, BigInt(seq), true);
      }
      prod += 24;
      seq++;
    }
    dv.setBigUint64(PAGE, BigInt(prod), true);
    const t0 = performance.now();
    let got = 0;
    while (got < records) got += await (poll(0, DATA, 256, 0) as Promise<number>);
    times.push((performance.now() - t0) * 1e6 / records);
  }
  if (!Deno.args.includes("--trivial") && g.got() !== BigInt(seq)) {
    throw new Error(`ring: got ${g.got()} of ${seq}`);
  }
  return times;
}

async function perf(perCpu: number, cpus: number, rounds: number): Promise<number[]> {
  const size = 64 * PAGE;
  const stride = PAGE + size;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((cpus * stride) / 65536) });
  const dv = new DataView(memory.buffer);
  const reader = InPlacePerf.over(memory, cpus, PAGE, size);
  const g = guest();
  const poll = pollOf("perf", g, reader.staging);
  const heads = new Array(cpus).fill(0);
  let seq = 0;
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < cpus; c++) {
      const base = c * stride;
      for (let i = 0; i < perCpu; i++) {
        const at = base + PAGE + (heads[c] & (size - 1));
        dv.setUint32(at, 9, true); // PERF_RECORD_SAMPLE
        dv.setUint16(at + 4, 0, true);
        dv.setUint16(at + 6, 32, true);
        dv.setUint32(at + 8, 16, true);
        dv.setBigUint64(at + 12, BigInt(seq++), true);
        heads[c] += 32;
      }
      dv.setBigUint64(base + 1024, BigInt(heads[c]), true);
    }
    const t0 = performance.now();
    let got = 0;
    while (got < perCpu * cpus) got += await (poll(0, DATA, 256, 0) as Promise<number>);
    times.push((performance.now() - t0) * 1e6 / (perCpu * cpus));
  }
  if (!Deno.args.includes("--trivial") && g.got() !== BigInt(seq)) {
    throw new Error(`perf: got ${g.got()} of ${seq}`);
  }
  return times;
}

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const r = await ring(16384, 300);
const p = await perf(4000, 2, 300);
console.log(`ring 16 B: ${med(r).toFixed(2)} ns/record (min ${Math.min(...r).toFixed(2)})`);
console.log(`perf 16 B: ${med(p).toFixed(2)} ns/record (min ${Math.min(...p).toFixed(2)})`);
