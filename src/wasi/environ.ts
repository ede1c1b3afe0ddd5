/**
 * `environ_get` / `environ_sizes_get`: `KEY=VALUE` strings, empty unless the user passes
 * variables (the host's own environment is never leaked implicitly).
 *
 * @module
 */

import { ERRNO_SUCCESS } from "./abi.ts";
import { syscall } from "./errors.ts";
import { StringList, type WasiMemory } from "./memory.ts";
import type { Imports } from "./context.ts";

/** The environ imports over a fixed environment. */
export function environImports(mem: WasiMemory, env: Readonly<Record<string, string>>): Imports {
  const list = new StringList(Object.entries(env).map(([k, v]) => `${k}=${v}`));
  return {
    environ_sizes_get: syscall((countPtr: number, bufSizePtr: number): number => {
      list.sizes(mem, countPtr, bufSizePtr);
      return ERRNO_SUCCESS;
    }),
    environ_get: syscall((environPtr: number, bufPtr: number): number => {
      list.get(mem, environPtr, bufPtr);
      return ERRNO_SUCCESS;
    }),
  };
}
