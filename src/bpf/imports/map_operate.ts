/**
 * `wasm_bpf_map_operate(fd, cmd, key, value, next_key, flags) -> i32` (docs/abi.md §1.4).
 *
 * The fd must be a map of an object this guest loaded: a guest may not reach other fds of the
 * host. Sizes come from the map, every pointer the command uses is bounds-checked against them,
 * and the kernel then reads and writes guest memory directly (no copy). A pointer of 0 is NULL.
 * Under `--allow-map-write=false` (policy.ts), UPDATE_ELEM and DELETE_ELEM return -EPERM.
 *
 * Where the kernel reads an fd inside a key or value (map_fds.ts: maps of maps, program and
 * socket arrays, fd-keyed storage, ...), that fd must be a map, program or link this guest
 * owns, else -EBADF: the kernel would take any fd of the host process, such as another inline
 * guest's map. Such a key or value is copied to host memory, checked, and the copy is what the
 * kernel reads.
 */

import { LinuxErrno } from "../../ffi/errno.ts";
import { getLibbpf } from "../../ffi/libbpf_ffi.ts";
import { errnoCell, getLibc, SYS_BPF } from "../../ffi/libc_ffi.ts";
import type { HostContext } from "../context.ts";
import type { MapInfo } from "../bpf_objects.ts";
import type { GuestMemory } from "../guest_memory.ts";
import { type FdField, fdIn } from "../map_fds.ts";
import { logRefusal, mapWriteRefusal } from "../../guest/policy.ts";

export const MapCmd = { LOOKUP_ELEM: 1, UPDATE_ELEM: 2, DELETE_ELEM: 3, GET_NEXT_KEY: 4 } as const;

const OUT_OF_BOUNDS = -1n;

/** A guest buffer of `size` bytes as an absolute address: 0n for NULL (pointer 0, where
 * `nullable`, or a map with no key such as a queue), -1n when out of bounds or NULL where NULL
 * is not allowed. */
function guestSpan(memory: GuestMemory, ptr: number, size: number, nullable: boolean): bigint {
  if (size === 0) return 0n;
  if (ptr === 0) return nullable ? 0n : OUT_OF_BOUNDS;
  return memory.holds(ptr, size) ? memory.address(ptr) : OUT_OF_BOUNDS;
}

type MapOperate = (
  fd: number,
  cmd: number,
  key: number,
  value: number,
  nextKey: number,
  flags: bigint,
) => number;

/**
 * The import. Its hot path is the common case of a guest's loop: a lookup, update or next key
 * on a map with no fds in its keys or values, each buffer in bounds and given (not NULL; but
 * the key of a next key, where NULL asks for the first key).
 *
 * There every command runs the same code: one bpf(2) call through libc's `syscall` with a
 * preallocated attr, where libbpf has a function per command. V8 deoptimizes optimized code
 * that reaches an operation it has not seen run, and a guest changing commands (fill, then
 * lookups, then a walk of next keys) made it deoptimize and recompile the import each time,
 * ~10-20 ms of CPU per change, paid by the guest when pinned to one CPU: the bench's map ops ran
 * 10-25% slower than native though each call cost ~1.2 us in the kernel and ~0.05 us here.
 * Addresses go into the attr as `base + BigInt(offset)`, which optimized code computes in
 * 64-bit registers (no BigInt allocated per call).
 *
 * Everything else, including every refusal and fault with its errno and log line, goes to
 * {@link makeCheckedOperate}: both apply the same checks, this one only where they pass.
 */
