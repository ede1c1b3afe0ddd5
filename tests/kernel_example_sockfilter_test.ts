// examples/sockfilter on the real kernel: the socket filter loads (and passes the verifier);
// attaching it needs a socket, which a WASI guest does not have.
import assert from "node:assert/strict";
import { describeRun, kernelTest, progNames, repoRoot, runCli } from "./helpers/kernel.ts";

const sockfilter = repoRoot + "examples/sockfilter/sockfilter.wasm";

kernelTest("sockfilter loads a socket_filter program and unloads it at Ctrl-C", async () => {
  let loaded: string[] = [];
  const r = await runCli([sockfilter], {
    onStdout: [{
      text: "Hit Ctrl-C to end.\n",
      action: async () => {
        loaded = await progNames();
      },
    }],
    signalAfter: { signal: "SIGINT", afterStdout: "Hit Ctrl-C to end.\n", asleep: true },
    timeoutMs: 20_000,
  });
  assert.equal(r.code, 130, describeRun(r));
  assert.match(r.stdout, /^Loaded socket filter socket_handler/m, describeRun(r));
  assert.ok(loaded.includes("socket_handler"), `not loaded: ${loaded.join(", ")}`);
});

kernelTest("sockfilter SECONDS ends by itself with status 0", async () => {
  const r = await runCli([sockfilter, "1"], { timeoutMs: 20_000 });
  assert.equal(r.code, 0, describeRun(r));
  assert.match(r.stdout, /Not attached: WASI has no sockets/, describeRun(r));
});
