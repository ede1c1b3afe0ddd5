// Module intake (src/guest/guest_module.ts, wasm_layout.ts, memory_limit.ts): --max-memory bounds
// the whole guest (every memory and table), proposals no wasm-bpf toolchain emits are refused
// unless allowed, shared memories are refused, and a host import with the wrong type is refused
// at link time, naming both types. Hostile modules are written byte by byte.
import assert from "node:assert/strict";
import { GuestModuleError, WasmBpfCommand } from "../mod.ts";
import { checkGuestShape, compileGuest } from "../src/guest/guest_module.ts";
import { WASI_SIGNATURES, WASM_BPF_SIGNATURES } from "../src/guest/import_signatures.ts";
import { WASM_BPF_FUNCTIONS } from "../src/guest/import_signatures.ts";
import { capGuest, TABLE_ELEMENT_BYTES, WASM_PAGE } from "../src/guest/memory_limit.ts";
import { name, section, sleb, uleb, vec, wasmModule } from "../src/format/wasm.ts";
import { OPTIONAL_WASM_FEATURES, readLayout } from "../src/guest/wasm_layout.ts";
import { USAGE } from "../src/cli/usage.ts";
import { WasiPreview1 } from "../src/wasi/mod.ts";
import { assertClean, describeRun, runCli } from "./helpers/kernel.ts";

const I32 = 0x7f;
const I64 = 0x7e;
const FUNCREF = 0x70;
const END = 0x0b;
const tmp = await Deno.makeTempDir({ prefix: "wasm-bpf-intake-" });

/** A function type. */
function func(params: number[], results: number[] = []): number[] {
  return [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))];
}

interface Parts {
  /** Types after the first two: 0 `() -> ()`, 1 `(i32) -> ()`. */
  types?: number[][];
  /** Imports: [module, name, kind and description bytes]. */
  imports?: [string, string, number[]][];
  tables?: number[][];
  /** Memories the module defines (limits bytes); memory 0 is exported as "memory". */
  memories?: number[][];
  /** Body of _start, without locals and `end`. */
  start?: number[];
  /** More exports: [name, kind, index]. */
  exports?: [string, number, number][];
  /** Tags (exception handling), of type 0. */
  tags?: number;
  /** Element segments. */
  elements?: number[][];
}

