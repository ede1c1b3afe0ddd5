// The cost of one guest `fd_write`, per import design:
//   deno task bench:fd-write [--writes N] [--len BYTES] [--reps N]
// A hand-assembled guest calls fd_write(1, iovec of LEN bytes) N times in a loop, under
// WebAssembly.promising as a real guest runs. Each row runs in a fresh process (so that no row
// inherits the JIT state of the ones before it) and prints the median ns per call.
//
// What the import costs around the work (the import is a host function that does nothing):
//   - plain JS import;
//   - Suspending import: the same function in a WebAssembly.Suspending (it never suspends,
//     but the wrapper costs on every call);
//   - trampoline: the wasm fd_write of src/wasi/write_wait.ts, which calls the plain function
//     and only on MUST_WAIT a Suspending wait.
// The whole WASI fd_write (copy out of guest memory, then the sink):
//   - write-through sink: what WasiPreview1 gives when no sink has back-pressure (the CLI:
//     stdout is a real fd); the sink drops the bytes;
//   - back-pressure sink, never full: a sink with `room()` that never fills: what the wait
//     costs a write that needs none;
//   - piped sink, reader draining: a library "piped" stdout (src/api/streams.ts), read on the
//     event loop as fast as it goes; the guest waits whenever the reader is behind.

import { parseArgs } from "node:util";
import { promising } from "../src/ffi/jspi.ts";
import { nullSource, pipedSink } from "../src/api/streams.ts";
import { name, section, vec, wasmModule } from "../src/format/wasm.ts";
import { type OutputSink, WasiPreview1 } from "../src/wasi/mod.ts";
import { waitingFdWrite } from "../src/wasi/write_wait.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    writes: { type: "string", default: "1000000" },
    len: { type: "string", default: "64" },
    reps: { type: "string", default: "5" },
    row: { type: "string" },
  },
});
const WRITES = Number(args.values.writes);
const LEN = Number(args.values.len);
const REPS = Number(args.values.reps);

/** (import "w" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
 *  (memory (export "memory") 1)
 *  (func (export "run") (param $n i32)
 *    loop  fd_write(1, 0, 1, 8) drop; n -= 1; br_if n  end) */
function benchGuest(): WebAssembly.Module {
  const I32 = 0x7f;
  const types = vec([
    [0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([[I32]])],
    [0x60, ...vec([[I32]]), ...vec([])],
  ]);
  const imports = vec([[...name("w"), ...name("fd_write"), 0x00, 0x00]]);
  const code = [
    0x00, // no locals
    ...[0x03, 0x40], // loop
    ...[0x41, 1, 0x41, 0, 0x41, 1, 0x41, 8, 0x10, 0, 0x1a], // fd_write(1, 0, 1, 8); drop
    ...[0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0], // n -= 1; br_if 0
    0x0b, // end loop
    0x0b, // end func
  ];
  return new WebAssembly.Module(wasmModule([
    section(1, types),
    section(2, imports),
    section(3, vec([[1]])),
    section(5, vec([[0x00, 1]])),
    section(7, vec([[...name("memory"), 0x02, 0], [...name("run"), 0x00, 1]])),
    section(10, vec([[code.length, ...code]])),
  ]));
}

const gate = {
  stopping: false,
  checkpoint() {},
  sleep: () => Promise.resolve(false),
  race: async <T>(p: Promise<T>) => ({ value: await p }),
};
const dropSink: OutputSink = { isTerminal: false, write() {} };
const module = benchGuest();
const { Suspending } = WebAssembly as unknown as { Suspending: new (f: unknown) => unknown };

/** ns per fd_write of one run of the guest with `fdWrite` as its import. */
async function nsPerWrite(fdWrite: unknown, wasi?: WasiPreview1, writes = WRITES) {
  const instance = new WebAssembly.Instance(module, { w: { fd_write: fdWrite } } as never);
  const memory = instance.exports.memory as WebAssembly.Memory;
  wasi?.bindMemory(memory);
  new Uint32Array(memory.buffer).set([16, LEN]); // the iovec at 0: LEN bytes at 16
  const run = promising(instance.exports.run);
  const t0 = performance.now();
  await run(writes);
  return (performance.now() - t0) * 1e6 / writes;
}

function newWasi(stdout: OutputSink): WasiPreview1 {
  return new WasiPreview1({ args: ["bench"], stdin: nullSource, stdout, stderr: dropSink, gate });
}

const nothing = (_fd: number, _iovs: number, _n: number, _nw: number) => 0;
const rows: Record<string, () => Promise<number>> = {
  "plain JS import": () => nsPerWrite(nothing),
  "Suspending import": () => nsPerWrite(new Suspending(nothing)),
  "trampoline": () => nsPerWrite(waitingFdWrite(nothing, new Suspending(() => 0))),
  "fd_write, write-through sink": () => {
    const wasi = newWasi(dropSink);
    return nsPerWrite(wasi.imports.fd_write, wasi);
  },
  "fd_write, back-pressure sink never full": () => {
    const wasi = newWasi({ ...dropSink, room: () => "open", drained: () => Promise.resolve() });
    return nsPerWrite(wasi.imports.fd_write, wasi);
  },
  "fd_write, piped sink, reader draining": async () => {
    const piped = pipedSink();
    const wasi = newWasi(piped.sink);
    const draining = (async () => {
      for await (const _ of piped.readable) { /* drop */ }
    })();
    // (without back-pressure all of it stays queued: keep it within reach of memory)
    const ns = await nsPerWrite(wasi.imports.fd_write, wasi, Math.min(WRITES, 2 ** 28 / LEN));
    piped.close();
    await draining;
    return ns;
  },
};

const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[xs.length >> 1];

if (args.values.row !== undefined) {
  const row = rows[args.values.row];
  await row(); // warm up
  const ns: number[] = [];
  for (let i = 0; i < REPS; i++) ns.push(await row());
  console.log(median(ns));
} else {
  console.log(`fd_write of ${LEN} bytes, ${WRITES} writes, median of ${REPS} runs`);
  for (const label of Object.keys(rows)) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", import.meta.filename!, ...Deno.args, "--row", label],
      stderr: "inherit",
    }).output();
    const ns = Number(new TextDecoder().decode(out.stdout));
    console.log(`${label.padEnd(40)} ${ns.toFixed(1).padStart(8)} ns/call`);
  }
}
