// Guest memory access (src/wasi/memory.ts): out-of-bounds pointers and lengths fault, never
// throw; views follow memory.grow.
// Without a guest: the functions run on a bare WebAssembly.Memory with in-memory sinks and a
// fake BlockingGate (tests/helpers/wasi.ts).
import assert from "node:assert/strict";
import * as abi from "../src/wasi/abi.ts";
import { putIovecs, putStr, setup } from "./helpers/wasi.ts";

Deno.test("out-of-bounds pointers and lengths → ERRNO_FAULT, never a throw", async () => {
  const s = setup({ args: ["a", "b"], env: { X: "1" } });
  const END = 65536;
  const FAULT = abi.ERRNO_FAULT;
  assert.equal(FAULT, 21);
  const call = (name: string, ...a: unknown[]) => {
    try {
      return s.f[name](...a);
    } catch (e) {
      assert.fail(`${name} threw ${e}`);
    }
  };
  assert.equal(call("args_sizes_get", END - 2, 0), FAULT);
  assert.equal(call("args_get", END - 4, 0), FAULT);
  assert.equal(call("args_get", 0, END - 1), FAULT);
  assert.equal(call("environ_get", -8, 0), FAULT); // i32 -8 = 0xFFFFFFF8
  assert.equal(call("clock_time_get", 1, 0n, END - 7), FAULT);
  assert.equal(call("random_get", END - 10, 11), FAULT);
  assert.equal(call("random_get", 0, -1), FAULT);
  // fd_write: iovec array outside, buffer outside, length wrap, result pointer outside.
  assert.equal(call("fd_write", 1, END - 4, 1, 0), FAULT);
  putIovecs(s, 100, [[END - 2, 3]]);
  assert.equal(call("fd_write", 1, 100, 1, 200), FAULT);
  putIovecs(s, 100, [[10, 0xffffffff]]);
  assert.equal(call("fd_write", 1, 100, 1, 200), FAULT);
  putIovecs(s, 100, [[10, 1]]);
  assert.equal(call("fd_write", 1, 100, 1, END), FAULT);
  assert.equal(call("fd_write", 1, 100, 0x20000000, 200), FAULT);
  // Pointers near 4 GiB (negative i32s): offsets added to them must fault, not wrap to 0.
  putIovecs(s, 0, [[10, 1]]);
  assert.equal(call("fd_write", 1, -4, 1, 200), FAULT);
  assert.equal(call("fd_write", 1, -8, 2, 200), FAULT);
  assert.equal(call("fd_write", 2, -1, 1, 200), FAULT);
  assert.equal(s.stdout.chunks.length + s.stderr.chunks.length, 0, "nothing may be written");
  assert.equal(call("fd_fdstat_get", 1, END - 23), FAULT);
  assert.equal(call("fd_filestat_get", 1, -1), FAULT);
  assert.equal(call("fd_read", 0, 100, 1, END), FAULT);
  assert.equal(await call("poll_oneoff", END - 47, 0, 1, 200), FAULT);
  assert.equal(await call("poll_oneoff", 0, END - 31, 1, 200), FAULT);
  assert.equal(call("fd_seek", 1, 0n, 0, END), abi.ERRNO_SPIPE); // EBADF-like checks first: fine
});

Deno.test("views are re-taken after memory.grow (detached buffer)", () => {
  const s = setup();
  const n = putStr(s, 100, "before");
  putIovecs(s, 0, [[100, n]]);
  assert.equal(s.f.fd_write(1, 0, 1, 8), 0);
  s.memory.grow(1); // detaches the old buffer
  const at = 65536 + 500; // only valid after the grow
  const m = putStr(s, at, "after");
  putIovecs(s, 65536, [[at, m]]);
  assert.equal(s.f.fd_write(1, 65536, 1, 65536 + 16), 0);
  assert.equal(s.dv().getUint32(65536 + 16, true), 5);
  assert.equal(s.stdout.text, "beforeafter");
});
