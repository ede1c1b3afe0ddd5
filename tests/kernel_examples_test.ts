// The shipped examples on the real kernel, through the CLI, as a user runs them.
import assert from "node:assert/strict";
import { describeRun, kernelTest, repoRoot, runCli } from "./helpers/kernel.ts";

const bootstrap = repoRoot + "examples/bootstrap/bootstrap.wasm";
const runqlat = repoRoot + "examples/runqlat/runqlat.wasm";
/** The same tools in C and in Rust (examples/rust_*: the same BPF objects, the same output). */
const EXAMPLES = [
  { lang: "C", bootstrap, runqlat },
  {
    lang: "Rust",
    bootstrap: repoRoot + "examples/rust_bootstrap/bootstrap.wasm",
    runqlat: repoRoot + "examples/rust_runqlat/runqlat.wasm",
  },
];

/** The log2 histograms in runqlat's output: one per "usecs : count distribution" header. */
function histograms(stdout: string): string[][] {
  const blocks = stdout.split(/^\s*(?:usecs|msecs)\s+: count\s+distribution\s*$/m).slice(1);
  return blocks.map((b) =>
    b.split("\n").filter((l) => /^\s*\d+ -> \d+\s+: \d+\s+\|[* ]*\|$/.test(l))
  );
}

/**
 * A histogram row as libbpf-tools' print_log2_hist prints it (`%*llu -> %-*llu : %-8u |bar|`),
 * from the numbers the row shows: the C and the Rust runqlat must both print exactly this.
 */
function expectedRow(row: string, valMax: number): string {
  const m = row.match(/^\s*(\d+) -> (\d+)\s+: (\d+)/)!;
  const [lo, hi, count] = [m[1], m[2], Number(m[3])];
  const stars = valMax ? Math.floor(Math.min(count, valMax) * 40 / valMax) : 0;
  return `${lo.padStart(10)} -> ${hi.padEnd(10)} : ${String(count).padEnd(8)} |` +
    `${"*".repeat(stars)}${" ".repeat(40 - stars)}|`;
}

for (const { lang, bootstrap, runqlat } of EXAMPLES) {
  kernelTest(
    `${lang} bootstrap reports the exec and exit of a process the test spawns`,
    async () => {
      // A distinctive command name, so the assertion cannot match some other process.
      const marker = "/bin/true";
      const r = await runCli([bootstrap], {
        onStdout: [{
          text: "TIME     EVENT",
          action: async () => {
            const out = await new Deno.Command(marker).spawn().status;
            assert.ok(out.success);
          },
        }],
        signalAfter: { signal: "SIGINT", afterStdout: "EXIT  true", asleep: true },
        timeoutMs: 20_000,
      });
      assert.equal(r.code, 130, describeRun(r));
      assert.ok(r.signalToExitMs! < 300, `stop took ${r.signalToExitMs} ms`);
      // Ctrl-C ends the poll loop cleanly (EINTR is not an error to report)
      assert.equal(r.stderr, "", describeRun(r));
      assert.match(r.stdout, /EXEC\s+true\s+\d+\s+\d+\s+\/(usr\/)?bin\/true/, describeRun(r));
      assert.match(r.stdout, /EXIT\s+true\s+\d+\s+\d+\s+\[0\]/, describeRun(r));
    },
  );

  kernelTest(
    `${lang} bootstrap -d (a rodata parameter) reports only exits longer than it`,
    async () => {
      // With a minimum duration, libbpf-bootstrap reports no execs, and exits only of processes
      // that lived at least that long: `true` is filtered out, `sleep 0.3` is not.
      const r = await runCli([bootstrap, "-d", "200"], {
        onStdout: [{
          text: "TIME     EVENT",
          action: async () => {
            await new Deno.Command("/bin/true").spawn().status;
            await new Deno.Command("sleep", { args: ["0.3"] }).spawn().status;
          },
        }],
        signalAfter: { signal: "SIGINT", afterStdout: "EXIT  sleep", asleep: true },
        timeoutMs: 20_000,
      });
      assert.equal(r.code, 130, describeRun(r));
      assert.match(r.stdout, /EXIT\s+sleep\s+\d+\s+\d+\s+\[0\] \((2|3|4)\d\dms\)/, describeRun(r));
      assert.doesNotMatch(r.stdout, /EXEC /, describeRun(r));
      assert.doesNotMatch(r.stdout, /EXIT\s+true/, describeRun(r));
    },
  );

  kernelTest(`${lang} runqlat 1 2 prints two non-empty histograms and exits 0`, async () => {
    const r = await runCli([runqlat, "1", "2"], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, /^Tracing run queue latency\.\.\. Hit Ctrl-C to end\./m);
    const hists = histograms(r.stdout);
    assert.equal(hists.length, 2, describeRun(r));
    for (const rows of hists) {
      const total = rows.reduce((n, l) => n + Number(l.split(":")[1].trim().split(/\s+/)[0]), 0);
      assert.ok(total > 0, `an empty histogram:\n${r.stdout}`);
      // the exact format of the C tool: header, then one row per slot up to the last non-zero
      const counts = rows.map((l) => Number(l.split(":")[1].trim().split(/\s+/)[0]));
      const valMax = Math.max(...counts);
      for (const row of rows) assert.equal(row, expectedRow(row, valMax), describeRun(r));
      assert.notEqual(counts[counts.length - 1], 0, describeRun(r));
      rows.forEach((row, i) => assert.match(row, new RegExp(`^\\s*\\d+ -> ${2 ** (i + 1) - 1} `)));
    }
    const header = `${" ".repeat(5)}${"usecs".padEnd(19)} : count    distribution`;
    assert.ok(r.stdout.split("\n").includes(header), describeRun(r));
  });

  kernelTest(
    `${lang} runqlat: Ctrl-C during the interval prints the last histogram, status 130`,
    async () => {
      const r = await runCli([runqlat, "5", "1"], {
        signalAfter: { signal: "SIGINT", afterStdout: "Hit Ctrl-C to end.", asleep: true },
        timeoutMs: 20_000,
      });
      assert.equal(r.code, 130, describeRun(r));
      assert.ok(r.signalToExitMs! < 300, `stop took ${r.signalToExitMs} ms`);
      assert.equal(r.stderr, "", describeRun(r)); // the interrupted sleep is no error
      assert.equal(histograms(r.stdout).length, 1, describeRun(r));
    },
  );

  kernelTest(`${lang} runqlat -h is the guest's own help`, async () => {
    const r = await runCli([runqlat, "-h"]);
    assert.match(r.stdout + r.stderr, /USAGE: runqlat/i, describeRun(r));
    assert.doesNotMatch(r.stdout + r.stderr, /wasm-bpf \[options\]/);
  });
}

kernelTest("-v routes libbpf's log to stderr; without it libbpf is silent", async () => {
  const verbose = await runCli(["-v", runqlat, "1", "1"], { timeoutMs: 20_000 });
  assert.equal(verbose.code, 0, describeRun(verbose));
  assert.match(verbose.stderr, /^libbpf: loading object/m);
  assert.match(verbose.stderr, /attached sched_switch \(section tp_btf\/sched_switch\)/);
  const quiet = await runCli([runqlat, "1", "1"], { timeoutMs: 20_000 });
  assert.equal(quiet.code, 0, describeRun(quiet));
  assert.equal(quiet.stderr, "");
});
