/** `wasm_load_bpf_object(obj_buf, obj_buf_sz) -> i64`: open and load; a handle or 0. */

import { getLibbpf, LibbpfError, ptrErr, takeRecentLibbpfMessages } from "../../libbpf_ffi.ts";
import type { HostContext } from "../context.ts";

/** The most a guest may hand us as one object (a sanity limit, far above real objects). */
const MAX_OBJECT_BYTES = 256 * 1024 * 1024;

export function makeLoad(ctx: HostContext): (objBuf: number, objBufSize: number) => bigint {
  return (objBuf, objBufSize) => {
    ctx.stop.checkpoint();
    const memory = ctx.memory;
    if (objBufSize <= 0 || objBufSize > MAX_OBJECT_BYTES || !memory.inBounds(objBuf, objBufSize)) {
      ctx.log.debug(`wasm_load_bpf_object: bad buffer (${objBuf >>> 0}, ${objBufSize}): EFAULT`);
      return 0n;
    }
    // Copy at call time: the guest patched .rodata in place in these bytes just before.
    const bytes = memory.copyOut(objBuf, objBufSize);
    const lib = getLibbpf();
    takeRecentLibbpfMessages();
    const obj = lib.bpf_object__open_mem(bytes, BigInt(bytes.length), null);
    if (obj === null) {
      reportFailure(ctx, "bpf_object__open_mem", -ptrErr(obj));
      return 0n;
    }
    const ret = lib.bpf_object__load(obj);
    if (ret < 0) {
      lib.bpf_object__close(obj);
      reportFailure(ctx, "bpf_object__load", -ret);
      return 0n;
    }
    const loaded = ctx.objects.add(obj);
    ctx.log.debug(
      `loaded BPF object ${loaded.handle}: maps ${loaded.maps.map((m) => m.name).join(", ")}`,
    );
    return loaded.handle;
  };
}

/** A load failure is invisible to the guest beyond "0", so the host says why on stderr:
 * the error by name with a hint, and the last lines libbpf logged (the verifier's verdict). */
function reportFailure(ctx: HostContext, op: string, errno: number): void {
  const error = new LibbpfError(op, errno);
  const recent = takeRecentLibbpfMessages().filter((l) => l.trim() !== "");
  const tail = recent.slice(-8).map((l) => `  ${l}`).join("\n");
  ctx.log.error(`wasm_load_bpf_object: ${error.message}${tail ? `\n${tail}` : ""}`);
}
