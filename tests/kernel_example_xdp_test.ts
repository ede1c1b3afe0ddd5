// examples/xdp on the real kernel: an XDP program on `lo` counting packets per IP protocol.
import assert from "node:assert/strict";
import { describeRun, kernelTest, repoRoot, runCli } from "./helpers/kernel.ts";

const xdp = repoRoot + "examples/xdp/xdp.wasm";

/** The ICMP count of each complete report line ("HH:MM:SS ICMP=n ..."; no ICMP= means 0). */
function icmpCounts(stdout: string): number[] {
  return stdout.split("\n").slice(0, -1).filter((l) => /^\d\d:\d\d:\d\d/.test(l)).map((l) =>
    Number(l.match(/ ICMP=(\d+)/)?.[1] ?? 0)
  );
}

kernelTest("xdp on lo: the ICMP count rises by the packets of a ping", async () => {
  let pinged = false;
  // 3 echo requests + 3 replies arrive on lo (other ICMP traffic on lo can only add)
  const risenBy6 = (stdout: string) => {
    const counts = icmpCounts(stdout);
    return counts[counts.length - 1] - counts[0] >= 6;
  };
  const r = await runCli([xdp, "lo"], {
    onStdout: [{
      // after the first report, so that the count before the ping is known
      text: (stdout) => icmpCounts(stdout).length > 0,
      action: async () => {
        const o = await new Deno.Command("ping", {
          args: ["-c", "3", "-i", "0.2", "127.0.0.1"],
          stdout: "null",
        }).output();
        assert.ok(o.success, "ping 127.0.0.1 failed");
        pinged = true;
      },
    }],
    // once a report after the ping shows its packets (else the run times out and fails)
    signalAfter: { signal: "SIGINT", afterStdout: (stdout) => pinged && risenBy6(stdout) },
    timeoutMs: 20_000,
  });
  assert.equal(r.code, 130, describeRun(r));
  assert.ok(icmpCounts(r.stdout).length >= 2, describeRun(r));
  assert.ok(risenBy6(r.stdout), describeRun(r));
});

kernelTest("xdp: an unknown interface is a clear attach error", async () => {
  const r = await runCli([xdp, "nosuchif0"], { timeoutMs: 20_000 });
  assert.equal(r.code, 1, describeRun(r));
  assert.match(r.stderr, /Failed to attach XDP program to nosuchif0/, describeRun(r));
});
