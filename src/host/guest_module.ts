/**
 * A guest module before it runs: compiled with clear errors for what is not WebAssembly, and
 * checked for the shape of a WASI command whose imports this host provides.
 */

import { WASM_BPF_FUNCTIONS, WASM_BPF_MODULE } from "./imports/mod.ts";

export const WASI_MODULE = "wasi_snapshot_preview1";

/** The module cannot run here: not wasm, not a WASI command, or it needs imports we lack. */
export class GuestModuleError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GuestModuleError";
  }
}

/** Compiles module bytes, with a clear message for what is not a WebAssembly module. */
export async function compileGuest(bytes: Uint8Array<ArrayBuffer>): Promise<WebAssembly.Module> {
  if (bytes.length === 0) throw new GuestModuleError("the module file is empty");
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73) {
    throw new GuestModuleError("not a WebAssembly module (no \\0asm header)");
  }
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw new GuestModuleError(`invalid WebAssembly module: ${(e as Error).message}`, { cause: e });
  }
}

/** Checks exports and imports before instantiation, so that errors name what is wrong. */
export function checkGuestShape(
  module: WebAssembly.Module,
  wasiNames: ReadonlySet<string>,
  wrapperModule: string,
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
    return true;
  });
  if (unknown.length > 0) {
    const names = unknown.map((i) => `${i.module}.${i.name} (${i.kind})`).join(", ");
    throw new GuestModuleError(`the module imports what this host does not provide: ${names}`);
  }
}
