/** `wasm_bpf_map_fd_by_name(handle, name) -> i32`: the kernel fd of a named map. */

import { Errno } from "../../errno.ts";
import { cString, getLibbpf } from "../../libbpf_ffi.ts";
import type { HostContext } from "../context.ts";

export function makeMapFdByName(ctx: HostContext): (handle: bigint, name: number) => number {
  return (handle, namePtr) => {
    ctx.stop.checkpoint();
    const loaded = ctx.objects.get(handle);
    if (!loaded) return -Errno.EINVAL;
    const name = ctx.memory.cString(namePtr);
    if (name === null) return -Errno.EFAULT;
    // libbpf's own lookup, so internal maps match by their section name (".rodata", ".bss")
    // as well as by libbpf's prefixed name, as upstream hosts do.
    const lib = getLibbpf();
    const map = lib.bpf_object__find_map_by_name(loaded.unsafeObject, cString(name));
    return map === null ? -Errno.ENOENT : lib.bpf_map__fd(map);
  };
}
