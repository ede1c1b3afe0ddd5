// clock_time_get and clock_res_get (src/wasi/clock.ts).
// Without a guest: the functions run on a bare WebAssembly.Memory with in-memory sinks and a
// fake BlockingGate (tests/helpers/wasi.ts).
import assert from "node:assert/strict";
import * as abi from "../src/wasi/abi.ts";
import { setup } from "./helpers/wasi.ts";

Deno.test("clock_time_get: monotonic increases, realtime matches Date.now, bad id → EINVAL", async () => {
  const s = setup();
  assert.equal(s.f.clock_time_get(abi.CLOCKID_MONOTONIC, 1n, 0), 0);
  const a = s.dv().getBigUint64(0, true);
  // (the 15 ms that pass are what is measured)
  await new Promise((r) => setTimeout(r, 15));
  assert.equal(s.f.clock_time_get(abi.CLOCKID_MONOTONIC, 1n, 8), 0);
  const b = s.dv().getBigUint64(8, true);
  assert.ok(b - a >= 14_000_000n, `monotonic advanced only ${b - a} ns`);
  assert.ok(b - a < 1_000_000_000n);

  assert.equal(s.f.clock_time_get(abi.CLOCKID_REALTIME, 1n, 16), 0);
  const rt = Number(s.dv().getBigUint64(16, true) / 1_000_000n);
  assert.ok(Math.abs(rt - Date.now()) < 50, `realtime off by ${rt - Date.now()} ms`);

  assert.equal(s.f.clock_time_get(abi.CLOCKID_PROCESS_CPUTIME_ID, 1n, 24), 0);
  assert.equal(s.f.clock_time_get(99, 1n, 0), abi.ERRNO_INVAL);
  assert.equal(s.f.clock_res_get(abi.CLOCKID_MONOTONIC, 32), 0);
  assert.ok(s.dv().getBigUint64(32, true) > 0n);
  assert.equal(s.f.clock_res_get(42, 32), abi.ERRNO_INVAL);
});
