// The library API (WasmBpfCommand) on the real kernel, in both isolations.
import assert from "node:assert/strict";
import { type WasmBpfChild, WasmBpfCommand, type WasmBpfStatus } from "../mod.ts";
import { bpfIds, guest, kernelTest, progNames, repoRoot } from "./helpers/kernel.ts";
import { catchesSignal, linksHeldBy, procState, waitFor } from "./helpers/conditions.ts";
import { readUntil } from "./helpers/stdout.ts";

const tick = guest("api/tick.wasm");
const spin = guest("api/spin.wasm");
const exitcode = guest("api/exitcode.wasm");
const hostfn = guest("api/hostfn.wasm");
const bootstrap = repoRoot + "examples/bootstrap/bootstrap.wasm";
const runqlat = repoRoot + "examples/runqlat/runqlat.wasm";
const isolations = ["inline", "process"] as const;

/** The process a child's guest runs in: its own in process isolation, this one inline. */
function guestPid(child: WasmBpfChild): number {
  return (child as WasmBpfChild & { pid?: number }).pid ?? Deno.pid;
}

/** The numbers of the "tick N" lines in `text`. */
function ticks(text: string): number[] {
  return [...text.matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1]));
}

/** Reads the rest of a stdout stream, counting for `ms` milliseconds only. */
async function readFor(child: WasmBpfChild, ms: number): Promise<string> {
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const deadline = Date.now() + ms;
  try {
    while (Date.now() < deadline) {
      const timeout = new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now()));
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk === null || chunk.done) break;
      seen += decoder.decode(chunk.value);
    }
  } finally {
    reader.releaseLock();
  }
  return seen;
}

/** Kills the child, timing kill() to status; then drops what is left of its stdout, as a
 * user of Deno.ChildProcess must, so the pipe is closed. */
async function timeKill(child: WasmBpfChild, signal?: Deno.Signal) {
  const t0 = performance.now();
  child.kill(signal);
  const status = await child.status;
  const ms = performance.now() - t0;
  await child.stdout.cancel().catch(() => {});
  return { status, ms };
}

for (const isolation of isolations) {
  kernelTest(`api/${isolation}: stdout is captured while the guest runs`, async () => {
    const child = new WasmBpfCommand(tick, { args: ["50"], stdout: "piped", isolation }).spawn();
    const seen = await readUntil(child.stdout, "tick 2\n");
    assert.match(seen, /^tick 0\ntick 1\ntick 2\n/);
    const { status } = await timeKill(child);
    assert.equal(status.code, 143);
    assert.equal(status.signal, "SIGTERM");
    assert.equal(status.success, false);
  });

  kernelTest(`api/${isolation}: pause() stops the ticks, resume() goes on`, async () => {
    const child = new WasmBpfCommand(tick, { args: ["50"], stdout: "piped", isolation }).spawn();
    const state = { seen: "" };
    await readUntil(child.stdout, "tick 1\n", state);
    const last = Math.max(...ticks(state.seen));
    child.pause();
    if (isolation === "process") {
      // SIGSTOP: once the child is stopped, it prints nothing more
      const pid = guestPid(child);
      await waitFor("the paused child to stop (state T)", () => procState(pid) === "T");
    }
    // (Inline, the guest waits in its sleep whenever this code runs: past it, it stays paused.)
    // The 600 ms without a new tick are what is under test: unpaused, the guest ticks every
    // 50 ms. The tick it was printing when pause() came may still arrive, and no later one.
    const whilePaused = await readFor(child, 600);
    assert.ok(
      ticks(whilePaused).every((n) => n <= last + 1),
      `ticks while paused (the last before: ${last}): ${JSON.stringify(whilePaused)}`,
    );
    const resumedFrom = Math.max(last, ...ticks(whilePaused));
    child.resume();
    // resume() goes on: three more ticks
    await readUntil(child.stdout, `tick ${resumedFrom + 3}\n`);
    const { status } = await timeKill(child);
    assert.equal(status.code, 143);
  });

  kernelTest(`api/${isolation}: exit codes of guests (0, 1, exit(3), trap)`, async () => {
    for (
      const [how, code] of [["return0", 0], ["return1", 1], ["exit3", 3], ["trap", 1]] as const
    ) {
      const out = await new WasmBpfCommand(exitcode, { args: [how], isolation }).output();
      assert.equal(out.code, code, `${how}: ${new TextDecoder().decode(out.stderr)}`);
      assert.equal(out.success, code === 0);
      assert.equal(out.signal, null);
      assert.equal(new TextDecoder().decode(out.stdout), `ending with ${how}\n`);
      const stderr = new TextDecoder().decode(out.stderr);
      if (how === "trap") assert.match(stderr, /the guest trapped: unreachable/);
      else assert.equal(stderr, "");
    }
  });

  kernelTest(`api/${isolation}: kill() while the guest waits in a poll: < 300 ms`, async () => {
    const child = new WasmBpfCommand(bootstrap, { stdout: "piped", isolation }).spawn();
    await readUntil(child.stdout, "TIME     EVENT");
    assert.ok((await progNames()).includes("handle_exec"), "bootstrap is not attached");
    // A record delivered through the poll shows the guest is in its poll loop...
    await new Deno.Command("/bin/true").output();
    await readUntil(child.stdout, "EXEC  true");
    if (isolation === "process") {
      // ...and SIGTERM caught shows it waits in the poll again.
      const pid = guestPid(child);
      await waitFor("the guest to wait in its poll", () => catchesSignal(pid, "SIGTERM"));
    }
    const { status, ms } = await timeKill(child);
    assert.equal(status.code, 143);
    assert.ok(ms < 300, `kill took ${ms.toFixed(0)} ms`);
    // (the leak check of kernelTest verifies that nothing stayed attached)
  });

  kernelTest(`api/${isolation}: an AbortSignal kills the guest`, async () => {
    const controller = new AbortController();
    const child = new WasmBpfCommand(tick, {
      args: ["1000"],
      stdout: "piped",
      signal: controller.signal,
      isolation,
    }).spawn();
    await readUntil(child.stdout, "tick 0\n");
    const t0 = performance.now();
    controller.abort();
    const status = await child.status;
    assert.equal(status.code, 143);
    assert.ok(performance.now() - t0 < 300);
    await child.stdout.cancel();
  });
}

