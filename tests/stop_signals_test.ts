// Stop signals that land anywhere (src/guest/stop.ts):
// - kill() of a process-isolated guest, at random moments, many times, with CPU load beside it:
//   the child must end by the SIGTERM that kill() sends (status 143), never by the SIGKILL that
//   kill() sends 1 s later to a child that did not react (status 137). The moments: just
//   spawned, computing (no host call), printing, sleeping, paused then resumed, still paused.
// - The first signal decides the status: SIGTERM, then SIGINT while the guest cleans up.
import assert from "node:assert/strict";
import { type WasmBpfChild, WasmBpfCommand } from "../mod.ts";
import { describeRun, guest, runCli } from "./helpers/kernel.ts";
import { catchesSignal, waitFor } from "./helpers/conditions.ts";
import { readUntil } from "./helpers/stdout.ts";

const phases = guest("api/phases.wasm");
const spin = guest("api/spin.wasm");

const RUNS = 160;
const PARALLEL = 2;

/** A small seeded generator, so that a failing run can be repeated (the seed is printed). */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

type Moment = "just spawned" | "running" | "paused, resumed" | "paused";

/** Resolves when the child's stdout has shown "ready" (the guest's main has begun); reads
 * the rest in the background so that printing never blocks on a full pipe. */
async function readyOf(child: WasmBpfChild): Promise<void> {
  await readUntil(child.stdout, "ready\n");
  child.stdout.pipeTo(new WritableStream()).catch(() => {});
}

/** A random moment to kill at: the delays are the thing under test, not a synchronisation. */
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function killOnce(random: () => number): Promise<{ moment: Moment; code: number }> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const args = [pick(["0", "2", "20"]), pick(["0", "50", "2000"]), pick(["1", "10", "50"])];
  const moment = pick(["just spawned", "running", "running", "paused, resumed", "paused"] as const);
  const child = new WasmBpfCommand(phases, { args, stdout: "piped", isolation: "process" })
    .spawn();
  const ready = readyOf(child);
  ready.catch(() => {}); // a child killed before main began never prints it
  if (moment !== "just spawned") {
    await ready;
    await delay(random() * 60);
    if (moment !== "running") {
      child.pause();
      await delay(random() * 20);
      if (moment === "paused, resumed") {
        child.resume();
        await delay(random() * 30);
      }
    }
  } else {
    await delay(random() * 5);
  }
  child.kill();
  const status = await child.status;
  return { moment, code: status.code };
}

Deno.test(`kill(): ${RUNS} process-isolated guests killed at random moments, none needs SIGKILL`, async () => {
  const seed = Number(Deno.env.get("WASM_BPF_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`seed ${seed} (repeat: WASM_BPF_SEED=${seed})`);
  const random = generator(seed);
  const load = new WasmBpfCommand(spin, { stdout: "null", isolation: "process" }).spawn();
  const results: { moment: Moment; code: number }[] = [];
  try {
    let next = 0;
    await Promise.all(Array.from({ length: PARALLEL }, async () => {
      while (next < RUNS) {
        next++;
        results.push(await killOnce(random));
      }
    }));
  } finally {
    load.kill("SIGKILL");
    await load.status;
  }
  const bad = results.filter((r) => r.code !== 143);
  const byMoment = new Map<string, number>();
  for (const r of bad) {
    const key = `${r.moment}: status ${r.code}`;
    byMoment.set(key, (byMoment.get(key) ?? 0) + 1);
  }
  assert.equal(
    bad.length,
    0,
    `${bad.length} of ${RUNS} runs did not end by SIGTERM (143): ` +
      JSON.stringify(Object.fromEntries(byMoment)),
  );
});

Deno.test("CLI: SIGTERM, then SIGINT while the guest cleans up: the first signal decides (143)", async () => {
  // phases: after "ready", sleep 10 s; a stop makes it print "interrupted" and compute 2 s.
  const r = await runCli([phases, "0", "0", "10000", "2000"], {
    onStdout: [
      {
        text: "ready\n",
        action: async (pid) => {
          // SIGTERM must find the guest in its sleep (a wait), not on its way there.
          await waitFor("the guest in its sleep", () => catchesSignal(pid, "SIGTERM"));
          Deno.kill(pid, "SIGTERM");
        },
      },
      { text: "interrupted\n", action: (pid) => Deno.kill(pid, "SIGINT") },
    ],
    timeoutMs: 20_000,
  });
  assert.match(r.stdout, /^interrupted$/m, describeRun(r));
  assert.equal(r.signal, null, `the host must exit by itself\n${describeRun(r)}`);
  assert.equal(r.code, 143, describeRun(r));
});

Deno.test("cli: a stdout whose reader went away stops the guest as SIGPIPE would (141)", async () => {
  // tick.wasm prints forever and, as many programs do, ignores failed writes: only the stop can
  // end it (as `wasm-bpf tick.wasm | head -1`).
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "mod.ts", guest("api/tick.wasm"), "50"],
    cwd: new URL("../", import.meta.url),
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const guard = setTimeout(() => child.kill("SIGKILL"), 20_000); // a hang fails, not stalls
  try {
    const seen = await readUntil(child.stdout, "tick 1\n");
    assert.match(seen, /^tick 0\ntick 1\n/);
    // readUntil released the reader: cancelling closes the pipe's read end
    await child.stdout.cancel();
    const status = await child.status;
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    assert.equal(status.code, 141, stderr);
    assert.equal(stderr, "");
  } finally {
    clearTimeout(guard);
  }
});