export function makeMapOperate(ctx: HostContext): MapOperate {
  const checked = makeCheckedOperate(ctx);
  const sysBpfNumber = SYS_BPF;
  if (sysBpfNumber === undefined) return checked;
  const sysBpf = getLibc().syscall_bpf;
  // union bpf_attr for BPF_MAP_*_ELEM, as libbpf fills it: map_fd (u32, then 4 zero bytes),
  // key, value or next_key, flags (u64 each). In an ArrayBuffer of its own, which does not move.
  const attr = new BigUint64Array(new ArrayBuffer(ATTR_SIZE));
  const attrFd = new Int32Array(attr.buffer, 0, 1);
  const attrAddress = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(attr)));
  const errno = errnoCell();
  return function mapOperate(fd, cmd, key, value, nextKey, flags) {
    const map = ctx.objects.mapByFd(fd);
    if (map === undefined) return -LinuxErrno.EBADF;
    const keySize = map.keySize;
    // Every comparison runs on every call, and the buffers are chosen as numbers, so that all
    // three commands share the code below (V8 deoptimizes code reaching an operation it has
    // not seen run).
    const lookup = cmd === MapCmd.LOOKUP_ELEM;
    const update = cmd === MapCmd.UPDATE_ELEM;
    const next = cmd === MapCmd.GET_NEXT_KEY;
    const second = next ? nextKey : value;
    const secondSize = next ? keySize : map.valueBufferSize;
    const writable = ctx.policy.allowMapWrite !== false;
    const memory = ctx.memory;
    // A NULL key asks GET_NEXT_KEY for the first key (see the checked path).
    const nullKey = (key === 0) && next;
    if (
      (lookup || next || (update && writable)) &&
      map.fdRule.kind === "none" && keySize !== 0 && secondSize !== 0 &&
      (nullKey || memory.holds(key, keySize)) && memory.holds(second, secondSize)
    ) {
      attrFd[0] = fd;
      // NULL for a NULL key; a mask, as `nullKey ? 0n : address` made V8 allocate a BigInt.
      attr[1] = memory.address(key) & (nullKey ? 0n : ALL_ONES);
      attr[2] = memory.address(second);
      // flags is a u64 on the wire (wasm gives an i64); GET_NEXT_KEY has none (must be 0).
      attr[3] = BigInt.asUintN(64, next ? 0n : flags);
      const r = sysBpf(sysBpfNumber, cmd, attrAddress, ATTR_SIZE);
      // Read and negated on every call: code that runs only on a failure would deoptimize.
      const failed = -errno[0];
      return r === 0 ? 0 : failed;
    }
    return checked(fd, cmd, key, value, nextKey, flags);
  };
}

const ALL_ONES = 0xffff_ffff_ffff_ffffn;

/** The bytes of the attr the hot path passes, up to and including flags (libbpf passes 24
 * for GET_NEXT_KEY, which has no flags: the kernel then requires them 0, as they are). */
const ATTR_SIZE = 32;

/** The import for every map and call, checking each buffer and the map's fd rule. */
function makeCheckedOperate(ctx: HostContext): MapOperate {
  const lib = getLibbpf();
  return function checkedMapOperate(fd, cmd, key, value, nextKey, flags) {
    const map = ctx.objects.mapByFd(fd);
    if (!map) return -LinuxErrno.EBADF;
    const memory = ctx.memory;
    // flags is a u64 on the wire; wasm hands us an i64 BigInt (almost always 0n).
    const f = flags === 0n ? 0n : BigInt.asUintN(64, flags);
    const rule = map.fdRule;
    if (rule.kind === "read-only" || rule.kind === "unknown") {
      const refused = fdRuleRefusal(ctx, map, cmd);
      if (refused) return refused;
    }
    // Keys or values that hold fds are checked and copied; the common maps skip all of it.
    const keyFd = rule.kind === "fds" ? rule.key : null;
    const valueFd = rule.kind === "fds" ? rule.value : null;
    switch (cmd) {
      case MapCmd.LOOKUP_ELEM: {
        let k = guestSpan(memory, key, map.keySize, false);
        const v = guestSpan(memory, value, map.valueBufferSize, false);
        if (k === OUT_OF_BOUNDS || v === OUT_OF_BOUNDS) return -LinuxErrno.EFAULT;
        if (keyFd && (k = checkedCopy(ctx, map, key, map.keySize, keyFd, KEY_COPY)) < 0n) {
          return Number(k);
        }
        return lib.bpf_map_lookup_elem_flags(fd, k, v, f);
      }
      case MapCmd.UPDATE_ELEM: {
        if (refuseWrite(ctx, "update", map.name)) return -LinuxErrno.EPERM;
        let k = guestSpan(memory, key, map.keySize, false);
        let v = guestSpan(memory, value, map.valueBufferSize, false);
        if (k === OUT_OF_BOUNDS || v === OUT_OF_BOUNDS) return -LinuxErrno.EFAULT;
        if (keyFd && (k = checkedCopy(ctx, map, key, map.keySize, keyFd, KEY_COPY)) < 0n) {
          return Number(k);
        }
        if (
          valueFd &&
          (v = checkedCopy(ctx, map, value, map.valueBufferSize, valueFd, VALUE_COPY)) < 0n
        ) return Number(v);
        return lib.bpf_map_update_elem(fd, k, v, f);
      }
      case MapCmd.DELETE_ELEM: {
        if (refuseWrite(ctx, "delete", map.name)) return -LinuxErrno.EPERM;
        let k = guestSpan(memory, key, map.keySize, false);
        if (k === OUT_OF_BOUNDS) return -LinuxErrno.EFAULT;
        if (keyFd && (k = checkedCopy(ctx, map, key, map.keySize, keyFd, KEY_COPY)) < 0n) {
          return Number(k);
        }
        return lib.bpf_map_delete_elem_flags(fd, k, f);
      }
      case MapCmd.GET_NEXT_KEY: {
        // NULL key: the first key. Upstream hosts pass the bytes at address 0 instead, which
        // skips element 0 of arrays.
        let k = guestSpan(memory, key, map.keySize, true);
        const n = guestSpan(memory, nextKey, map.keySize, false);
        if (k === OUT_OF_BOUNDS || n === OUT_OF_BOUNDS) return -LinuxErrno.EFAULT;
        if (
          keyFd && k !== 0n &&
          (k = checkedCopy(ctx, map, key, map.keySize, keyFd, KEY_COPY)) < 0n
        ) return Number(k);
        return lib.bpf_map_get_next_key(fd, k, n);
      }
      default:
        return -LinuxErrno.EINVAL;
    }
  };
}

