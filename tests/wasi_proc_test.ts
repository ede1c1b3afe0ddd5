// The import table and src/wasi/proc.ts: all 46 preview1 names, ENOSYS for the unimplemented
// ones, proc_exit, proc_raise, sched_yield.
// Without a guest: the functions run on a bare WebAssembly.Memory with in-memory sinks and a
// fake BlockingGate (tests/helpers/wasi.ts).
import assert from "node:assert/strict";
import { ProcExit } from "../src/wasi/mod.ts";
import * as abi from "../src/wasi/abi.ts";
import { setup } from "./helpers/wasi.ts";

Deno.test("all 46 preview1 names are importable; unimplemented ones return ENOSYS", () => {
  const s = setup();
  assert.equal(Object.keys(s.wasi.imports).length, 46);
  for (const name of abi.PREVIEW1_FUNCTIONS) assert.ok(name in s.wasi.imports, name);
  for (const name of ["sock_accept", "sock_recv", "sock_send", "sock_shutdown", "fd_allocate"]) {
    assert.equal(s.f[name](0, 0, 0, 0, 0, 0), abi.ERRNO_NOSYS, name);
  }
  assert.equal(abi.ERRNO_NOSYS, 52);
  assert.equal(s.f.proc_raise(2), abi.ERRNO_NOSYS);
  assert.equal(s.f.sched_yield(), 0);
});

Deno.test("proc_exit throws ProcExit with the code", () => {
  const s = setup();
  assert.throws(() => s.f.proc_exit(7), (e: unknown) => e instanceof ProcExit && e.code === 7);
  assert.throws(
    () => s.f.proc_exit(-1),
    (e: unknown) => e instanceof ProcExit && e.code === 0xffffffff,
  );
});
