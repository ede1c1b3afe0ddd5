// random_get (src/wasi/random.ts).
// Without a guest: the functions run on a bare WebAssembly.Memory with in-memory sinks and a
// fake BlockingGate (tests/helpers/wasi.ts).
import assert from "node:assert/strict";
import { setup } from "./helpers/wasi.ts";

Deno.test("random_get fills more than one 64 KiB chunk", () => {
  const s = setup();
  s.memory.grow(3);
  assert.equal(s.f.random_get(1000, 150_000), 0);
  const b = s.u8().subarray(1000, 151_000);
  // 150 000 random bytes: the last 16 are not all zero, nor the first 16.
  assert.ok(b.subarray(0, 16).some((x) => x !== 0));
  assert.ok(b.subarray(b.length - 16).some((x) => x !== 0));
  assert.equal(s.u8()[151_000], 0);
});
