// Stop requests: SIGINT / SIGTERM while the guest is blocked in wasm_bpf_buffer_poll(timeout -1)
// or in sleep(100) must end the run promptly with status 130 / 143, and leave no BPF program
// attached (guests: tests/guests/stop/; contract: docs/abi.md §2, §3, §4 and the CLI contract).
import assert from "node:assert/strict";
import {
  bpfIds,
  describeRun,
  guest,
  kernelTest,
  progNames,
  runCli,
  type RunCliResult,
} from "./helpers/kernel.ts";
import { waitFor } from "./helpers/conditions.ts";

/** Kill-to-exit bound for a well-behaved guest (poll returns -EINTR / sleep returns EINTR). */
const STOP_BOUND_MS = 300;
/** Bound for a guest that ignores -EINTR and polls again: the host unwinds it "shortly after".
 * The grace period is the host's choice; this only asserts that it is finite and short. */
const STUBBORN_BOUND_MS = 2000;

/** Measured latencies, printed at the end of the file's tests. */
const measured: string[] = [];

async function stopRun(
  wasm: string,
  guestArgs: string[],
  signal: "SIGINT" | "SIGTERM",
): Promise<RunCliResult> {
  let attachedWhileRunning = false;
  const r = await runCli([guest(wasm), ...guestArgs], {
    onStdout: [{
      text: "ready\n",
      action: async () => {
        attachedWhileRunning = (await progNames()).includes("stop_probe");
      },
    }],
    // The signal must find the guest blocked (what these tests are about): it is sent once the
    // guest, past "ready", waits (its process asleep). A signal that lands while the guest runs
    // (no listener armed) ends the process by the signal itself, by design.
    signalAfter: { signal, asleep: true },
    timeoutMs: 20_000,
  });
  assert.ok(
    attachedWhileRunning,
    `stop_probe was not loaded while the guest ran\n${describeRun(r)}`,
  );
  measured.push(
    `${wasm} ${guestArgs.join(" ")} ${signal}: kill -> exit ${r.signalToExitMs?.toFixed(1)} ms`,
  );
  console.log(`  ${measured.at(-1)}`);
  // the program must be gone once the process has exited (the kernel frees it asynchronously)
  await waitFor(
    "stop_probe to be unloaded after the exit",
    async () => !(await progNames()).includes("stop_probe"),
    1000,
  );
  return r;
}

function assertStopped(r: RunCliResult, signal: "SIGINT" | "SIGTERM", boundMs: number) {
  assert.ok(!r.timedOut, describeRun(r));
  assert.equal(
    r.signal,
    null,
    `the host must exit by itself, not die of the signal\n${describeRun(r)}`,
  );
  assert.equal(r.code, signal === "SIGINT" ? 130 : 143, describeRun(r));
  assert.ok(r.signalToExitMs !== null, "signal was never sent");
  assert.ok(
    r.signalToExitMs! <= boundMs,
    `exit took ${r.signalToExitMs!.toFixed(1)} ms after ${signal} (bound ${boundMs} ms)\n${
      describeRun(r)
    }`,
  );
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  kernelTest(
    `stop: ${signal} ends a poll with timeout -1 (-EINTR), status ${
      signal === "SIGINT" ? 130 : 143
    }`,
    async () => {
      const r = await stopRun("stop/stop_poll.wasm", [], signal);
      assertStopped(r, signal, STOP_BOUND_MS);
      assert.match(
        r.stdout,
        /^poll returned -4$/m,
        `the poll must return -EINTR\n${describeRun(r)}`,
      );
    },
  );

  kernelTest(
    `stop: ${signal} ends sleep(100) (EINTR), status ${signal === "SIGINT" ? 130 : 143}`,
    async () => {
      const r = await stopRun("stop/stop_sleep.wasm", [], signal);
      assertStopped(r, signal, STOP_BOUND_MS);
      assert.match(
        r.stdout,
        /^sleep returned \d+$/m,
        `sleep must return to the guest\n${describeRun(r)}`,
      );
    },
  );
}

kernelTest(
  "stop: a guest that ignores -EINTR is unwound by the host (SIGINT, status 130)",
  async () => {
    const r = await stopRun("stop/stop_poll.wasm", ["stubborn"], "SIGINT");
    assertStopped(r, "SIGINT", STUBBORN_BOUND_MS);
    assert.match(r.stdout, /^poll returned -4$/m, describeRun(r));
  },
);

kernelTest("stop: no BPF program or link of the guests is left", async () => {
  // kernelTest's leak check runs around every test above; this one re-checks across a full run
  const before = await bpfIds();
  const r = await runCli([guest("stop/stop_sleep.wasm")], {
    signalAfter: { signal: "SIGINT", asleep: true },
    timeoutMs: 20_000,
  });
  assert.equal(r.code, 130, describeRun(r));
  const left = async () =>
    [...(await bpfIds()).progs].filter(([id, d]) =>
      !before.progs.has(id) && d.endsWith(" stop_probe")
    );
  await waitFor(
    "the guest's programs to be unloaded after the exit",
    async () => (await left()).length === 0,
    1000,
  ).catch(async (e) => {
    throw new Error(`programs of the guest left behind: ${JSON.stringify(await left())}`, {
      cause: e,
    });
  });
  console.log(`  measured stop latencies:\n    ${measured.join("\n    ")}`);
});
