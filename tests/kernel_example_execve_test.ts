// examples/execve on the real kernel: a tracepoint and a raw tracepoint feeding a ring buffer,
// and a struct event that the skeleton generator defined (--types event).
import assert from "node:assert/strict";
import { describeRun, kernelTest, repoRoot, runCli } from "./helpers/kernel.ts";

const execve = repoRoot + "examples/execve/execve.wasm";

kernelTest("execve reports the execve() call and the exec of a process the test runs", async () => {
  const r = await runCli([execve], {
    onStdout: [{
      text: "FILENAME\n",
      action: async () => {
        const st = await new Deno.Command("/bin/true").spawn().status;
        assert.ok(st.success);
      },
    }],
    signalAfter: { signal: "SIGINT", afterStdout: " true ", asleep: true },
    timeoutMs: 20_000,
  });
  assert.equal(r.code, 130, describeRun(r));
  // the CALL comes from the caller's side (comm is still the parent's), the EXEC from the new
  // program: same PID, and uid 0 (the tests run as root) after 7 bytes of padding.
  const call = r.stdout.match(/^\S+\s+CALL\s+(\d+)\s+\d+\s+0\s+\S+\s+\/bin\/true$/m);
  assert.ok(call, describeRun(r));
  assert.match(
    r.stdout,
    new RegExp(`^\\S+\\s+EXEC\\s+${call[1]}\\s+\\d+\\s+0\\s+true\\s+/bin/true$`, "m"),
  );
});

kernelTest("execve -x reports only successful execs", async () => {
  const r = await runCli([execve, "-x"], {
    onStdout: [{
      text: "FILENAME\n",
      action: async () => {
        // a failing execve: not reported with -x
        await new Deno.Command("/bin/sh", { args: ["-c", "/nonexistent-wasm-bpf; /bin/true"] })
          .output();
      },
    }],
    signalAfter: { signal: "SIGINT", afterStdout: " true ", asleep: true },
    timeoutMs: 20_000,
  });
  assert.equal(r.code, 130, describeRun(r));
  assert.match(r.stdout, /EXEC\s+\d+\s+\d+\s+0\s+true\s+\/bin\/true/, describeRun(r));
  assert.doesNotMatch(r.stdout, /CALL|nonexistent-wasm-bpf/, describeRun(r));
});
