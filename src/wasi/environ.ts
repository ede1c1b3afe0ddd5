/**
 * `environ_get` / `environ_sizes_get`: `KEY=VALUE` strings, empty unless the user passes
 * variables (the host's own environment is never leaked implicitly).
 *
 * @module
 */

import { stringListImports } from "./args.ts";
import type { WasiMemory } from "./memory.ts";
import type { Imports } from "./context.ts";

/** The environ imports over a fixed environment. */
export function environImports(mem: WasiMemory, env: Readonly<Record<string, string>>): Imports {
  const entries = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return stringListImports(mem, entries, { sizes: "environ_sizes_get", get: "environ_get" });
}
