/**
 * Runs a WASI command module under one implementation, with real stdio, and exits with the
 * guest's status. Used by tests/wasi_diff_test.ts (one subprocess per side).
 *
 *   deno run -A tests/guests/wasi/run_under.ts ours|node '<json config>'
 *
 * config: { wasm: string, args: string[], env: Record<string,string>,
 *           preopens: Record<guestPath, hostPath> }
 */

import { ProcExit, WasiPreview1 } from "../../../src/wasi/mod.ts";
import type { BlockingGate, InputSource, OutputSink } from "../../../src/wasi/host_hooks.ts";

interface Config {
  wasm: string;
  args: string[];
  env: Record<string, string>;
  preopens: Record<string, string>;
}

const [mode, json] = Deno.args;
const cfg = JSON.parse(json) as Config;
const module = await WebAssembly.compile(await Deno.readFile(cfg.wasm));

function sink(w: { writeSync(b: Uint8Array): number; isTerminal(): boolean }): OutputSink {
  return {
    isTerminal: w.isTerminal(),
    write(bytes) {
      let off = 0;
      while (off < bytes.byteLength) off += w.writeSync(bytes.subarray(off));
    },
  };
}

async function runOurs(): Promise<number> {
  const stdin: InputSource = {
    isTerminal: Deno.stdin.isTerminal(),
    read: (buf) => Deno.stdin.read(buf),
  };
  const gate: BlockingGate = {
    stopping: false,
    checkpoint() {},
    sleep: (ms) => new Promise((r) => setTimeout(() => r(false), ms)),
    race: async (p) => ({ value: await p }),
  };
  const wasi = new WasiPreview1({
    args: cfg.args,
    env: cfg.env,
    preopens: Object.entries(cfg.preopens).map(([guestPath, hostPath]) => ({
      guestPath,
      hostPath,
    })),
    stdin,
    stdout: sink(Deno.stdout),
    stderr: sink(Deno.stderr),
    gate,
  });
  const instance = await WebAssembly.instantiate(module, {
    wasi_snapshot_preview1: wasi.imports as WebAssembly.ModuleImports,
  });
  wasi.bindMemory(instance.exports.memory as WebAssembly.Memory);
  // deno-lint-ignore no-explicit-any
  const promising = (WebAssembly as any).promising as (f: unknown) => () => Promise<unknown>;
  try {
    await promising(instance.exports._start)();
    return 0;
  } catch (e) {
    if (e instanceof ProcExit) return e.code;
    throw e;
  } finally {
    wasi.close();
  }
}

async function runNode(): Promise<number> {
  const process = (await import("node:process")).default;
  const emit = process.emitWarning;
  // deno-lint-ignore no-explicit-any
  (process as any).emitWarning = (w: unknown, ...rest: unknown[]) => {
    if (String(w).includes("WASI")) return;
    // deno-lint-ignore no-explicit-any
    return (emit as any).call(process, w, ...rest);
  };
  const { WASI } = await import("node:wasi");
  const wasi = new WASI({
    version: "preview1",
    args: cfg.args,
    env: cfg.env,
    preopens: cfg.preopens,
    returnOnExit: true,
  });
  const instance = await WebAssembly.instantiate(module, {
    wasi_snapshot_preview1: wasi.wasiImport as WebAssembly.ModuleImports,
  });
  return wasi.start(instance);
}

const code = mode === "ours" ? await runOurs() : mode === "node" ? await runNode() : -1;
if (code === -1) throw new Error(`usage: run_under.ts ours|node '<json>'`);
Deno.exit(code);
