// A guest callback may block as code at top level may (issue 10 §1): sleep, read stdin, poll
// another buffer or the same one, operate on maps; and a stop while a callback sleeps ends the
// run promptly with nothing left attached. Before the wasm pump, each of these trapped with
// "SuspendError: trying to suspend without WebAssembly.promising" (a JS frame sat between the
// guest's entry and the callback). Guest: tests/guests/blocking/blocking.c.
import assert from "node:assert/strict";
import {
  describeRun,
  guest,
  kernelTest,
  progNames,
  runCli,
  type RunCliOptions,
  type RunCliResult,
} from "./helpers/kernel.ts";
import { onOneCpu } from "./helpers/syscalls.ts";
import { readUntil } from "./helpers/stdout.ts";
import { WasmBpfCommand } from "../mod.ts";

const libc = Deno.dlopen(
  "libc.so.6",
  { sched_get_priority_max: { parameters: ["i32"], result: "i32" } } as const,
).symbols;
/** One record: arg < 0x2000 to ring_a, < 0x3000 to ring_b, else to the perf buffer. */
const emit = (arg: number) => void libc.sched_get_priority_max(arg);

const COUNT = 3;
const BLOCKING = guest("blocking/blocking.wasm");

function run(mode: string, emitWhenReady: () => void, opts: RunCliOptions = {}) {
  return runCli([BLOCKING, String(Deno.pid), mode, String(COUNT)], {
    onStdout: [{ text: "ready\n", action: emitWhenReady }],
    timeoutMs: 30_000,
    ...opts,
  });
}

const emitA = () => {
  for (let i = 0; i < COUNT; i++) emit(0x1000 + i);
};

function assertDone(r: RunCliResult, fields: string) {
  assert.doesNotMatch(r.stderr, /SuspendError|internal error/, describeRun(r));
  assert.match(r.stdout, new RegExp(`^done got=${COUNT} ${fields}`, "m"), describeRun(r));
  assert.equal(r.code, 0, describeRun(r));
}

function assertRecords(r: RunCliResult, tag: string, base: number) {
  const recs = r.stdout.split("\n").filter((l) => l.startsWith(`${tag} `));
  assert.deepEqual(
    recs.map((l) => l.replace(/ depth=\d+$/, "")),
    Array.from({ length: COUNT }, (_, i) => `${tag} seq=${i} arg=${base + i}`),
    describeRun(r),
  );
}

kernelTest("blocking callback: a ring buffer callback sleeps (usleep) per record", async () => {
  const r = await run("sleep", emitA);
  assertRecords(r, "ring_a", 0x1000);
  assertDone(r, "got_b=0 returned=3 errors=0 order_bad=0 slept_short=0 ");
});

kernelTest("blocking callback: a perf buffer callback sleeps per record", async () => {
  const r = await run("perf-sleep", () =>
    onOneCpu(() => {
      for (let i = 0; i < COUNT; i++) emit(0x3000 + i);
    }));
  assertRecords(r, "perf", 0x3000);
  assertDone(r, "got_b=0 returned=3 errors=0 order_bad=0 slept_short=0 ");
});

kernelTest("blocking callback: a ring buffer callback reads stdin", async () => {
  const r = await run("stdin", emitA, { stdin: "one\ntwo\nthree\n" });
  assertRecords(r, "ring_a", 0x1000);
  assert.match(r.stdout, /read one\n[^]*read two\n[^]*read three\n/, describeRun(r));
  assertDone(r, "got_b=0 returned=3 errors=0 order_bad=0 ");
});

kernelTest("blocking callback: a ring buffer callback polls another ring buffer", async () => {
  const r = await run("nested", () => {
    for (let i = 0; i < COUNT; i++) emit(0x2000 + i);
    emitA();
  });
  assertRecords(r, "ring_a", 0x1000);
  assertRecords(r, "ring_b", 0x2000);
  // ring_b's records arrive inside the first ring_a callback, one level down
  assert.match(r.stdout, /^ring_b seq=0 arg=8192 depth=1$/m, describeRun(r));
  assert.match(r.stdout, /^inner poll=3$/m, describeRun(r));
  assertDone(r, `got_b=${COUNT} returned=3 errors=0 order_bad=0 `);
});