kernelTest(
  "api/process: kill() while the guest computes without host calls: < 300 ms",
  async () => {
    const child = new WasmBpfCommand(spin, { stdout: "piped" }).spawn();
    await readUntil(child.stdout, "ready\n");
    const pid = guestPid(child);
    await waitFor("the guest to compute (state R)", () => procState(pid) === "R");
    const { status, ms } = await timeKill(child);
    assert.equal(status.code, 143);
    assert.equal(status.signal, "SIGTERM");
    assert.ok(ms < 300, `kill took ${ms.toFixed(0)} ms`);
  },
);

kernelTest("api/process: pause() stops even a guest that computes (SIGSTOP)", async () => {
  const child = new WasmBpfCommand(spin, { stdout: "piped" }).spawn();
  const pid = guestPid(child);
  await readUntil(child.stdout, "ready\n");
  child.pause();
  await waitFor("the paused child to stop (state T)", () => procState(pid) === "T");
  child.resume();
  await waitFor("the resumed child to compute again (state R)", () => procState(pid) === "R");
  const { status, ms } = await timeKill(child, "SIGKILL");
  assert.equal(status.code, 137);
  assert.equal(status.signal, "SIGKILL");
  assert.ok(ms < 300);
});

kernelTest("api/inline: a custom host function, and kill() while it blocks", async () => {
  let blocked = 0;
  const child = new WasmBpfCommand(hostfn, {
    args: ["block"],
    stdout: "piped",
    isolation: "inline",
    hostImports: {
      host_func_test: {
        plus_i32: (a: number, b: number) => (a + b) | 0,
        block: () => {
          blocked++;
          return new Promise(() => {}); // never settles
        },
      },
    },
  }).spawn();
  const seen = await readUntil(child.stdout, "blocking\n");
  assert.equal(
    seen,
    "plus_i32(2, 3) = 5\nplus_i32(-7, 7) = 0\nplus_i32(2147483647, 1) = -2147483648\nblocking\n",
  );
  // The guest prints "blocking" just before it calls block().
  await waitFor("the guest to call block()", () => blocked > 0);
  assert.equal(blocked, 1);
  const { status, ms } = await timeKill(child);
  assert.equal(status.code, 143);
  assert.ok(ms < 300, `kill took ${ms.toFixed(0)} ms`);
});

kernelTest("api/process: host functions from a module specifier", async () => {
  const dir = await Deno.makeTempDir();
  const spec = `${dir}/imports.ts`;
  await Deno.writeTextFile(
    spec,
    `export default { host_func_test: { plus_i32: (a: number, b: number) => (a + b) | 0, ` +
      `block: () => 0 } };\n`,
  );
  const out = await new WasmBpfCommand(hostfn, { hostImportsModule: spec }).output();
  await Deno.remove(dir, { recursive: true });
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(new TextDecoder().decode(out.stdout), /^plus_i32\(2, 3\) = 5$/m);
});

