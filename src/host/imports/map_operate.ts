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
import type { GuestMemory } from "../guest_memory.ts";
import { logRefusal, mapWriteRefusal } from "../policy.ts";

export const MapCmd = { LOOKUP_ELEM: 1, UPDATE_ELEM: 2, DELETE_ELEM: 3, GET_NEXT_KEY: 4 } as const;

const OUT_OF_BOUNDS = -1n;

/** A guest buffer of `size` bytes as an absolute address: 0n for NULL (pointer 0, where
 * `nullable`, or a map with no key such as a queue), -1n when out of bounds or NULL where NULL
 * is not allowed. */
function guestSpan(memory: GuestMemory, ptr: number, size: number, nullable: boolean): bigint {
  if (size === 0) return 0n;
  if (ptr === 0) return nullable ? 0n : OUT_OF_BOUNDS;
  return memory.span(ptr, size);
}

export function makeMapOperate(
  ctx: HostContext,
): (fd: number, cmd: number, key: number, value: number, nextKey: number, flags: bigint) => number {
  const lib = getLibbpf();
  return (fd, cmd, key, value, nextKey, flags) => {
    ctx.stop.checkpoint();
    const map = ctx.objects.mapByFd(fd);
    if (!map) return -Errno.EBADF;
    const memory = ctx.memory;
    // flags is a u64 on the wire; wasm hands us an i64 BigInt (almost always 0n).
    const f = flags === 0n ? 0n : BigInt.asUintN(64, flags);
    switch (cmd) {
      case MapCmd.LOOKUP_ELEM: {
        const k = guestSpan(memory, key, map.keySize, false);
        const v = guestSpan(memory, value, map.valueBufferSize, false);
        if (k === OUT_OF_BOUNDS || v === OUT_OF_BOUNDS) return -Errno.EFAULT;
        return lib.bpf_map_lookup_elem_flags(fd, k, v, f);
      }
      case MapCmd.UPDATE_ELEM: {
        if (refuseWrite(ctx, "update", map.name)) return -Errno.EPERM;
        const k = guestSpan(memory, key, map.keySize, false);
        const v = guestSpan(memory, value, map.valueBufferSize, false);
        if (k === OUT_OF_BOUNDS || v === OUT_OF_BOUNDS) return -Errno.EFAULT;
        return lib.bpf_map_update_elem(fd, k, v, f);
      }
      case MapCmd.DELETE_ELEM: {
        if (refuseWrite(ctx, "delete", map.name)) return -Errno.EPERM;
        const k = guestSpan(memory, key, map.keySize, false);
        if (k === OUT_OF_BOUNDS) return -Errno.EFAULT;
        return lib.bpf_map_delete_elem_flags(fd, k, f);
      }
      case MapCmd.GET_NEXT_KEY: {
        // NULL key: the first key. Upstream hosts pass the bytes at address 0 instead, which
        // skips element 0 of arrays.
        const k = guestSpan(memory, key, map.keySize, true);
        const n = guestSpan(memory, nextKey, map.keySize, false);
        if (k === OUT_OF_BOUNDS || n === OUT_OF_BOUNDS) return -Errno.EFAULT;
        return lib.bpf_map_get_next_key(fd, k, n);
      }
      default:
        return -Errno.EINVAL;
    }
  };
}

/** True (and logged) when the policy makes maps read-only. */
function refuseWrite(ctx: HostContext, op: "update" | "delete", mapName: string): boolean {
  if (ctx.policy.allowMapWrite !== false) return false;
  const refusal = mapWriteRefusal(ctx.policy, op, mapName);
  if (refusal) logRefusal(ctx.log, "map write", refusal);
  return refusal !== null;
}
