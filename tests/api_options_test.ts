// new WasmBpfCommand(module, options): a module or option of the wrong type or range throws at
// once, naming it, whatever the isolation (no guest runs, no kernel needed).
import assert from "node:assert/strict";
import { WasmBpfCommand } from "../mod.ts";
import { readUntil } from "./helpers/stdout.ts";

const construct = (module: unknown, options: unknown) => () =>
  new WasmBpfCommand(module as string, options as Record<string, never>);

Deno.test("api: wrong option types and ranges throw at construction, naming the option", () => {
  const cases: [unknown, unknown, ErrorConstructor, RegExp][] = [
    ["", {}, TypeError, /^module: a path, a URL/],
    [null, {}, TypeError, /^module: /],
    [42, {}, TypeError, /^module: /],
    ["x.wasm", { args: "exit3" }, TypeError, /^options\.args: an array of strings$/],
    ["x.wasm", { args: ["a", 1] }, TypeError, /^options\.args: /],
    ["x.wasm", { env: { A: 1 } }, TypeError, /^options\.env: an object of strings$/],
    ["x.wasm", { stdout: "bogus" }, TypeError, /^options\.stdout: "inherit", "piped" or "null"/],
    ["x.wasm", { stdin: 0 }, TypeError, /^options\.stdin: /],
    ["x.wasm", { isolation: "bogus" }, TypeError, /^options\.isolation: "process" or "inline"/],
    ["x.wasm", { policy: { maxObjects: -1 } }, RangeError, /^options\.policy\.maxObjects: /],
    ["x.wasm", { policy: { maxObjects: 1.5 } }, RangeError, /^options\.policy\.maxObjects: /],
    ["x.wasm", { policy: { maxMemoryMiB: "big" } }, RangeError, /^options\.policy\.maxMemoryMiB/],
    ["x.wasm", { policy: { maxMemoryMiB: 0 } }, RangeError, /^options\.policy\.maxMemoryMiB: /],
  ];
  for (const [module, options, type, message] of cases) {
    for (const isolation of ["process", "inline"]) {
      const o = typeof options === "object" && options !== null && !("isolation" in options)
        ? { ...options, isolation }
        : options;
      assert.throws(construct(module, o), (e: unknown) => {
        assert.ok(e instanceof type, `${JSON.stringify(o)}: ${e}`);
        assert.match((e as Error).message, message);
        return true;
      });
    }
  }
  // The edges of what is allowed are allowed.
  for (
    const options of [
      { args: [], env: {}, stdin: "null", stdout: "piped", stderr: "inherit" },
      { policy: { maxObjects: 0, maxMemoryMiB: 4096 } },
      { isolation: "inline", policy: { maxObjects: 1_000_000, maxMemoryMiB: 1 } },
    ]
  ) {
    construct("x.wasm", options)();
  }
  construct(new URL("file:///x.wasm"), {})();
  construct(new Uint8Array(8), {})();
});

Deno.test("api: kill() with an unknown signal throws, and the guest runs on until a real one", async () => {
  for (const isolation of ["process", "inline"] as const) {
    const child = new WasmBpfCommand(new URL("./guests/api/tick.wasm", import.meta.url), {
      args: ["20"],
      isolation,
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      await readUntil(child.stdout, "tick 0\n");
      assert.throws(
        () => child.kill("SIGBOGUS" as Deno.Signal),
        /^TypeError: kill: unknown signal SIGBOGUS$/,
      );
      // still running: it keeps ticking
      await readUntil(child.stdout, /tick [1-9]\d*\n/);
    } finally {
      child.kill("SIGTERM");
    }
    const status = await child.status;
    assert.equal(status.code, 143, isolation);
    await child.stdout.cancel().catch(() => {});
  }
});
