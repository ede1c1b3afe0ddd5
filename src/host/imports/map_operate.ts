/**
 * `wasm_bpf_map_operate(fd, cmd, key, value, next_key, flags) -> i32` (abi.md §1).
 *
 * The fd must be a map of an object this guest loaded: a guest may not reach other fds of the
 * host. Sizes come from the map, every pointer the command uses is bounds-checked against them,
 * and the kernel then reads and writes guest memory directly (no copy). A pointer of 0 is NULL.
 * Under `--allow-map-write=false` (policy.ts), UPDATE_ELEM and DELETE_ELEM return -EPERM.
 */

import { Errno } from "../../errno.ts";
import { getLibbpf } from "../../libbpf_ffi.ts";
import type { HostContext } from "../context.ts";
import { logRefusal, mapWriteRefusal } from "../policy.ts";

export const MapCmd = { LOOKUP_ELEM: 1, UPDATE_ELEM: 2, DELETE_ELEM: 3, GET_NEXT_KEY: 4 } as const;

export function makeMapOperate(
  ctx: HostContext,
): (fd: number, cmd: number, key: number, value: number, nextKey: number, flags: bigint) => number {
  const lib = getLibbpf();
  return (fd, cmd, key, value, nextKey, flags) => {
    ctx.stop.checkpoint();
    const map = ctx.objects.mapByFd(fd);
    if (!map) return -Errno.EBADF;
    const memory = ctx.memory;
    /** The absolute address of a guest buffer of `size` bytes, 0n for NULL, or undefined when
     * out of bounds. Maps with no key (queues, stacks) take a NULL key whatever was passed. */
    const addr = (ptr: number, size: number, nullable: boolean): bigint | undefined => {
      if (size === 0) return 0n;
      if (ptr === 0) return nullable ? 0n : undefined;
      return memory.inBounds(ptr, size) ? memory.address(ptr) : undefined;
    };
    // flags is a u64 on the wire; wasm hands us an i64 BigInt.
    const f = BigInt.asUintN(64, flags);
    if (cmd === MapCmd.UPDATE_ELEM || cmd === MapCmd.DELETE_ELEM) {
      const refusal = mapWriteRefusal(
        ctx.policy,
        cmd === MapCmd.UPDATE_ELEM ? "update" : "delete",
        map.name,
      );
      if (refusal) {
        logRefusal(ctx.log, "map write", refusal);
        return -Errno.EPERM;
      }
    }
    switch (cmd) {
      case MapCmd.LOOKUP_ELEM: {
        const k = addr(key, map.keySize, false);
        const v = addr(value, map.valueBufferSize, false);
        if (k === undefined || v === undefined) return -Errno.EFAULT;
        return lib.bpf_map_lookup_elem_flags(fd, k, v, f);
      }
      case MapCmd.UPDATE_ELEM: {
        const k = addr(key, map.keySize, false);
        const v = addr(value, map.valueBufferSize, false);
        if (k === undefined || v === undefined) return -Errno.EFAULT;
        return lib.bpf_map_update_elem(fd, k, v, f);
      }
      case MapCmd.DELETE_ELEM: {
        const k = addr(key, map.keySize, false);
        if (k === undefined) return -Errno.EFAULT;
        return lib.bpf_map_delete_elem_flags(fd, k, f);
      }
      case MapCmd.GET_NEXT_KEY: {
        // NULL key: the first key. Upstream hosts pass the bytes at address 0 instead, which
        // skips element 0 of arrays.
        const k = addr(key, map.keySize, true);
        const n = addr(nextKey, map.keySize, false);
        if (k === undefined || n === undefined) return -Errno.EFAULT;
        return lib.bpf_map_get_next_key(fd, k, n);
      }
      default:
        return -Errno.EINVAL;
    }
  };
}
