/** The walk over a module's instructions (src/format/wasm_code.ts): which code may write a
 * table, on hand-made modules and on every guest this repository builds. */

import assert from "node:assert/strict";
import { mayWriteTables } from "../src/format/wasm_code.ts";
import { section, uleb, vec, wasmModule } from "../src/format/wasm.ts";

const I32 = 0x7f;

/** A module of one function `() -> ()` with `locals` and the instructions `code`. */
function moduleWith(code: number[], locals: number[][] = []): Uint8Array {
  const body = [...vec(locals), ...code, 0x0b];
  return wasmModule([
    section(1, vec([[0x60, 0, 0]])),
    section(3, vec([uleb(0)])),
    section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

// Instructions with every kind of immediate the walk must step over (the module need not
// validate: the walk reads, V8 validates).
const EVERY_IMMEDIATE = [
  ...[0x02, 0x40, 0x03, 0x7f, 0x04, 0x05], // block, loop (i32), if (type index 5)
  ...[0x41, 0xff, 0xff, 0xff, 0xff, 0x07], // i32.const -1 (5 bytes)
  ...[0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f], // i64.const
  ...[0x43, 0x26, 0x26, 0x26, 0x26], // f32.const whose bytes look like table.set
  ...[0x44, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26], // f64.const
  ...[0x0e, 3, 0, 1, 2, 0], // br_table 3 labels and the default
  ...[0x11, 2, 0, 0x13, 1, 0], // call_indirect, return_call_indirect
  ...[0x28, 0x42, 1, 0x80, 0x01], // i32.load with a memory index (multi-memory)
  ...[0x1c, 2, 0x7f, 0x64, 0x70], // select t*: i32, (ref func)
  ...[0xd0, 0x70, 0xd2, 0x00, 0x25, 0x00], // ref.null func, ref.func 0, table.get 0
  ...[0x1f, 0x40, 2, 0x00, 1, 0, 0x02, 0], // try_table: catch tag 1 label 0, catch_all 0
  ...[0xfc, 0x0a, 0, 0, 0xfc, 0x10, 0], // memory.copy 0 0, table.size 0
  ...[0xfd, 0x0c, ...new Array(16).fill(0x26)], // v128.const of table.set bytes
  ...[0xfd, 0x0d, ...new Array(16).fill(0x26)], // i8x16.shuffle
  ...[0xfd, 0x15, 3, 0xfd, 0x54, 0, 0, 1], // extract_lane 3, v128.load8_lane memarg lane
  ...[0xfd, 0x80, 0x02], // a relaxed SIMD opcode (0x100): no immediate
  ...[0xfe, 0x03, 0x00, 0xfe, 0x10, 2, 8], // atomic.fence, i32.atomic.load
  ...[0x06, 0x40, 0x07, 0, 0x19, 0x0b], // legacy try / catch / catch_all
];

Deno.test("wasm code: instructions of every immediate kind, none writing a table", () => {
  assert.equal(mayWriteTables(moduleWith(EVERY_IMMEDIATE, [[2, I32], [1, 0x63, 0x70]])), false);
  assert.equal(mayWriteTables(moduleWith([])), false);
  assert.equal(mayWriteTables(wasmModule([section(1, vec([[0x60, 0, 0]]))])), false, "no code");
});

Deno.test("wasm code: each instruction that writes a table is found", () => {
  const writers: Record<string, number[]> = {
    "table.set": [0x26, 0],
    "table.init": [0xfc, 12, 0, 0],
    "table.copy": [0xfc, 14, 0, 0],
    "table.grow": [0xfc, 15, 0],
    "table.fill": [0xfc, 17, 0],
  };
  for (const [name, code] of Object.entries(writers)) {
    assert.equal(mayWriteTables(moduleWith([...EVERY_IMMEDIATE, ...code])), true, name);
  }
});

Deno.test("wasm code: code the walk cannot read may write a table", () => {
  assert.equal(mayWriteTables(moduleWith([0xfb, 0x00, 0])), true, "WasmGC (unknown prefix)");
  assert.equal(mayWriteTables(moduleWith([0xfc, 0x30])), true, "unknown 0xfc opcode");
  assert.equal(mayWriteTables(moduleWith([0x44, 1, 2])), true, "an immediate past the end");
  const cut = moduleWith([0x01, 0x01]);
  assert.equal(mayWriteTables(cut.subarray(0, cut.length - 2)), true, "a truncated module");
});

Deno.test("wasm code: every guest built here (clang and rustc) writes no table", () => {
  const guests: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (e.name.endsWith(".wasm")) guests.push(path);
    }
  };
  for (const dir of ["examples", "tests/guests", "bench/guests"]) {
    walk(new URL(`../${dir}`, import.meta.url).pathname);
  }
  assert.ok(guests.length >= 20, `found ${guests.length} guests`);
  for (const path of guests) {
    assert.equal(mayWriteTables(Deno.readFileSync(path)), false, path);
  }
});

Deno.test("wasm code: code over 16 MiB is not walked (it may write, as far as the host knows)", () => {
  // one function of 16 MiB of nops, no locals
  const body = new Uint8Array(16 * 1024 * 1024 + 2).fill(0x01);
  body[0] = 0; // no locals
  body[body.length - 1] = 0x0b; // end
  const code = [1, ...uleb(body.length)]; // one body, its size
  const head = [
    ...wasmModule([section(1, vec([[0x60, 0, 0]])), section(3, vec([uleb(0)]))]),
    ...[10, ...uleb(code.length + body.length), ...code],
  ];
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  assert.equal(mayWriteTables(bytes), true);
});
