// fd exhaustion (issue 14, class 8): a guest that loads objects until the host refuses must
// leave the host the fds it needs, so that polling a buffer and stopping still work.
// Guest: tests/guests/fdcap/fdcap.c. The child runs under a low RLIMIT_NOFILE (prlimit), so
// the fds run out after a few hundred objects, not tens of thousands.
import assert from "node:assert/strict";
import { describeRun, guest, kernelTest, runCli } from "./helpers/kernel.ts";

const fdcap = guest("fdcap/fdcap.wasm");
/** prlimit sets soft and hard: Deno cannot raise the soft limit past it. */
const LOW_NOFILE = ["prlimit", "--nofile=1024:1024"];

kernelTest("fd budget: by default a guest stops at --max-objects=64", async () => {
  const r = await runCli([fdcap, "loop"], { wrapper: LOW_NOFILE });
  assert.equal(r.code, 0, describeRun(r));
  assert.match(r.stdout, /^loaded 64\npoll 0$/m, describeRun(r));
  assert.match(r.stderr, /64 already loaded, --max-objects=64 \(the default; raise it/);
});

kernelTest("fd budget: loads past the fd reserve fail with EMFILE, the host polls on", async () => {
  const r = await runCli(["--max-objects=1000000", fdcap, "loop"], { wrapper: LOW_NOFILE });
  assert.equal(r.code, 0, describeRun(r));
  assert.match(r.stdout, /^poll 0$/m, describeRun(r));
  const loaded = Number(r.stdout.match(/^loaded (\d+)$/m)?.[1]);
  assert.ok(loaded > 64 && loaded < 250, describeRun(r));
  assert.match(r.stderr, /refused to load a BPF object: EMFILE: the object needs up to \d+ file/);
  assert.doesNotMatch(r.stderr, /panicked|Too many open files/, describeRun(r));
});

kernelTest("fd budget: one object with more maps than fds to spare is refused", async () => {
  // 700 - 512 reserved - Deno's own: fewer than the object's 300 maps
  const r = await runCli([fdcap, "many"], { wrapper: ["prlimit", "--nofile=700:700"] });
  assert.equal(r.code, 0, describeRun(r));
  assert.match(r.stdout, /^manymaps handle 0\nloaded 1\npoll 0$/m, describeRun(r));
  assert.match(r.stderr, /EMFILE: the object needs up to 301 file descriptors/, describeRun(r));
});

kernelTest("fd budget: after running out of fds to spare, a stop still works", async () => {
  const r = await runCli(["--max-objects=1000000", fdcap, "loop", "wait"], {
    wrapper: LOW_NOFILE,
    signalAfter: { signal: "SIGTERM", afterStdout: "poll 0\n" },
  });
  // 143 either way: the host ends the guest (SIGTERM during a poll), or SIGTERM's default
  // action ends the process (SIGTERM while the guest runs wasm: stop.ts).
  assert.equal(r.code, 143, describeRun(r));
  assert.ok(!r.timedOut, describeRun(r));
  assert.doesNotMatch(r.stderr, /panicked/, describeRun(r));
});
