/**
 * Running one guest module to the end: check its shape, link it against WASI and `wasm_bpf`,
 * call `_start` under JSPI, map however it ended to an exit status, and release every kernel
 * object it held, whatever way it ended.
 */

import { promising, suspending } from "../ffi/jspi.ts";
import { ProcExit, type WasiOptions, WasiPreview1 } from "../wasi/mod.ts";
import { HostContext, type HostLog } from "../bpf/context.ts";
import { GuestMemory } from "../bpf/guest_memory.ts";
import { makeBpfImports } from "../bpf/imports/mod.ts";
import { DEFAULT_CALLBACK_EXPORT, DEFAULT_WRAPPER_MODULE } from "../guest/import_signatures.ts";
import {
  checkGuestShape,
  GuestModuleError,
  guestTableIsFixed,
  WASI_MODULE,
} from "../guest/guest_module.ts";
import type { GuestPolicy } from "../guest/policy.ts";
import { exitCodeForStop, GuestStopped, type RunStop, type StopReason } from "../guest/stop.ts";

/** How to run one guest: the environment, preopens and stdio go to its WASI as they are. */
export interface GuestRunOptions
  extends Pick<WasiOptions, "env" | "preopens" | "stdin" | "stdout" | "stderr"> {
  module: WebAssembly.Module;
  /** argv[0] as the guest sees it: the module path as given. */
  argv0: string;
  /** The arguments after argv[0]. */
  args: string[];
  stop: RunStop;
  log: HostLog;
  wrapperModuleName?: string;
  callbackExportName?: string;
  /** More import modules for the guest: `{ module: { name: fn } }`. */
  extraImports?: HostImports;
  /** What the guest may do (program types, attach targets, map writes, ...); all by default. */
  policy?: GuestPolicy;
}

export interface GuestRunResult {
  /** The exit status: the guest's code, 128+signal after a stop, 1 after a trap. */
  code: number;
  /** Set when the run was stopped (Ctrl-C, SIGTERM, kill()). */
  stopped?: StopReason;
  /** Set when the guest trapped: the trap's message. */
  trap?: string;
}

/** Host functions a script gives the guest, by import module and name. They may return a
 * Promise: the guest then waits for it. */
// deno-lint-ignore no-explicit-any
export type HostImports = Record<string, Record<string, (...args: any[]) => unknown>>;

/** Runs the guest to the end. Host-side failures before the guest starts throw
 * GuestModuleError; everything after is reported in the result. */
export async function runGuest(opts: GuestRunOptions): Promise<GuestRunResult> {
  const wrapperModule = opts.wrapperModuleName ?? DEFAULT_WRAPPER_MODULE;
  const wasi = new WasiPreview1({
    args: [opts.argv0, ...opts.args],
    env: opts.env ?? {},
    preopens: opts.preopens ?? [],
    stdin: opts.stdin,
    stdout: opts.stdout,
    stderr: opts.stderr,
    gate: opts.stop,
  });
  const extra = opts.extraImports ?? {};
  const callbackExport = opts.callbackExportName ?? DEFAULT_CALLBACK_EXPORT;
  try {
    checkGuestShape(
      opts.module,
      new Set(Object.keys(wasi.imports)),
      wrapperModule,
      extra,
      callbackExport,
    );
  } catch (e) {
    wasi.close(); // the preopens are host fds
    throw e;
  }

  const ctx = new HostContext(opts.stop, opts.log, opts.policy ?? {});
  ctx.preopenedDirFd = (guestFd) => wasi.preopenedDirFd(guestFd);
  ctx.tableFixed = () => guestTableIsFixed(opts.module);
  const imports: WebAssembly.Imports = {
    ...wrapExtraImports(extra, opts.stop),
    [WASI_MODULE]: wasi.imports as WebAssembly.ModuleImports,
    ...makeBpfImports(ctx, {
      wrapperModule,
      callbackExport,
    }),
  };
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(opts.module, imports);
  } catch (e) {
    wasi.close();
    throw new GuestModuleError(`cannot instantiate the module: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const memory = instance.exports.memory as WebAssembly.Memory;
  wasi.bindMemory(memory);
  ctx.bind(new GuestMemory(memory), instance.exports);

  let result: GuestRunResult;
  try {
    await promising(instance.exports._start)();
    result = { code: 0 };
  } catch (e) {
    result = outcomeOf(e);
  } finally {
    await ctx.objects.closeAll();
    wasi.close();
    opts.stop.close();
    ctx.log.summarize();
  }
  if (opts.stop.reason) {
    return { ...result, code: exitCodeForStop(opts.stop.reason), stopped: opts.stop.reason };
  }
  return result;
}

/** A script's own host functions, for the guest's extra import modules. Each may be async (it
 * is JSPI-suspending: the guest waits for its promise) and ends the guest once it is stopped. */
function wrapExtraImports(extra: HostImports, stop: RunStop): WebAssembly.Imports {
  const imports: WebAssembly.Imports = {};
  for (const [moduleName, functions] of Object.entries(extra)) {
    const wrapped: WebAssembly.ModuleImports = {};
    for (const [name, fn] of Object.entries(functions)) {
      wrapped[name] = suspending((...args: unknown[]) => {
        stop.checkpoint();
        const result = fn(...args);
        if (!(result instanceof Promise)) return result;
        // A stop must not wait for a host function that may never settle.
        return stop.race(result).then((r) => {
          if (r === "stopped") throw new GuestStopped(stop.reason ?? "kill");
          return r.value;
        });
      });
    }
    imports[moduleName] = wrapped;
  }
  return imports;
}

function outcomeOf(e: unknown): GuestRunResult {
  // exit(-1) arrives as the u32 4294967295; a process status keeps the low 8 bits, as POSIX does.
  if (e instanceof ProcExit) return { code: e.code & 0xff };
  if (e instanceof GuestStopped) return { code: exitCodeForStop(e.reason), stopped: e.reason };
  if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) {
    return { code: 1, trap: `${e.message}${wasmFrames(e)}` };
  }
  throw e;
}

/** The wasm frames of a trap's stack, which name the guest functions when it has a name
 * section. */
function wasmFrames(e: Error): string {
  const frames = (e.stack ?? "").split("\n").filter((l) => l.includes("wasm://")).slice(0, 8);
  return frames.length ? `\n${frames.join("\n")}` : "";
}
