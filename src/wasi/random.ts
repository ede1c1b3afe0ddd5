/**
 * `random_get`: `crypto.getRandomValues` straight into guest memory, in chunks of at most
 * 65536 bytes (the Web Crypto quota per call).
 *
 * @module
 */

import { ERRNO_SUCCESS } from "./abi.ts";
import { syscall } from "./errors.ts";
import type { WasiMemory } from "./memory.ts";
import type { Imports } from "./context.ts";

const CHUNK = 65536;

/** The random import. */
export function randomImports(mem: WasiMemory): Imports {
  return {
    random_get: syscall((bufPtr: number, len: number): number => {
      const buf = mem.bytes(bufPtr, len);
      for (let off = 0; off < buf.byteLength; off += CHUNK) {
        crypto.getRandomValues(buf.subarray(off, Math.min(off + CHUNK, buf.byteLength)));
      }
      return ERRNO_SUCCESS;
    }),
  };
}