/** A WASI command: `_start` (which runs `start`), memory 0 exported as "memory". */
function command(p: Parts): Uint8Array<ArrayBuffer> {
  const imports = p.imports ?? [];
  const importedFuncs = imports.filter(([, , d]) => d[0] === 0).length;
  const exports: [string, number, number][] = [
    ["memory", 2, 0],
    ["_start", 0, importedFuncs],
    ...(p.exports ?? []),
  ];
  const body = [0, ...(p.start ?? []), END];
  return wasmModule([
    section(1, vec([func([]), func([I32]), ...(p.types ?? [])])),
    section(2, vec(imports.map(([m, n, d]) => [...name(m), ...name(n), ...d]))),
    section(3, vec([uleb(0)])),
    ...(p.tables ? [section(4, vec(p.tables))] : []),
    ...(p.memories ? [section(5, vec(p.memories))] : []),
    ...(p.tags ? [section(13, vec(Array(p.tags).fill([0, 0])))] : []),
    section(7, vec(exports.map(([n, k, i]) => [...name(n), k, ...uleb(i)]))),
    ...(p.elements ? [section(9, vec(p.elements))] : []),
    section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

const PROC_EXIT: [string, string, number[]] = ["wasi_snapshot_preview1", "proc_exit", [0, 1]];

/** Limits bytes: initial only, or initial and maximum. */
function limits(initial: number, maximum?: number, flags = 0): number[] {
  return maximum === undefined
    ? [flags, ...uleb(initial)]
    : [flags | 1, ...uleb(initial), ...uleb(maximum)];
}

function write(file: string, bytes: Uint8Array): string {
  const path = `${tmp}/${file}`;
  Deno.writeFileSync(path, bytes);
  return path;
}

// --- the whole guest under --max-memory -------------------------------------------------------

/** 8 memories of 1 page; `_start` grows each by 1000 pages (62.5 MiB) and exits with 10 + the
 * number of grows that succeeded. */
const eightMemories = command({
  imports: [PROC_EXIT],
  memories: Array.from({ length: 8 }, () => limits(1)),
  start: [
    0x41,
    ...sleb(10),
    ...Array.from({ length: 8 }, (_, i) => [
      0x41,
      ...sleb(1000),
      0x40, // memory.grow i
      ...uleb(i),
      0x41,
      ...sleb(-1),
      0x47, // i32.ne
      0x6a, // i32.add
    ]).flat(),
    0x10, // call proc_exit
    0,
  ],
});

Deno.test("intake: 8 memories are refused, naming multi-memory and its flag", async () => {
  // Before: each memory was capped alone, and all 8 grew to 62.5 MiB (status 18).
  const path = write("eight-memories.wasm", eightMemories);
  const r = await runCli(["--max-memory=64", path]);
  assert.equal(r.code, 1, describeRun(r));
  assert.match(
    r.stderr,
    /eight-memories\.wasm: the module uses multiple memories: 8 memories; no wasm-bpf guest needs it \(allow it with --allow-wasm-feature=multi-memory\)/,
  );
  assertClean(r.stderr);
});

Deno.test("intake: allowed, 8 memories share one --max-memory budget (CLI and library)", async () => {
  const path = write("eight-memories.wasm", eightMemories);
  const r = await runCli(["--max-memory=64", "--allow-wasm-feature=multi-memory", path]);
  assert.equal(r.code, 11, describeRun(r)); // only the first grow fits
  for (const isolation of ["inline", "process"] as const) {
    const out = await new WasmBpfCommand(eightMemories, {
      isolation,
      policy: { maxMemoryMiB: 64, allowWasmFeatures: ["multi-memory"] },
    }).output();
    assert.equal(out.code, 11, `${isolation}: ${new TextDecoder().decode(out.stderr)}`);
  }
  // The budget is what the module starts with, and the room left goes to the memories in order.
  const capped = capGuest(eightMemories, readLayout(eightMemories), 64);
  assert.equal(capped.memories[0].maximum, 1024 - 7);
  assert.deepEqual(capped.memories.slice(1).map((m) => m.maximum), Array(7).fill(1));
});

Deno.test("intake: 30 huge tables are refused before anything is allocated", async () => {
  const huge = command({
    tables: Array.from({ length: 30 }, () => [FUNCREF, ...limits(10_000_000)]),
    memories: [limits(1)],
  });
  const path = write("huge-tables.wasm", huge);
  const r = await runCli([path]);
  assert.equal(r.code, 1, describeRun(r));
  assert.match(
    r.stderr,
    /huge-tables\.wasm: its memories, tables and element segments take \d+\.\d+ MiB at the start, more than the 1024 MiB allowed \(--max-memory\)/,
  );
  assert.ok(r.ms < 10_000, describeRun(r));
  assertClean(r.stderr);
});

Deno.test("intake: passive element segments count against --max-memory", async () => {
  // 3 passive segments of 100,000 functions (elements V8 keeps for table.init), and one active
  // and one declarative segment, which it does not keep.
  const passive = [0x01, 0x00, ...uleb(100_000), ...new Array(100_000).fill(0)];
  const withSegments = command({
    tables: [[FUNCREF, ...limits(1, 1)]],
    memories: [limits(1)],
    elements: [
      passive,
      passive,
      passive,
      [0x00, 0x41, 0, END, ...vec([[0]])], // active, at offset 0 of table 0
      [0x03, 0x00, ...vec([[0]])], // declarative
    ],
  });
  assert.equal(readLayout(withSegments).passiveElements, 300_000n);
  await compileGuest(withSegments, { maxMemoryMiB: 10 }); // 300,000 × 32 bytes: 9.2 MiB
  await assert.rejects(
    () => compileGuest(withSegments, { maxMemoryMiB: 9 }),
    /its memories, tables and element segments take 9\.22 MiB at the start, more than the 9 MiB allowed/,
  );
});

Deno.test("intake: growable tables get the room the memories leave, and no more", async () => {
  const tables = command({
    tables: Array.from({ length: 30 }, () => [FUNCREF, ...limits(0)]),
    memories: [limits(1, 1)],
    exports: [["t0", 1, 0], ["t1", 1, 1]],
  });
  const capped = capGuest(tables, readLayout(tables), 16);
  const room = (16 * 1024 * 1024 - WASM_PAGE) / TABLE_ELEMENT_BYTES;
  assert.equal(capped.tables[0].maximum, room);
  assert.ok(capped.tables.slice(1).every((t) => t.maximum === 0));
  const module = await compileGuest(tables, { maxMemoryMiB: 16 });
  const { exports } = await WebAssembly.instantiate(module, {
    wasi_snapshot_preview1: { proc_exit() {} },
  });
  const t0 = exports.t0 as WebAssembly.Table;
  t0.grow(room);
  assert.throws(() => t0.grow(1), RangeError);
  assert.throws(() => (exports.t1 as WebAssembly.Table).grow(1), RangeError);
});

// --- proposals ----------------------------------------------------------------------------

const proposals: [string, string, Uint8Array<ArrayBuffer>, RegExp][] = [
  [
    "WasmGC array type",
    "gc",
    command({ types: [[0x5e, I32, 1]], memories: [limits(1)] }),
    /uses WasmGC: an array type \(type 2\)/,
  ],
  [
    "WasmGC reference type",
    "gc",
    command({ types: [func([0x6e])], memories: [limits(1)] }),
    /uses WasmGC: reference type anyref in the parameters of type 2/,
  ],
  [
    "exception handling",
    "exceptions",
    command({ memories: [limits(1)], tags: 1 }),
    /uses exception handling: a tag \(exception handling\)/,
  ],
  [
    "memory64",
    "memory64",
    command({ memories: [limits(1, undefined, 0x04)] }),
    /uses memory64: memory 0 has 64-bit limits/,
  ],
];

for (const [what, feature, bytes, message] of proposals) {
  Deno.test(`intake: ${what} is refused unless --allow-wasm-feature=${feature}`, async () => {
    await assert.rejects(
      () => compileGuest(bytes),
      (e: Error) =>
        e instanceof GuestModuleError && message.test(e.message) &&
        e.message.includes(`--allow-wasm-feature=${feature}`),
    );
    await compileGuest(bytes, { allowWasmFeatures: [feature] });
  });
}

Deno.test("intake: a WasmGC guest is refused by the CLI; the flag and its value are checked", async () => {
  const path = write("gc.wasm", proposals[0][2]);
  const r = await runCli([path]);
  assert.equal(r.code, 1, describeRun(r));
  assert.match(r.stderr, /gc\.wasm: the module uses WasmGC/);
  assertClean(r.stderr);
  const ok = await runCli(["--allow-wasm-feature=gc", path]);
  assert.equal(ok.code, 0, describeRun(ok));
  const bad = await runCli(["--allow-wasm-feature=gc,threads", path]);
  assert.equal(bad.code, 2, describeRun(bad));
  assert.match(bad.stderr, /--allow-wasm-feature: unknown feature "threads"/);
  for (const feature of OPTIONAL_WASM_FEATURES) assert.match(USAGE, new RegExp(feature));
  await assert.rejects(
    () => compileGuest(proposals[0][2], { allowWasmFeatures: ["nope"] }),
    /unknown wasm feature "nope"/,
  );
});

Deno.test("intake: what real toolchains emit is allowed (multi-value, bulk memory, SIMD, tables)", async () => {
  const V128 = 0x7b;
  const bytes = command({
    types: [func([I32, I64], [I32, I64]), func([V128], [V128])],
    tables: [[FUNCREF, ...limits(3, 3)], [0x6f, ...limits(1)]],
    memories: [limits(2)],
    start: [0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 0x0b, 0], // memory.fill
  });
  await compileGuest(bytes);
});

// --- shared memories --------------------------------------------------------------------------

Deno.test("intake: a shared memory is refused, defined or imported, whatever is allowed", async () => {
  const defined = command({ memories: [limits(1, 2, 0x02)] });
  const imported = command({ imports: [["env", "memory", [2, ...limits(1, 2, 0x02)]]] });
  for (
    const [file, bytes, where] of [
      ["shared.wasm", defined, "memory 0 is shared"],
      ["shared-import.wasm", imported, "import env.memory is shared"],
    ] as const
  ) {
    const path = write(file, bytes);
    const r = await runCli(["--allow-wasm-feature=gc,exceptions,memory64,multi-memory", path]);
    assert.equal(r.code, 1, describeRun(r));
    assert.ok(
      r.stderr.includes(`${file}: the module uses a shared memory (threads): ${where}`),
      describeRun(r),
    );
    assertClean(r.stderr);
  }
});

// --- import types -----------------------------------------------------------------------------

Deno.test("intake: every host import has a known type", () => {
  for (const name of WASM_BPF_FUNCTIONS) assert.ok(WASM_BPF_SIGNATURES[name], name);
  const wasi = new WasiPreview1(
    {
      args: [],
      env: {},
      preopens: [],
      stdin: { read: () => Promise.resolve(null) },
      stdout: { write() {} },
      stderr: { write() {} },
    } as unknown as ConstructorParameters<typeof WasiPreview1>[0],
  );
  for (const name of Object.keys(wasi.imports)) assert.ok(WASI_SIGNATURES[name], name);
});

const wrongTypes: [string, [string, string, number[]], string[], RegExp][] = [
  [
    "wasm_load_bpf_object",
    ["wasm_bpf", "wasm_load_bpf_object", [0, 2]],
    [],
    /import wasm_bpf\.wasm_load_bpf_object has type \(i32\) -> i64, expected \(i32, i32\) -> i64/,
  ],
  [
    "fd_write",
    ["wasi_snapshot_preview1", "fd_write", [0, 3]],
    [],
    /import wasi_snapshot_preview1\.fd_write has type \(i32, i32, i32\) -> \(\), expected \(i32, i32, i32, i32\) -> i32/,
  ],
  [
    "the TinyGo wrapper's poll, under its configured name",
    ["my-wrapper", "wasm_bpf_buffer_poll", [0, 4]],
    ["-m", "my-wrapper"],
    /import my-wrapper\.wasm_bpf_buffer_poll has type \(i64, i32, i32, i32, i32, i32, i32\) -> i32, expected \(i64, i32, i32, i32, i32, i32\) -> i32/,
  ],
];

for (const [what, imp, flags, message] of wrongTypes) {
  Deno.test(`intake: ${what} imported with the wrong type is refused at link time`, async () => {
    // Before: it linked, and the run went on (the first call failed with a TypeError).
    const bytes = command({
      types: [
        func([I32], [I64]),
        func([I32, I32, I32]),
        func([I64, I32, I32, I32, I32, I32, I32], [I32]),
      ],
      imports: [imp],
      memories: [limits(1)],
    });
    const path = write(`wrong-${imp[1]}.wasm`, bytes);
    const r = await runCli([...flags, path]);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, message, describeRun(r));
    assertClean(r.stderr);
  });
}

Deno.test("intake: _start and the TinyGo callback exported with the wrong type are refused", async () => {
  // Before: `_start (param i64)` ended in "internal error: TypeError" (no BigInt for it).
  const start = wasmModule([
    section(1, vec([func([I64])])),
    section(3, vec([uleb(0)])),
    section(5, vec([limits(1)])),
    section(7, vec([[...name("memory"), 2, 0], [...name("_start"), 0, 0]])),
    section(10, vec([[2, 0, END]])),
  ]);
  const r = await runCli([write("start-i64.wasm", start)]);
  assert.equal(r.code, 1, describeRun(r));
  assert.match(r.stderr, /export _start has type \(i64\) -> \(\), expected \(\) -> \(\)/);
  assertClean(r.stderr);

  // A TinyGo guest: the wrapper's poll, and a callback (i32) -> () exported as "cb".
  const tinygo = command({
    types: [func([I64, I32, I32, I32, I32, I32], [I32])],
    imports: [["callback-wrapper", "wasm_bpf_buffer_poll", [0, 2]]],
    memories: [limits(1)],
    exports: [["cb", 0, 1]], // _start itself, of type () -> ()
  });
  const path = write("tinygo-callback.wasm", tinygo);
  const wrong = await runCli(["-c", "cb", path]);
  assert.equal(wrong.code, 1, describeRun(wrong));
  assert.match(wrong.stderr, /export cb has type \(\) -> \(\), expected \(i32, i32, i32\) -> i32/);
  // Under the default callback name, "cb" is just another export.
  const ok = await runCli([path]);
  assert.equal(ok.code, 0, describeRun(ok));
});

Deno.test("intake: the right types link; an unknown import is still named as before", async () => {
  const right = command({
    types: [func([I32, I32, I32, I32], [I32])],
    imports: [PROC_EXIT, ["wasi_snapshot_preview1", "fd_write", [0, 2]]],
    memories: [limits(1)],
  });
  const module = await compileGuest(right);
  checkGuestShape(module, new Set(Object.keys(WASI_SIGNATURES)), "callback-wrapper");
  const unknown = command({
    imports: [["wasi_snapshot_preview1", "fd_frobnicate", [0, 0]]],
    memories: [limits(1)],
  });
  assert.throws(
    () =>
      checkGuestShape(
        new WebAssembly.Module(unknown),
        new Set(Object.keys(WASI_SIGNATURES)),
        "callback-wrapper",
      ),
    /imports what this host does not provide: wasi_snapshot_preview1\.fd_frobnicate \(function\)/,
  );
});

// --- precompiled modules ------------------------------------------------------------------------

Deno.test("intake: a compiled WebAssembly.Module cannot be capped: refused when a cap is asked", async () => {
  const bytes = command({ imports: [PROC_EXIT], memories: [limits(1)] });
  const module = new WebAssembly.Module(bytes);
  await assert.rejects(
    () => new WasmBpfCommand(module, { isolation: "inline", policy: { maxMemoryMiB: 8 } }).output(),
    (e: Error) =>
      e instanceof TypeError && /cannot cap a compiled WebAssembly\.Module/.test(e.message),
  );
  const out = await new WasmBpfCommand(module, { isolation: "inline" }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
});

// --- malformed modules ----------------------------------------------------------------------------

Deno.test("intake: mutated real guests are compiled or refused with a GuestModuleError, never more", async () => {
  const base = Deno.readFileSync(new URL("./guests/api/exitcode.wasm", import.meta.url));
  // The front of the module: types, imports, functions, tables, memories, globals, exports.
  const front = Math.min(base.length, 400);
  let seed = 14;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  let compiled = 0;
  for (let i = 0; i < 3000; i++) {
    const bytes = base.slice();
    for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
      bytes[8 + Math.floor(random() * (front - 8))] = Math.floor(random() * 256);
    }
    try {
      await compileGuest(bytes, { maxMemoryMiB: 16 });
      compiled++;
      // What was compiled has a maximum for every memory and table, all within the cap.
      const capped = readLayout(capGuest(bytes, readLayout(bytes), 16).bytes);
      let total = 0n;
      for (
        const [entries, unit] of [
          [capped.memorySection?.entries ?? [], BigInt(WASM_PAGE)],
          [capped.tableSection?.entries ?? [], BigInt(TABLE_ELEMENT_BYTES)],
        ] as const
      ) {
        for (const e of entries) {
          assert.ok(e.limits.maximum !== undefined, `mutant ${i}: no maximum`);
          total += e.limits.maximum * unit;
        }
      }
      assert.ok(total <= 16n << 20n, `mutant ${i}: ${total} bytes`);
    } catch (e) {
      assert.ok(e instanceof GuestModuleError, `mutant ${i}: ${(e as Error).stack}`);
    }
  }
  assert.ok(compiled > 100, `only ${compiled} mutants compiled: the test mutates too much`);
});
