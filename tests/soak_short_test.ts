// A 20 s soak under an event flood (scripts/soak.ts; `deno task soak` runs 10 minutes): RSS,
// fds and BPF objects of the host must not trend upwards while the guest polls a ring buffer
// fed by every syscall and reloads its object every 3 s.
import assert from "node:assert/strict";
import { runSoak, TABLE_HEADER } from "../scripts/soak.ts";
import { kernelTest } from "./helpers/kernel.ts";

kernelTest("soak: 20 s of an event flood, no upward trend in RSS, fds, BPF objects", async () => {
  const rows: string[] = [];
  const r = await runSoak({
    seconds: 20,
    intervalSec: 1,
    reloadSec: 3,
    warmupSec: 6,
    onSample: (l) => rows.push(l),
  });
  const report = `${rows.join("\n")}\n${r.verdict.join("\n")}`;
  console.log(report);
  assert.equal(rows[0], TABLE_HEADER);
  assert.ok(r.passed, `${report}\n${r.stderr}`);
});
