/**
 * The checks `new WasmBpfCommand(module, options)` makes of what a caller passed, so that a
 * wrong type or value is a TypeError or RangeError naming the option, thrown at once and the same
 * with either isolation (not a guest run with `args: "x"` taken letter by letter, nor a child
 * process's usage text).
 */

import type { ModuleSource, WasmBpfCommandOptions } from "./types.ts";

const STDIO_MODES: readonly string[] = ["inherit", "piped", "null"];
const ISOLATIONS: readonly string[] = ["process", "inline"];

/** The range the CLI's --max-objects and --max-memory accept. */
const LIMITS = {
  maxObjects: { min: 0, max: 1_000_000 },
  maxMemoryMiB: { min: 1, max: 4096 },
} as const;

function isStringArray(v: unknown): boolean {
  return Array.isArray(v) && v.every((s) => typeof s === "string");
}

/** Throws a TypeError or RangeError for the first option that cannot be what it says. */
export function checkCommandArguments(module: ModuleSource, o: WasmBpfCommandOptions): void {
  const isModule = (typeof module === "string" && module !== "") || module instanceof URL ||
    module instanceof Uint8Array || module instanceof WebAssembly.Module;
  if (!isModule) {
    throw new TypeError(
      "module: a path, a URL, the module's bytes (Uint8Array) or a WebAssembly.Module",
    );
  }
  if (o.args !== undefined && !isStringArray(o.args)) {
    throw new TypeError("options.args: an array of strings");
  }
  if (
    o.env !== undefined &&
    (typeof o.env !== "object" || o.env === null ||
      !Object.values(o.env).every((v) => typeof v === "string"))
  ) {
    throw new TypeError("options.env: an object of strings");
  }
  for (const name of ["stdin", "stdout", "stderr"] as const) {
    const mode = o[name];
    if (mode !== undefined && !STDIO_MODES.includes(mode)) {
      throw new TypeError(`options.${name}: "inherit", "piped" or "null", not ${String(mode)}`);
    }
  }
  if (o.isolation !== undefined && !ISOLATIONS.includes(o.isolation)) {
    throw new TypeError(`options.isolation: "process" or "inline", not ${String(o.isolation)}`);
  }
  for (const [name, { min, max }] of Object.entries(LIMITS)) {
    const v = o.policy?.[name as keyof typeof LIMITS];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`options.policy.${name}: a whole number from ${min} to ${max}`);
    }
  }
}
