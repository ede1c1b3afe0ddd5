// Reading a module file (src/guest/module_source.ts): only a regular file, never more than the
// 64 MiB cap whatever stat says, and a FIFO with no writer is refused at once, not waited on.
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import { GuestModuleError, WasmBpfCommand } from "../mod.ts";
import { readAtMost } from "../src/guest/module_source.ts";
import { describeRun, runCli } from "./helpers/kernel.ts";

const tmp = await Deno.makeTempDir({ prefix: "wasm-bpf-modfile-" });
const fifo = `${tmp}/guest.wasm`;
const made = new Deno.Command("mkfifo", { args: [fifo] }).outputSync();
assert.ok(made.success, "mkfifo");

const special: [string, string, RegExp][] = [
  ["/dev/zero", "/dev/zero", /\/dev\/zero: is a character device, not a regular file/],
  ["a FIFO with no writer", fifo, /guest\.wasm: is a FIFO \(named pipe\), not a regular file/],
];

for (const [what, path, message] of special) {
  Deno.test(`module file: ${what} is refused at once (CLI: status 1, one line)`, async () => {
    // Before the fix, /dev/zero was read until memory ran out and the FIFO's open never
    // returned: the deadline ends both.
    const r = await runCli([path], { timeoutMs: 15_000 });
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, message, describeRun(r));
    assert.equal(r.stderr.trim().split("\n").length, 1, describeRun(r));
  });

  Deno.test(`module file: ${what} is refused by the library, inline and in a process`, async () => {
    await assert.rejects(
      () => new WasmBpfCommand(path, { isolation: "inline" }).output(),
      (e: Error) => e instanceof GuestModuleError && message.test(`${path}: ${e.message}`),
    );
    const out = await new WasmBpfCommand(path, { isolation: "process" }).output();
    assert.equal(out.code, 1);
    assert.match(new TextDecoder().decode(out.stderr), message);
  });
}

function readerOf(file: fs.FileHandle): (buf: Uint8Array) => Promise<number> {
  return async (buf) => (await file.read(buf, 0, buf.length, null)).bytesRead;
}

Deno.test("module file: the size cap holds while reading, not only in stat", async () => {
  const path = `${tmp}/grown.wasm`;
  await Deno.writeFile(path, new Uint8Array((1 << 20) + 1));
  const file = await fs.open(path);
  try {
    await assert.rejects(
      () => readAtMost(readerOf(file), 1 << 20),
      (e: Error) =>
        e instanceof GuestModuleError && /over the 1 MiB this host accepts/.test(e.message),
    );
  } finally {
    await file.close();
  }
  const small = await fs.open(path);
  try {
    assert.equal((await readAtMost(readerOf(small), 2 << 20)).length, (1 << 20) + 1);
  } finally {
    await small.close();
  }
  // A file that grew past the size stat gave (the first buffer holds that size and a byte):
  // read on, in full and in order.
  await Deno.writeFile(path, Uint8Array.from({ length: 300_000 }, (_, i) => i % 251));
  const grown = await fs.open(path);
  try {
    const bytes = await readAtMost(readerOf(grown), 2 << 20, 10);
    assert.equal(bytes.length, 300_000);
    assert.ok(bytes.every((b, i) => b === i % 251));
  } finally {
    await small.close();
  }
});
