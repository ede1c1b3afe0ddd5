/**
 * `args_get` / `args_sizes_get`. argv[0] is whatever the host passes first (the module path as
 * given, per docs/abi.md §4). Also the string-list import pair that environ.ts shares.
 *
 * @module
 */

import { ERRNO_SUCCESS } from "./abi.ts";
import { syscall } from "./errors.ts";
import { StringList, type WasiMemory } from "./memory.ts";
import type { Imports } from "./context.ts";

/** A `*_sizes_get` / `*_get` import pair over a fixed list of strings. */
export function stringListImports(
  mem: WasiMemory,
  strings: readonly string[],
  names: { sizes: string; get: string },
): Imports {
  const list = new StringList(strings);
  return {
    [names.sizes]: syscall((countPtr: number, bufSizePtr: number): number => {
      list.sizes(mem, countPtr, bufSizePtr);
      return ERRNO_SUCCESS;
    }),
    [names.get]: syscall((ptrsPtr: number, bufPtr: number): number => {
      list.get(mem, ptrsPtr, bufPtr);
      return ERRNO_SUCCESS;
    }),
  };
}

/** The argv imports over a fixed argument list. */
export function argsImports(mem: WasiMemory, args: readonly string[]): Imports {
  return stringListImports(mem, args, { sizes: "args_sizes_get", get: "args_get" });
}
