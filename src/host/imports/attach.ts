/**
 * `wasm_attach_bpf_program(handle, name, attach_target) -> i32` (abi.md §3).
 *
 * `name` is the program's function name. With no target (0 or ""), libbpf auto-attaches from
 * the ELF section. With a target: cgroup and sockops programs take a cgroup v2 directory, XDP
 * programs an interface name; other sections ignore the target.
 */

import { Errno, errnoName } from "../../errno.ts";
import { cString, getLibbpf, libbpfStrerror, takeRecentLibbpfMessages } from "../../libbpf_ffi.ts";
import { getLibc, lastErrno } from "../../libc_ffi.ts";
import type { HostContext } from "../context.ts";

const O_RDONLY = 0;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;

export function makeAttach(
  ctx: HostContext,
): (handle: bigint, name: number, target: number) => number {
  return (handle, namePtr, targetPtr) => {
    ctx.stop.checkpoint();
    const loaded = ctx.objects.get(handle);
    if (!loaded) return -Errno.EINVAL;
    const name = ctx.memory.cString(namePtr);
    if (name === null) return -Errno.EFAULT;
    const target = targetPtr === 0 ? "" : ctx.memory.cString(targetPtr);
    if (target === null) return -Errno.EFAULT;

    const lib = getLibbpf();
    const prog = lib.bpf_object__find_program_by_name(loaded.unsafeObject, cString(name));
    if (prog === null) return -Errno.ENOENT;
    const section = Deno.UnsafePointerView.getCString(lib.bpf_program__section_name(prog)!);

    takeRecentLibbpfMessages();
    const result = attachTo(prog, section, target);
    if (typeof result === "number") {
      const why = takeRecentLibbpfMessages().slice(-3).join("; ");
      ctx.log.error(
        `attach ${name} (section ${section}${target ? `, target ${target}` : ""}): ` +
          `${errnoName(result)} (${libbpfStrerror(result)})${why ? `: ${why}` : ""}`,
      );
      return result;
    }
    loaded.links.push(result);
    ctx.log.debug(`attached ${name} (section ${section}${target ? ` to ${target}` : ""})`);
    return 0;
  };
}

/** A link, or a negative errno. */
function attachTo(
  prog: Deno.PointerObject,
  section: string,
  target: string,
): Deno.PointerObject | number {
  const lib = getLibbpf();
  if (target !== "" && (section.startsWith("cgroup") || section.startsWith("sockops"))) {
    const fd = getLibc().open(cString(target), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) return -(lastErrno() || Errno.ENOENT);
    const link = lib.bpf_program__attach_cgroup(prog, fd);
    const err = link === null ? -(lastErrno() || Errno.EINVAL) : 0;
    getLibc().close(fd); // the link holds its own reference to the cgroup
    return link ?? err;
  }
  if (target !== "" && section.startsWith("xdp")) {
    const ifindex = getLibc().if_nametoindex(cString(target));
    if (ifindex === 0) return -Errno.ENODEV;
    const link = lib.bpf_program__attach_xdp(prog, ifindex);
    return link ?? -(lastErrno() || Errno.EINVAL);
  }
  const link = lib.bpf_program__attach(prog);
  return link ?? -(lastErrno() || Errno.EINVAL);
}
