/**
 * `args_get` / `args_sizes_get`. argv[0] is whatever the host passes first (the module path as
 * given, per docs/abi.md §4).
 *
 * @module
 */

import { ERRNO_SUCCESS } from "./abi.ts";
import { syscall } from "./errors.ts";
import { StringList, type WasiMemory } from "./memory.ts";
import type { Imports } from "./context.ts";

/** The argv imports over a fixed argument list. */
export function argsImports(mem: WasiMemory, args: readonly string[]): Imports {
  const list = new StringList(args);
  return {
    args_sizes_get: syscall((argcPtr: number, bufSizePtr: number): number => {
      list.sizes(mem, argcPtr, bufSizePtr);
      return ERRNO_SUCCESS;
    }),
    args_get: syscall((argvPtr: number, bufPtr: number): number => {
      list.get(mem, argvPtr, bufPtr);
      return ERRNO_SUCCESS;
    }),
  };
}
