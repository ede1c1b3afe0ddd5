// examples/xdp on the real kernel: an XDP program on `lo` counting packets per IP protocol.
import assert from "node:assert/strict";
import { describeRun, kernelTest, repoRoot, runCli } from "./helpers/kernel.ts";

const xdp = repoRoot + "examples/xdp/xdp.wasm";

function icmpCounts(stdout: string): number[] {
  return stdout.split("\n").filter((l) => /^\d\d:\d\d:\d\d/.test(l)).map((l) =>
    Number(l.match(/ ICMP=(\d+)/)?.[1] ?? 0)
  );
}

kernelTest("xdp on lo: the ICMP count rises by the packets of a ping", async () => {
  const r = await runCli([xdp, "lo"], {
    onStdout: [{
      // after the first report, so that the count before the ping is known
      text: "Ctrl-C to end.\n",
      action: async () => {
        await new Promise((res) => setTimeout(res, 1200));
        const o = await new Deno.Command("ping", {
          args: ["-c", "3", "-i", "0.2", "127.0.0.1"],
          stdout: "null",
        }).output();
        assert.ok(o.success, "ping 127.0.0.1 failed");
      },
    }],
    signalAfter: { signal: "SIGINT", afterStdout: "ICMP=", delayMs: 1500 },
    timeoutMs: 20_000,
  });
  assert.equal(r.code, 130, describeRun(r));
  const counts = icmpCounts(r.stdout);
  assert.ok(counts.length >= 2, describeRun(r));
  // 3 echo requests + 3 replies arrive on lo (other ICMP traffic on lo can only add)
  assert.ok(counts[counts.length - 1] - counts[0] >= 6, describeRun(r));
});

kernelTest("xdp: an unknown interface is a clear attach error", async () => {
  const r = await runCli([xdp, "nosuchif0"], { timeoutMs: 20_000 });
  assert.equal(r.code, 1, describeRun(r));
  assert.match(r.stderr, /Failed to attach XDP program to nosuchif0/, describeRun(r));
});
