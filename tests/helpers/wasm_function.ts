/** Test helpers built with the shared wasm writer (src/format/wasm.ts). */

import { name, section, vec, wasmModule } from "../../src/format/wasm.ts";

/** A JSPI-suspending import seen as a wasm function (a guest callback is one): a module that
 * imports `(i32, i32, i32) -> i32` and exports it again. */
export function asWasmFunction(imported: WebAssembly.ImportValue): unknown {
  const i32 = [0x7f];
  const bytes = wasmModule([
    section(1, vec([[0x60, ...vec([i32, i32, i32]), ...vec([i32])]])), // type (i32, i32, i32) -> i32
    section(2, vec([[...name("m"), ...name("f"), 0, 0]])), // import "m" "f" (func, type 0)
    section(7, vec([[...name("f"), 0, 0]])), // export "f" (func 0)
  ]);
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { f: imported } }).exports.f;
}
