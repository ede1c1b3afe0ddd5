// examples/lsm: it builds and runs, but this kernel does not run BPF LSM programs (the BPF LSM
// is not active), so the run must end with a clear error, not a crash or a hang.
import assert from "node:assert/strict";
import { describeRun, kernelTest, repoRoot, runCli } from "./helpers/kernel.ts";

const lsm = repoRoot + "examples/lsm/lsm.wasm";

function bpfLsmActive(): boolean {
  try {
    return Deno.readTextFileSync("/sys/kernel/security/lsm").split(",").includes("bpf");
  } catch {
    return false;
  }
}

kernelTest("lsm: without the BPF LSM, load or attach fails with a clear message", async () => {
  if (bpfLsmActive()) {
    // a kernel with the BPF LSM: the program attaches and protects the directory
    const r = await runCli([lsm, "wasm-bpf-lsm-test"], {
      signalAfter: { signal: "SIGINT", afterStdout: "Ctrl-C to end.\n", asleep: true },
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 130, describeRun(r));
    return;
  }
  const r = await runCli([lsm], { timeoutMs: 20_000 });
  assert.equal(r.code, 1, describeRun(r));
  // the guest names the cause, the host the errno and libbpf's reason
  assert.match(r.stderr, /Failed to (load|attach) the LSM program.*BPF LSM/s, describeRun(r));
  assert.match(r.stderr, /protect_rmdir/, describeRun(r));
  // the host's hint: not "run as root" (we are root) but the missing BPF LSM
  assert.match(r.stderr, /EPERM .* the BPF LSM is not active on this kernel/, describeRun(r));
  assert.doesNotMatch(r.stderr, /run as root/, describeRun(r));
  assert.doesNotMatch(r.stderr, /panic|RuntimeError|unreachable/, describeRun(r));
  assert.doesNotMatch(r.stdout, /Refusing to remove/, describeRun(r));
});
