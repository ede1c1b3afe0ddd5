/** `wasm_close_bpf_object(handle) -> i32`: detach links, free pollers, close. */

import { LinuxErrno } from "../../ffi/errno.ts";
import type { HostContext } from "../context.ts";

export function makeClose(ctx: HostContext): (handle: bigint) => number | Promise<number> {
  return (handle) => {
    const loaded = ctx.objects.remove(handle);
    if (!loaded) return -LinuxErrno.EINVAL;
    // Link teardown takes kernel time (55-80 ms per tracepoint); do it off the main thread
    // and let the event loop run meanwhile.
    return loaded.close().then(() => 0);
  };
}
