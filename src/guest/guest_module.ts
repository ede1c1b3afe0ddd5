/**
 * A guest module before it runs: compiled with clear errors for what is not WebAssembly, and
 * checked for the shape of a WASI command whose imports this host provides.
 */

import { capGuest, MemoryLimitError } from "./memory_limit.ts";
import {
  CALLBACK_SIGNATURE,
  DEFAULT_CALLBACK_EXPORT,
  formatFuncType,
  sameFuncType,
  START_SIGNATURE,
  WASI_SIGNATURES,
  WASM_BPF_FUNCTIONS,
  WASM_BPF_MODULE,
  WASM_BPF_SIGNATURES,
  WRAPPER_POLL_SIGNATURE,
} from "./import_signatures.ts";
import { WasmFormatError } from "../format/wasm.ts";
import { mayWriteTables } from "../format/wasm_code.ts";
import {
  type FuncType,
  type ModuleLayout,
  OPTIONAL_WASM_FEATURES,
  type OptionalWasmFeature,
  readLayout,
} from "./wasm_layout.ts";
import { DEFAULT_MAX_MEMORY_MIB } from "./policy.ts";
import { MAX_MODULE_BYTES } from "../module_limit.ts";

export const WASI_MODULE = "wasi_snapshot_preview1";

/** The module cannot run here: not wasm, not a WASI command, or it needs imports we lack. */
export class GuestModuleError extends Error {
  /** An error whose message says, for a user, what is wrong with the module. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GuestModuleError";
  }
}

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
  /** Cap on all the guest's memories and tables together, in MiB (default 1024): written into
   * the module as their maximum sizes, so growing past it fails inside the guest (malloc
   * returns NULL). */
  maxMemoryMiB?: number;
  /** WebAssembly proposals the guest may use beyond those real toolchains emit (see
   * {@link OPTIONAL_WASM_FEATURES}); none by default. */
  allowWasmFeatures?: readonly string[];
}

/** The types of the imports and exported functions of each module compiled here: a compiled
 * module itself does not tell them. */
const signaturesOf = new WeakMap<WebAssembly.Module, Signatures>();
type Signatures = Pick<ModuleLayout, "imports" | "functionExports">;

/** Compiles module bytes, with a clear message for what is not a WebAssembly module, for a
 * proposal the guest may not use, and for memories and tables over the cap (which it writes
 * into the module, see memory_limit.ts). */
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
  let layout: ModuleLayout;
  try {
    layout = readLayout(bytes);
    checkFeatures(layout, options.allowWasmFeatures ?? []);
    capped = capGuest(bytes, layout, options.maxMemoryMiB ?? DEFAULT_MAX_MEMORY_MIB).bytes;
  } catch (e) {
    // A format error means a malformed module; say it as the compiler would.
    if (e instanceof WasmFormatError) {
      throw new GuestModuleError(`invalid WebAssembly module: ${e.message}`, { cause: e });
    }
    if (e instanceof MemoryLimitError) throw new GuestModuleError(e.message, { cause: e });
    throw e;
  }
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(capped);
  } catch (e) {
    throw new GuestModuleError(`invalid WebAssembly module: ${(e as Error).message}`, { cause: e });
  }
  signaturesOf.set(module, { imports: layout.imports, functionExports: layout.functionExports });
  if (layout.imports.some((i) => i.name === "wasm_bpf_buffer_poll")) {
    let fixed: boolean | undefined;
    tableFixedOf.set(module, () => fixed ??= !mayWriteTables(bytes));
  }
  return module;
}

/** Whether each module compiled here that polls buffers keeps its table as instantiated:
 * asked (and the code walked, about 1 ms per 50 KB) at the first poll, not at start. */
const tableFixedOf = new WeakMap<WebAssembly.Module, () => boolean>();

/** True when no instruction of `module` (compiled by {@link compileGuest}) writes a table, so
 * that each index of its table holds the same function for the instance's whole life (the
 * host never writes a guest's table). False when unknown. */