/** A host buffer the kernel reads a checked key or value from. The kernel limits every key
 * or value that holds an fd to 8 bytes (an int, a u64 socket fd, struct bpf_devmap_val), and
 * these buffers live as long as the module, so their addresses stay valid. */
class HostCopy {
  static readonly SIZE = 8;
  readonly bytes = new Uint8Array(HostCopy.SIZE);
  #address?: bigint;
  /** Taken at first use: importing this module must not need the FFI permission (the
   * registry tools import the OCI client, which shares the module limit with the runtime). */
  get address(): bigint {
    return this.#address ??= BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.bytes)));
  }
}
const KEY_COPY = new HostCopy();
const VALUE_COPY = new HostCopy();

/**
 * The address of a host copy of an in-bounds guest key or value for the kernel to read, once
 * the fd in `field` is one the guest owns; or a negative errno as a BigInt (-EBADF, logged,
 * when the guest does not own it).
 */
function checkedCopy(
  ctx: HostContext,
  map: MapInfo,
  ptr: number,
  size: number,
  field: FdField,
  copy: HostCopy,
): bigint {
  if (size > HostCopy.SIZE || field.offset + field.width > size) return BigInt(-LinuxErrno.EINVAL);
  copy.bytes.set(ctx.memory.bytes.subarray(ptr >>> 0, (ptr >>> 0) + size));
  const fd = fdIn(copy.bytes.subarray(0, size), field);
  if (fd !== null && !ctx.objects.ownsFd(fd)) {
    const where = copy === KEY_COPY ? "key" : "value";
    logRefusal(
      ctx.log,
      "map fd",
      `refused fd ${fd} in a ${where} of map "${map.name}" (type ${map.type}): EBADF, not a ` +
        `map, program or link of this guest`,
    );
    return BigInt(-LinuxErrno.EBADF);
  }
  return copy.address;
}

/** A negative errno when the map's type forbids `cmd` to guests (STRUCT_OPS writes, any
 * command on a map type newer than map_fds.ts knows), else 0. Logged. */
function fdRuleRefusal(ctx: HostContext, map: MapInfo, cmd: number): number {
  const rule = map.fdRule;
  const write = cmd === MapCmd.UPDATE_ELEM || cmd === MapCmd.DELETE_ELEM;
  let why: string | null = null;
  if (rule.kind === "unknown") {
    why = `map type ${map.type} is newer than this host, and its keys or values may hold fds`;
  } else if (rule.kind === "read-only" && write) {
    why = rule.why;
  }
  if (why === null) return 0;
  logRefusal(ctx.log, "map fd", `refused command ${cmd} on map "${map.name}": EPERM, ${why}`);
  return -LinuxErrno.EPERM;
}

/** True (and logged) when the policy makes maps read-only. */
function refuseWrite(ctx: HostContext, op: "update" | "delete", mapName: string): boolean {
  if (ctx.policy.allowMapWrite !== false) return false;
  const refusal = mapWriteRefusal(ctx.policy, op, mapName);
  if (refusal) logRefusal(ctx.log, "map write", refusal);
  return refusal !== null;
}
