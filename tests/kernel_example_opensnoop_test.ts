// examples/opensnoop on the real kernel: sys_enter/exit_openat tracepoints, a perf buffer, and
// filters written into .rodata before load (-p PID, -n NAME, -x).
import assert from "node:assert/strict";
import { describeRun, kernelTest, repoRoot, runCli } from "./helpers/kernel.ts";

const opensnoop = repoRoot + "examples/opensnoop/opensnoop.wasm";
const missing = "/nonexistent-wasm-bpf-opensnoop";

async function cat(...files: string[]): Promise<void> {
  await new Deno.Command("cat", { args: files, stdout: "null", stderr: "null" }).output();
}

kernelTest(
  "opensnoop -n cat reports cat's opens, with fd and errno, and nothing else",
  async () => {
    const r = await runCli([opensnoop, "-n", "cat"], {
      onStdout: [{ text: "PATH\n", action: () => cat("/etc/hostname", missing) }],
      signalAfter: { signal: "SIGINT", afterStdout: missing, asleep: true },
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 130, describeRun(r));
    const lines = r.stdout.trim().split("\n").slice(1);
    assert.ok(lines.length >= 2, describeRun(r));
    for (const l of lines) assert.match(l, /^\d+\s+cat\s+/, describeRun(r));
    assert.match(r.stdout, /cat\s+\d+\s+0 \/etc\/hostname$/m, describeRun(r));
    assert.match(r.stdout, new RegExp(`cat\\s+-1\\s+2 ${missing}$`, "m"), describeRun(r));
  },
);

kernelTest("opensnoop -p PID -x: only that process's failed opens", async () => {
  // a shell that waits for a line on stdin, then fails an open itself (a redirection of a
  // builtin: no fork) and becomes cat (same PID), whose opens succeed
  const sh = new Deno.Command("/bin/sh", {
    args: ["-c", `read x; : < ${missing}; exec cat /etc/hostname`],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const r = await runCli([opensnoop, "-p", String(sh.pid), "-x"], {
      onStdout: [{
        text: "PATH\n",
        action: async () => {
          const w = sh.stdin.getWriter();
          await w.write(new TextEncoder().encode("go\n"));
          await w.close();
          await cat(missing); // another process: filtered out by -p
        },
      }],
      signalAfter: { signal: "SIGINT", afterStdout: missing, asleep: true },
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 130, describeRun(r));
    const lines = r.stdout.trim().split("\n").slice(1);
    assert.ok(lines.length >= 1, describeRun(r));
    for (const l of lines) {
      assert.match(l, new RegExp(`^${sh.pid}\\s+\\S+\\s+-1\\s+\\d+ `), describeRun(r));
    }
    assert.match(r.stdout, new RegExp(`^${sh.pid}\\s+sh\\s+-1\\s+2 ${missing}$`, "m"));
    assert.doesNotMatch(r.stdout, /\/etc\/hostname/, describeRun(r));
  } finally {
    await sh.status;
  }
});