export function guestTableIsFixed(module: WebAssembly.Module): boolean {
  return tableFixedOf.get(module)?.() ?? false;
}

const FEATURE_NAMES: Record<OptionalWasmFeature, string> = {
  "gc": "WasmGC",
  "exceptions": "exception handling",
  "memory64": "memory64",
  "multi-memory": "multiple memories",
};

/** Refuses a module needing a proposal the guest may not use, naming the first place that
 * needs it. */
function checkFeatures(layout: ModuleLayout, allowed: readonly string[]): void {
  const unknown = allowed.filter((f) => !(OPTIONAL_WASM_FEATURES as readonly string[]).includes(f));
  if (unknown.length > 0) {
    throw new GuestModuleError(
      `unknown wasm feature ${unknown.map((f) => `"${f}"`).join(", ")} (known: ` +
        `${OPTIONAL_WASM_FEATURES.join(", ")})`,
    );
  }
  for (const [feature, where] of layout.features) {
    if (feature === "shared-memory") {
      throw new GuestModuleError(
        `the module uses a shared memory (threads): ${where}; this host does not run ` +
          `shared memories (no wasm-bpf toolchain makes them for a guest)`,
      );
    }
    if (allowed.includes(feature)) continue;
    throw new GuestModuleError(
      `the module uses ${FEATURE_NAMES[feature]}: ${where}; no wasm-bpf guest needs it ` +
        `(allow it with --allow-wasm-feature=${feature})`,
    );
  }
}

/** Checks exports and imports before instantiation, so that errors name what is wrong. */
export function checkGuestShape(
  module: WebAssembly.Module,
  wasiNames: ReadonlySet<string>,
  wrapperModule: string,
  extraImports: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {},
  callbackExport: string = DEFAULT_CALLBACK_EXPORT,
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
  const signatures = signaturesOf.get(module);
  if (signatures) checkFunctionTypes(signatures, wrapperModule, callbackExport);
}

/** The type a host import must have, when this host knows it. */
function expectedType(module: string, name: string, wrapperModule: string): FuncType | undefined {
  if (module === WASI_MODULE) return WASI_SIGNATURES[name];
  if (module === WASM_BPF_MODULE) return WASM_BPF_SIGNATURES[name];
  if (module === wrapperModule && name === "wasm_bpf_buffer_poll") return WRAPPER_POLL_SIGNATURE;
  return undefined;
}

/** Refuses imports of host functions with another type than the host's, and exports the host
 * calls with another type than it calls them with, naming both: they would link, then fail at
 * their first call. */
function checkFunctionTypes(
  { imports, functionExports }: Signatures,
  wrapperModule: string,
  callbackExport: string,
): void {
  const wrong: string[] = [];
  const exported = (name: string, expected: FuncType) => {
    const actual = functionExports.get(name);
    if (!actual || !sameFuncType(actual, expected)) {
      const type = actual ? formatFuncType(actual) : "a type that is not a function type";
      wrong.push(`export ${name} has type ${type}, expected ${formatFuncType(expected)}`);
    }
  };
  exported("_start", START_SIGNATURE);
  const wrapped = imports.some((i) =>
    i.module === wrapperModule && i.name === "wasm_bpf_buffer_poll"
  );
  if (wrapped && functionExports.has(callbackExport)) exported(callbackExport, CALLBACK_SIGNATURE);
  for (const imp of imports) {
    if (imp.kind !== "function") continue;
    const expected = expectedType(imp.module, imp.name, wrapperModule);
    if (!expected || (imp.type && sameFuncType(imp.type, expected))) continue;
    const actual = imp.type ? formatFuncType(imp.type) : "a type that is not a function type";
    wrong.push(
      `import ${imp.module}.${imp.name} has type ${actual}, expected ${formatFuncType(expected)}`,
    );
  }
  if (wrong.length > 0) throw new GuestModuleError(wrong.join("; "));
}
