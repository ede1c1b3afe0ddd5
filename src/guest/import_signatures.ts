/**
 * The wasm type of every function this host lets a guest import: `wasm_bpf` (docs/abi.md §1),
 * the TinyGo poll wrapper, and `wasi_snapshot_preview1` (its witx, as wasi-libc imports it).
 * A guest importing one of them with another type is refused at link time, naming both types,
 * instead of failing at its first call; so is one exporting `_start` or the TinyGo callback
 * with another type than the host calls them with.
 */

import type { FuncType } from "./wasm_layout.ts";

export const WASM_BPF_MODULE = "wasm_bpf";
export const DEFAULT_WRAPPER_MODULE = "callback-wrapper";
export const DEFAULT_CALLBACK_EXPORT = "go-callback";

/** Names of the `wasm_bpf` functions a guest may import. */
export const WASM_BPF_FUNCTIONS = [
  "wasm_load_bpf_object",
  "wasm_close_bpf_object",
  "wasm_attach_bpf_program",
  "wasm_attach_bpf_program_fd",
  "wasm_bpf_buffer_poll",
  "wasm_bpf_map_fd_by_name",
  "wasm_bpf_map_operate",
] as const;

/** `fn("i32 i64", "i32")`: a function type from its parameter and result types. */
function fn(params: string, result?: string): FuncType {
  return {
    kind: "func",
    params: params ? params.split(" ") : [],
    results: result ? [result] : [],
  };
}

export const WASM_BPF_SIGNATURES: Readonly<Record<string, FuncType>> = {
  wasm_load_bpf_object: fn("i32 i32", "i64"),
  wasm_close_bpf_object: fn("i64", "i32"),
  wasm_attach_bpf_program: fn("i64 i32 i32", "i32"),
  wasm_attach_bpf_program_fd: fn("i64 i32 i32", "i32"),
  wasm_bpf_buffer_poll: fn("i64 i32 i32 i32 i32 i32 i32", "i32"),
  wasm_bpf_map_fd_by_name: fn("i64 i32", "i32"),
  wasm_bpf_map_operate: fn("i32 i32 i32 i32 i32 i64", "i32"),
};

/** The TinyGo `wasm_bpf_buffer_poll` of the wrapper module (no `sample_func`). */
export const WRAPPER_POLL_SIGNATURE: FuncType = fn("i64 i32 i32 i32 i32 i32", "i32");

/** The guest's entry point, as the host calls it. */
export const START_SIGNATURE: FuncType = fn("");
/** The TinyGo guest's exported record callback (`go-callback`): `(ctx, data, size) -> int`. */
export const CALLBACK_SIGNATURE: FuncType = fn("i32 i32 i32", "i32");

const I32x = (n: number) => Array(n).fill("i32").join(" ");

export const WASI_SIGNATURES: Readonly<Record<string, FuncType>> = {
  args_get: fn(I32x(2), "i32"),
  args_sizes_get: fn(I32x(2), "i32"),
  environ_get: fn(I32x(2), "i32"),
  environ_sizes_get: fn(I32x(2), "i32"),
  clock_res_get: fn(I32x(2), "i32"),
  clock_time_get: fn("i32 i64 i32", "i32"),
  fd_advise: fn("i32 i64 i64 i32", "i32"),
  fd_allocate: fn("i32 i64 i64", "i32"),
  fd_close: fn("i32", "i32"),
  fd_datasync: fn("i32", "i32"),
  fd_fdstat_get: fn(I32x(2), "i32"),
  fd_fdstat_set_flags: fn(I32x(2), "i32"),
  fd_fdstat_set_rights: fn("i32 i64 i64", "i32"),
  fd_filestat_get: fn(I32x(2), "i32"),
  fd_filestat_set_size: fn("i32 i64", "i32"),
  fd_filestat_set_times: fn("i32 i64 i64 i32", "i32"),
  fd_pread: fn("i32 i32 i32 i64 i32", "i32"),
  fd_prestat_get: fn(I32x(2), "i32"),
  fd_prestat_dir_name: fn(I32x(3), "i32"),
  fd_pwrite: fn("i32 i32 i32 i64 i32", "i32"),
  fd_read: fn(I32x(4), "i32"),
  fd_readdir: fn("i32 i32 i32 i64 i32", "i32"),
  fd_renumber: fn(I32x(2), "i32"),
  fd_seek: fn("i32 i64 i32 i32", "i32"),
  fd_sync: fn("i32", "i32"),
  fd_tell: fn(I32x(2), "i32"),
  fd_write: fn(I32x(4), "i32"),
  path_create_directory: fn(I32x(3), "i32"),
  path_filestat_get: fn(I32x(5), "i32"),
  path_filestat_set_times: fn("i32 i32 i32 i32 i64 i64 i32", "i32"),
  path_link: fn(I32x(7), "i32"),
  path_open: fn("i32 i32 i32 i32 i32 i64 i64 i32 i32", "i32"),
  path_readlink: fn(I32x(6), "i32"),
  path_remove_directory: fn(I32x(3), "i32"),
  path_rename: fn(I32x(6), "i32"),
  path_symlink: fn(I32x(5), "i32"),
  path_unlink_file: fn(I32x(3), "i32"),
  poll_oneoff: fn(I32x(4), "i32"),
  proc_exit: fn("i32"),
  proc_raise: fn("i32", "i32"),
  sched_yield: fn("", "i32"),
  random_get: fn(I32x(2), "i32"),
  sock_accept: fn(I32x(3), "i32"),
  sock_recv: fn(I32x(6), "i32"),
  sock_send: fn(I32x(5), "i32"),
  sock_shutdown: fn(I32x(2), "i32"),
};

/** `(i32, i32) -> i64`, as a message names a type. */
export function formatFuncType(t: FuncType): string {
  const results = t.results.length === 1 ? t.results[0] : `(${t.results.join(", ")})`;
  return `(${t.params.join(", ")}) -> ${results}`;
}

export function sameFuncType(a: FuncType, b: FuncType): boolean {
  return formatFuncType(a) === formatFuncType(b);
}
