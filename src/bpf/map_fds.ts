/**
 * Where the kernel reads file descriptors inside map keys and values (linux/bpf.h, kernel
 * map implementations), so that `wasm_bpf_map_operate` lets through only fds the guest owns.
 *
 * A map whose value is an fd (PROG_ARRAY, maps of maps, sockets, cgroups, perf events, XDP
 * sockets, devmap/cpumap programs) or whose key is an fd (sk/inode/task/cgrp storage) would
 * otherwise let a guest hand the kernel any fd of the host process: another inline guest's
 * map, the embedding application's sockets, a host file. What a guest owns is its maps,
 * programs and links (ObjectTable.ownsFd); not BTF fds, which no map type reads.
 */

/** An fd the kernel reads at `offset` of a key or value: a u32 or, for socket maps whose
 * value is 8 bytes, a u64. */
export interface FdField {
  readonly offset: number;
  readonly width: 4 | 8;
  /** The kernel reads no fd when the field is 0 or negative (devmap/cpumap programs). */
  readonly optional: boolean;
}

/** What map_operate must check for one map. */
export type MapFdRule =
  /** Neither key nor value holds an fd (HASH, ARRAY, RINGBUF, ...). */
  | { readonly kind: "none" }
  /** The key (every command) and/or the value (UPDATE) hold an fd. */
  | { readonly kind: "fds"; readonly key: FdField | null; readonly value: FdField | null }
  /** Guest writes refused: the value holds fds we do not parse (STRUCT_OPS). */
  | { readonly kind: "read-only"; readonly why: string }
  /** A map type newer than this table: it may carry fds anywhere, so nothing is let through. */
  | { readonly kind: "unknown" };

/** enum bpf_map_type values (linux/bpf.h), including those newer than Debian 12's headers. */
export const BpfMapType = {
  UNSPEC: 0,
  HASH: 1,
  ARRAY: 2,
  PROG_ARRAY: 3,
  PERF_EVENT_ARRAY: 4,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  STACK_TRACE: 7,
  CGROUP_ARRAY: 8,
  LRU_HASH: 9,
  LRU_PERCPU_HASH: 10,
  LPM_TRIE: 11,
  ARRAY_OF_MAPS: 12,
  HASH_OF_MAPS: 13,
  DEVMAP: 14,
  SOCKMAP: 15,
  CPUMAP: 16,
  XSKMAP: 17,
  SOCKHASH: 18,
  CGROUP_STORAGE: 19,
  REUSEPORT_SOCKARRAY: 20,
  PERCPU_CGROUP_STORAGE: 21,
  QUEUE: 22,
  STACK: 23,
  SK_STORAGE: 24,
  DEVMAP_HASH: 25,
  STRUCT_OPS: 26,
  RINGBUF: 27,
  INODE_STORAGE: 28,
  TASK_STORAGE: 29,
  BLOOM_FILTER: 30,
  USER_RINGBUF: 31,
  CGRP_STORAGE: 32,
  ARENA: 33,
} as const;

const T = BpfMapType;

/** The map types whose keys and values hold no fd (CGROUP_STORAGE keys are a cgroup inode id
 * and an attach type, not an fd; BTF special fields such as kptrs and timers are not
 * settable from user space). */
const NO_FD_TYPES: ReadonlySet<number> = new Set([
  T.HASH,
  T.ARRAY,
  T.PERCPU_HASH,
  T.PERCPU_ARRAY,
  T.STACK_TRACE,
  T.LRU_HASH,
  T.LRU_PERCPU_HASH,
  T.LPM_TRIE,
  T.CGROUP_STORAGE,
  T.PERCPU_CGROUP_STORAGE,
  T.QUEUE,
  T.STACK,
  T.RINGBUF,
  T.BLOOM_FILTER,
  T.USER_RINGBUF,
  T.ARENA,
]);

/** Value is one u32 fd: a program, perf event, cgroup, map or XDP socket. */
const U32_FD_VALUE_TYPES: ReadonlySet<number> = new Set([
  T.PROG_ARRAY,
  T.PERF_EVENT_ARRAY,
  T.CGROUP_ARRAY,
  T.ARRAY_OF_MAPS,
  T.HASH_OF_MAPS,
  T.XSKMAP,
]);

/** Value is a socket fd, a u32 or (value_size 8) a u64. */
const SOCKET_VALUE_TYPES: ReadonlySet<number> = new Set([
  T.SOCKMAP,
  T.SOCKHASH,
  T.REUSEPORT_SOCKARRAY,
]);

/** Key is an fd: a socket, a file, a pidfd, a cgroup. */
const FD_KEY_TYPES: ReadonlySet<number> = new Set([
  T.SK_STORAGE,
  T.INODE_STORAGE,
  T.TASK_STORAGE,
  T.CGRP_STORAGE,
]);

const NONE: MapFdRule = { kind: "none" };
const U32: FdField = { offset: 0, width: 4, optional: false };
const U64: FdField = { offset: 0, width: 8, optional: false };
/** struct bpf_devmap_val / bpf_cpumap_val: ifindex or qsize, then the program fd when the
 * value is 8 bytes (the kernel loads a program only for fd > 0). */
const PROG_AFTER_U32: FdField = { offset: 4, width: 4, optional: true };

/** Where `type`'s keys and values hold fds, given its key and value sizes. */
export function mapFdRule(type: number, keySize: number, valueSize: number): MapFdRule {
  if (NO_FD_TYPES.has(type)) return NONE;
  if (U32_FD_VALUE_TYPES.has(type)) return { kind: "fds", key: null, value: U32 };
  if (SOCKET_VALUE_TYPES.has(type)) {
    return { kind: "fds", key: null, value: valueSize === 8 ? U64 : U32 };
  }
  if (FD_KEY_TYPES.has(type)) return { kind: "fds", key: keySize >= 4 ? U32 : null, value: null };
  if (type === T.DEVMAP || type === T.DEVMAP_HASH || type === T.CPUMAP) {
    return valueSize >= 8 ? { kind: "fds", key: null, value: PROG_AFTER_U32 } : NONE;
  }
  if (type === T.STRUCT_OPS) {
    return { kind: "read-only", why: "its value holds program fds" };
  }
  return { kind: "unknown" };
}

/** The fd stored in `field` of `bytes`, or null when the field holds no fd (an optional field
 * that is 0 or negative). A u64 above 2^32 stays a number no fd can equal. */
export function fdIn(bytes: Uint8Array, field: FdField): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (field.width === 8) return Number(view.getBigUint64(field.offset, true));
  const fd = field.optional
    ? view.getInt32(field.offset, true)
    : view.getUint32(field.offset, true);
  return field.optional && fd <= 0 ? null : fd;
}
