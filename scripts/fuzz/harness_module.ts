// The tiny wasm module whose instance stands in for a guest: it exports a memory, the function
// table and one callback, `cb(ctx, data, size) = ctx`, at table index 1 (the index a guest's
// poll passes for its record callback). Hand-assembled, so that the fuzzer needs no toolchain.

/** The module's bytes: memory of `initialPages` pages (at most `maxPages`), table [_, cb]. */
export function harnessModuleBytes(
  initialPages: number,
  maxPages: number,
): Uint8Array<ArrayBuffer> {
  const name = (s: string) => [s.length, ...new TextEncoder().encode(s)];
  const section = (id: number, body: number[]) => [id, body.length, ...body];
  const exports = [
    3,
    ...name("memory"),
    2,
    0,
    ...name("__indirect_function_table"),
    1,
    0,
    ...name("cb"),
    0,
    0,
  ];
  return new Uint8Array([
    0,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f]), // (i32, i32, i32) -> i32
    ...section(3, [1, 0]),
    ...section(4, [1, 0x70, 0, 2]), // funcref table, 2 entries
    ...section(5, [1, 1, initialPages, maxPages]),
    ...section(7, exports),
    ...section(9, [1, 0, 0x41, 1, 0x0b, 1, 0]), // table[1] = cb
    ...section(10, [1, 4, 0, 0x20, 0, 0x0b]), // cb: local.get 0
  ]);
}
