// Every wasm_bpf import with out-of-range pointers, bad lengths, unknown handles, names and
// commands (guest: tests/guests/hostile/hostile.c; contract: docs/abi.md §1.1 "never a trap").
import assert from "node:assert/strict";
import { describeRun, guest, kernelTest, runCli } from "./helpers/kernel.ts";

/** Number of checks hostile.c makes. */
const HOSTILE_CHECKS = 82;

kernelTest("hostile: bad arguments to every import give errnos, never a crash", async () => {
  const r = await runCli([guest("hostile/hostile.wasm")]);
  const fails = r.stdout.split("\n").filter((l) => l.startsWith("FAIL"));
  assert.deepEqual(fails, [], `guest checks failed:\n${fails.join("\n")}\n${describeRun(r)}`);
  assert.equal(r.code, 0, describeRun(r));
  assert.equal(r.signal, null, describeRun(r));
  const ok = r.stdout.split("\n").filter((l) => l.startsWith("ok "));
  assert.equal(ok.length, HOSTILE_CHECKS, describeRun(r));
  assert.match(r.stdout, new RegExp(`^summary ok=${HOSTILE_CHECKS} fail=0$`, "m"));
  // no stack trace / panic from the host
  assert.doesNotMatch(r.stderr, /panic|RangeError|TypeError|Uncaught/, describeRun(r));
});
