/**
 * A guest module before it runs: compiled with clear errors for what is not WebAssembly, and
 * checked for the shape of a WASI command whose imports this host provides.
 */

import { WASM_BPF_FUNCTIONS, WASM_BPF_MODULE } from "./imports/mod.ts";
import { capMemory, MemoryLimitError, mibToPages } from "./memory_limit.ts";
import { DEFAULT_MAX_MEMORY_MIB } from "./policy.ts";

export const WASI_MODULE = "wasi_snapshot_preview1";

/** The module cannot run here: not wasm, not a WASI command, or it needs imports we lack. */
export class GuestModuleError extends Error {
  /** An error whose message says, for a user, what is wrong with the module. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GuestModuleError";
  }
}

/** The largest module file we compile: 64 MiB, far above any real guest (most are under
 * 1 MiB), and small enough that compiling it cannot take the host down. */
export const MAX_MODULE_BYTES = 64 * 1024 * 1024;

/** Throws a GuestModuleError when a module of `size` bytes is over `limit` (by default
 * {@link MAX_MODULE_BYTES}); call it on the file's size before reading the file, and on the
 * bytes read so far while reading it. */
export function checkModuleSize(size: number, limit = MAX_MODULE_BYTES): void {
  if (size > limit) {
    throw new GuestModuleError(
      `the module is ${(size / 1024 / 1024).toFixed(1)} MiB, over the ` +
        `${limit / 1024 / 1024} MiB this host accepts`,
    );
  }
}

/** Options of {@link compileGuest}. */
export interface CompileGuestOptions {
  /** Cap on the guest's linear memory, in MiB (default 1024): written into the module as its
   * memory's maximum, so growing past it fails inside the guest (malloc returns NULL). */
  maxMemoryMiB?: number;
}

/** Compiles module bytes, with a clear message for what is not a WebAssembly module, after
 * capping its memory (see memory_limit.ts). */
export async function compileGuest(
  bytes: Uint8Array<ArrayBuffer>,
  options: CompileGuestOptions = {},
): Promise<WebAssembly.Module> {
  if (bytes.length === 0) throw new GuestModuleError("the module file is empty");
  checkModuleSize(bytes.length);
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73) {
    throw new GuestModuleError("not a WebAssembly module (no \\0asm header)");
  }
  let capped: Uint8Array<ArrayBuffer>;
  try {
    capped = capMemory(bytes, mibToPages(options.maxMemoryMiB ?? DEFAULT_MAX_MEMORY_MIB)).bytes;
  } catch (e) {
    if (!(e instanceof MemoryLimitError)) throw e;
    // A parse failure means a malformed module; say it as the compiler would.
    const what = e.overCap ? "" : "invalid WebAssembly module: ";
    throw new GuestModuleError(`${what}${e.message}`, { cause: e });
  }
  try {
    return await WebAssembly.compile(capped);
  } catch (e) {
    throw new GuestModuleError(`invalid WebAssembly module: ${(e as Error).message}`, { cause: e });
  }
}

/** Checks exports and imports before instantiation, so that errors name what is wrong. */
export function checkGuestShape(
  module: WebAssembly.Module,
  wasiNames: ReadonlySet<string>,
  wrapperModule: string,
  extraImports: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {},
): void {
  const exports = WebAssembly.Module.exports(module);
  const start = exports.find((e) => e.name === "_start");
  if (!start || start.kind !== "function") {
    throw new GuestModuleError(
      "the module exports no _start function: it is not a WASI command module " +
        "(build it with clang --target=wasm32-wasi and a main function)",
    );
  }
  const memory = exports.find((e) => e.name === "memory");
  if (!memory || memory.kind !== "memory") {
    throw new GuestModuleError('the module exports no memory named "memory"');
  }
  const bpfNames: ReadonlySet<string> = new Set(WASM_BPF_FUNCTIONS);
  const unknown = WebAssembly.Module.imports(module).filter((imp) => {
    if (imp.kind !== "function") return true;
    if (imp.module === WASI_MODULE) return !wasiNames.has(imp.name);
    if (imp.module === WASM_BPF_MODULE) return !bpfNames.has(imp.name);
    if (imp.module === wrapperModule) return imp.name !== "wasm_bpf_buffer_poll";
    if (Object.hasOwn(extraImports, imp.module)) {
      return typeof extraImports[imp.module][imp.name] !== "function";
    }
    return true;
  });
  if (unknown.length > 0) {
    const names = unknown.map((i) => `${i.module}.${i.name} (${i.kind})`).join(", ");
    throw new GuestModuleError(`the module imports what this host does not provide: ${names}`);
  }
}
