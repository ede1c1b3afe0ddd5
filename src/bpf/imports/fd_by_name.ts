/** `wasm_bpf_map_fd_by_name(handle, name) -> i32`: the kernel fd of a named map. */

import { LinuxErrno } from "../../ffi/errno.ts";
import { cString, getLibbpf } from "../../ffi/libbpf_ffi.ts";
import type { HostContext } from "../context.ts";
import { MapType } from "../bpf_objects.ts";
import { pollerFor } from "./buffer_poll.ts";

export function makeMapFdByName(ctx: HostContext): (handle: bigint, name: number) => number {
  return (handle, namePtr) => {
    const loaded = ctx.objects.get(handle);
    if (!loaded) return -LinuxErrno.EINVAL;
    const name = ctx.memory.cString(namePtr);
    if (name === null) return -LinuxErrno.EFAULT;
    // libbpf's own lookup, so internal maps match by their section name (".rodata", ".bss")
    // as well as by libbpf's prefixed name, as upstream hosts do.
    const lib = getLibbpf();
    const map = lib.bpf_object__find_map_by_name(loaded.unsafeObject, cString(name));
    if (map === null) return -LinuxErrno.ENOENT;
    const fd = lib.bpf_map__fd(map);
    // A perf buffer only receives records once its per-CPU perf events exist: open it now (a
    // guest asks for the fd to poll it later), not at the first poll, so that records sent
    // between attach and that poll are not lost. (A ring buffer keeps them anyway.)
    if (ctx.objects.mapByFd(fd)?.type === MapType.PERF_EVENT_ARRAY) pollerFor(ctx, loaded, fd);
    return fd;
  };
}
