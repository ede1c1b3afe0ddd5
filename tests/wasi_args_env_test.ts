// args_get / args_sizes_get (src/wasi/args.ts), environ_get / environ_sizes_get
// (src/wasi/environ.ts).
// Without a guest: the functions run on a bare WebAssembly.Memory with in-memory sinks and a
// fake BlockingGate (tests/helpers/wasi.ts).
import assert from "node:assert/strict";
import * as abi from "../src/wasi/abi.ts";
import { cstr, enc, setup } from "./helpers/wasi.ts";

Deno.test("args_sizes_get / args_get: counts, sizes and NUL-terminated UTF-8 contents", () => {
  const s = setup({ args: ["mod.wasm", "-v", "héllo"] });
  assert.equal(s.f.args_sizes_get(0, 4), abi.ERRNO_SUCCESS);
  assert.equal(s.dv().getUint32(0, true), 3);
  const size = s.dv().getUint32(4, true);
  assert.equal(size, "mod.wasm".length + 1 + 3 + enc.encode("héllo").length + 1);
  assert.equal(s.f.args_get(100, 200), abi.ERRNO_SUCCESS);
  const got = [0, 1, 2].map((i) => cstr(s, s.dv().getUint32(100 + i * 4, true)));
  assert.deepEqual(got, ["mod.wasm", "-v", "héllo"]);
  assert.equal(s.dv().getUint32(100, true), 200);
});

Deno.test("environ: empty by default, KEY=VALUE when given", () => {
  const empty = setup();
  assert.equal(empty.f.environ_sizes_get(0, 4), 0);
  assert.equal(empty.dv().getUint32(0, true), 0);
  assert.equal(empty.dv().getUint32(4, true), 0);

  const s = setup({ env: { A: "1", GREETING: "hi there" } });
  assert.equal(s.f.environ_sizes_get(0, 4), 0);
  assert.equal(s.dv().getUint32(0, true), 2);
  assert.equal(s.dv().getUint32(4, true), "A=1".length + 1 + "GREETING=hi there".length + 1);
  assert.equal(s.f.environ_get(100, 200), 0);
  assert.equal(cstr(s, s.dv().getUint32(100, true)), "A=1");
  assert.equal(cstr(s, s.dv().getUint32(104, true)), "GREETING=hi there");
});