kernelTest(
  "blocking callback: a callback polls its own buffer: every record once, in order",
  async () => {
    const r = await run("reenter", emitA);
    assertRecords(r, "ring_a", 0x1000);
    // records 1 and 2 came from the inner poll (depth 1); the outer poll delivered only record 0
    assert.match(r.stdout, /^ring_a seq=1 arg=4097 depth=1$/m, describeRun(r));
    assert.match(r.stdout, /^inner poll=2$/m, describeRun(r));
    // (each poll returns the records it delivered itself)
    assertDone(r, "got_b=0 returned=1 errors=0 order_bad=0 ");
  },
);

kernelTest("blocking callback: a callback updates and looks up a map", async () => {
  const r = await run("mapop", emitA);
  assert.equal(
    r.stdout.split("\n").filter((l) => /^map update=0 lookup=0 back=409[6-8]$/.test(l)).length,
    COUNT,
    describeRun(r),
  );
  assertDone(r, "got_b=0 returned=3 errors=0 order_bad=0 slept_short=0 map_bad=0 ");
});

kernelTest("blocking callback: a callback closes the object it is polling", async () => {
  const r = await run("close", emitA);
  assert.match(r.stdout, /^close in callback=0$/m, describeRun(r));
  // the records staged with the first one are not delivered from a closed object
  assert.match(r.stdout, /^done close poll=-22 got=1$/m, describeRun(r));
  assert.equal(r.code, 0, describeRun(r));
});

kernelTest("blocking callback: uncallable callbacks get -EINVAL, not a trap", async () => {
  const r = await runCli([BLOCKING, String(Deno.pid), "badcb"], { timeoutMs: 30_000 });
  assert.doesNotMatch(r.stdout, /FAIL/, describeRun(r));
  assert.match(r.stdout, /^summary ok=5 fail=0$/m, describeRun(r));
  assert.equal(r.code, 0, describeRun(r));
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  kernelTest(
    `blocking callback: ${signal} while a callback sleeps ends the run (status ${
      signal === "SIGINT" ? 130 : 143
    }, < 300 ms, nothing attached)`,
    async () => {
      const r = await run("sleep-long", () => emit(0x1000), {
        // (as in kernel_stop_test.ts: once the guest, past printing, is in its sleep)
        signalAfter: { signal, afterStdout: "sleeping\n", asleep: true },
      });
      assert.equal(r.signal, null, describeRun(r));
      assert.equal(r.code, signal === "SIGINT" ? 130 : 143, describeRun(r));
      assert.ok(
        r.signalToExitMs !== null && r.signalToExitMs <= 300,
        `exit ${r.signalToExitMs?.toFixed(1)} ms after ${signal}\n${describeRun(r)}`,
      );
      assert.doesNotMatch(r.stderr, /SuspendError|internal error/, describeRun(r));
      assert.ok(!(await progNames()).includes("on_prio_max"), "on_prio_max still loaded");
    },
  );
}

kernelTest("blocking callback: kill() while a callback sleeps (inline run): < 300 ms", async () => {
  const child = new WasmBpfCommand(BLOCKING, {
    args: [String(Deno.pid), "sleep-long", "1"],
    stdout: "piped",
    isolation: "inline",
  }).spawn();
  const state = { seen: "" };
  await readUntil(child.stdout, "ready\n", state);
  emit(0x1000);
  const out = await readUntil(child.stdout, "sleeping\n", state);
  const t0 = performance.now();
  child.kill();
  const status = await child.status;
  const ms = performance.now() - t0;
  await child.stdout.cancel().catch(() => {});
  assert.equal(status.code, 143, out);
  assert.ok(ms < 300, `kill took ${ms.toFixed(0)} ms`);
  assert.ok(!(await progNames()).includes("on_prio_max"), "on_prio_max still loaded");
});
