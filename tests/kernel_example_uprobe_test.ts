// examples/uprobe on the real kernel: a uprobe and a uretprobe on a function of a binary that
// the test compiles (gcc), whose path the guest writes into the section names before load.
import assert from "node:assert/strict";
import { describeRun, kernelTest, repoRoot, runCli } from "./helpers/kernel.ts";

const uprobe = repoRoot + "examples/uprobe/uprobe.wasm";

async function buildTarget(dir: string): Promise<string> {
  const bin = `${dir}/uprobe_target`;
  const o = await new Deno.Command("gcc", {
    args: ["-O1", "-o", bin, repoRoot + "examples/uprobe/uprobe_target.c"],
    stderr: "piped",
  }).output();
  assert.ok(o.success, `gcc failed: ${new TextDecoder().decode(o.stderr)}`);
  return bin;
}

kernelTest("uprobe reports the arguments and return value of each uprobe_add call", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wasm-bpf-uprobe-" });
  try {
    const bin = await buildTarget(dir);
    const r = await runCli([uprobe, bin], {
      onStdout: [{
        text: "CALL\n",
        action: async () => {
          const o = await new Deno.Command(bin, { args: ["3"], stdout: "piped" }).output();
          assert.match(new TextDecoder().decode(o.stdout), /uprobe_add\(3, 30\) = 33/);
        },
      }],
      signalAfter: { signal: "SIGINT", afterStdout: "uprobe_add(3, 30) = 33\n", asleep: true },
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 130, describeRun(r));
    for (const i of [1, 2, 3]) {
      assert.match(
        r.stdout,
        new RegExp(`^\\d+\\s+uprobe_target\\s+uprobe_add\\(${i}, ${10 * i}\\) = ${11 * i}$`, "m"),
        describeRun(r),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

kernelTest("uprobe: a binary without uprobe_add fails to attach with a clear message", async () => {
  const r = await runCli([uprobe, "/bin/true"], { timeoutMs: 20_000 });
  assert.equal(r.code, 1, describeRun(r));
  assert.match(r.stderr, /Failed to attach to uprobe_add in \/bin\/true/, describeRun(r));
});

kernelTest("uprobe: a relative path is refused before anything is loaded", async () => {
  const r = await runCli([uprobe, "uprobe_target"], { timeoutMs: 20_000 });
  assert.equal(r.code, 1, describeRun(r));
  assert.match(r.stderr, /USAGE: uprobe \/ABSOLUTE\/PATH/, describeRun(r));
});