kernelTest("api: functions cannot cross the process boundary: a clear TypeError", () => {
  assert.throws(
    () =>
      new WasmBpfCommand(hostfn, { hostImports: { host_func_test: { plus_i32: () => 0 } } })
        .spawn(),
    /hostImports functions cannot cross a process boundary/,
  );
});

kernelTest("api: two guests at once; stopping one leaves the other running", async () => {
  const a = new WasmBpfCommand(bootstrap, { stdout: "piped", isolation: "inline" }).spawn();
  const b = new WasmBpfCommand(runqlat, { args: ["1", "2"], stdout: "piped" }).spawn();
  const c = new WasmBpfCommand(tick, { args: ["50"], stdout: "piped", isolation: "inline" })
    .spawn();
  await readUntil(a.stdout, "TIME     EVENT");
  await readUntil(c.stdout, "tick 1\n");
  const { status } = await timeKill(c);
  assert.equal(status.code, 143);
  // a and b are unaffected: b completes its two intervals, a still reports execs.
  await new Deno.Command("/bin/true").output();
  assert.match(await readUntil(a.stdout, "EXEC  true"), /EXEC\s+true\s+\d+/);
  const bOut = await b.output();
  assert.equal(bOut.code, 0);
  assert.equal((new TextDecoder().decode(bOut.stdout).match(/usecs/g) ?? []).length, 2);
  const { status: aStatus } = await timeKill(a);
  assert.equal(aStatus.code, 143);
});

kernelTest("api: output() collects a whole run", async () => {
  const out = await new WasmBpfCommand(runqlat, { args: ["1", "1"] }).output();
  assert.equal(out.code, 0);
  assert.match(new TextDecoder().decode(out.stdout), /Tracing run queue latency/);
  assert.equal(out.stderr.length, 0);
});

kernelTest("api: a logger receives host and libbpf messages", async () => {
  for (const isolation of isolations) {
    const records: { source: string; level: string; message: string }[] = [];
    const out = await new WasmBpfCommand(runqlat, {
      args: ["1", "1"],
      verbose: true,
      logger: (r) => records.push(r),
      isolation,
    }).output();
    assert.equal(out.code, 0, isolation);
    assert.equal(out.stderr.length, 0, `${isolation}: log went to stderr`);
    assert.ok(records.some((r) => r.source === "libbpf" && /loading object/.test(r.message)));
    assert.ok(records.some((r) => r.source === "host" && /attached sched_switch/.test(r.message)));
  }
});

for (const isolation of isolations) {
  kernelTest(`api/${isolation}: await using kills and releases the guest`, async () => {
    let status: WasmBpfStatus | undefined;
    let attached: number[] = [];
    let stdout: ReadableStream<Uint8Array> | undefined;
    {
      await using child = new WasmBpfCommand(bootstrap, { stdout: "piped", isolation }).spawn();
      child.status.then((s) => status = s);
      await readUntil(child.stdout, "TIME     EVENT"); // printed once both programs are attached
      const links = linksHeldBy(guestPid(child)).filter((l) =>
        l.tpName === "sched_process_exec" || l.tpName === "sched_process_exit"
      );
      assert.equal(links.length, 2, `bootstrap's links: ${JSON.stringify(links)}`);
      attached = links.map((l) => l.linkId);
      assert.equal(status, undefined, "the guest ended before disposal");
      stdout = child.stdout;
    }
    await stdout?.cancel();
    // Disposal killed it (SIGTERM) and waited for the end.
    assert.deepEqual(status, { success: false, code: 143, signal: "SIGTERM" });
    await waitFor("bootstrap's links to be released", async () => {
      const { links } = await bpfIds();
      return attached.every((id) => !links.has(id));
    });
  });
}

kernelTest("api/inline: libbpf's log goes back to silent when a verbose run ends", async () => {
  const first: string[] = [];
  await new WasmBpfCommand(runqlat, {
    args: ["1", "1"],
    isolation: "inline",
    verbose: true,
    logger: (r) => first.push(r.message),
  }).output();
  const seen = first.length;
  assert.ok(seen > 0);
  const out = await new WasmBpfCommand(runqlat, { args: ["1", "1"], isolation: "inline" })
    .output();
  assert.equal(out.code, 0);
  assert.equal(first.length, seen, "a later, quiet run's libbpf messages reached the old logger");
  assert.equal(out.stderr.length, 0);
});
