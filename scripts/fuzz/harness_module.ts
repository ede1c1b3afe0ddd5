// The tiny wasm module whose instance stands in for a guest: it exports a memory, the function
// table and one callback, `cb(ctx, data, size) = ctx`, at table index 1 (the index a guest's
// poll passes for its record callback). Hand-assembled, so that the fuzzer needs no toolchain.

import { name, section, uleb, vec, wasmModule } from "../../src/format/wasm.ts";

/** The module's bytes: memory of `initialPages` pages (at most `maxPages`), table [_, cb]. */
export function harnessModuleBytes(
  initialPages: number,
  maxPages: number,
): Uint8Array<ArrayBuffer> {
  const exports = vec([
    [...name("memory"), 2, 0],
    [...name("__indirect_function_table"), 1, 0],
    [...name("cb"), 0, 0],
  ]);
  return wasmModule([
    section(1, vec([[0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f]])), // (i32, i32, i32) -> i32
    section(3, vec([[0]])),
    section(4, vec([[0x70, 0, 2]])), // funcref table, 2 entries
    section(5, vec([[1, ...uleb(initialPages), ...uleb(maxPages)]])),
    section(7, exports),
    section(9, vec([[0, 0x41, 1, 0x0b, 1, 0]])), // table[1] = cb
    section(10, vec([[4, 0, 0x20, 0, 0x0b]])), // cb: local.get 0
  ]);
}
