/**
 * `wasm_attach_bpf_program(handle, name, attach_target) -> i32` (abi.md §3).
 *
 * `name` is the program's function name. With no target (0 or ""), libbpf auto-attaches from
 * the ELF section. With a target: cgroup and sockops programs take a cgroup v2 directory, XDP
 * programs an interface name; other sections ignore the target.
 *
 * Under a policy with `allowAttach` (policy.ts), the target is checked first: a cgroup after
 * it is opened (its canonical path read back from /proc/self/fd, so ".." and symlinks cannot
 * escape the list), an interface by name, and an attach with no target (or one the section
 * ignores) only when the list holds `auto`. A refusal returns -EPERM.
 */

import { Errno, errnoName } from "../../errno.ts";
import { cString, getLibbpf, libbpfStrerror, takeRecentLibbpfMessages } from "../../libbpf_ffi.ts";
import { getLibc, lastErrno } from "../../libc_ffi.ts";
import type { HostContext } from "../context.ts";
import { type AttachKind, attachRefusal, logRefusal, normalizePath } from "../policy.ts";

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
    const result = attachTo(ctx, name, prog, section, target);
    if (result instanceof Refused) return result.errno; // logged by the policy, in one line
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

/** What attaching a program of `section` to `target` means. */
export function attachKindOf(section: string, target: string): AttachKind {
  if (target !== "" && (section.startsWith("cgroup") || section.startsWith("sockops"))) {
    return { kind: "cgroup", path: target };
  }
  if (target !== "" && section.startsWith("xdp")) return { kind: "xdp", ifname: target };
  return { kind: "auto" };
}

/** A policy refusal, already logged. */
class Refused {
  readonly errno = -Errno.EPERM;
}

/** Refuses (logged, -EPERM) when the policy does not allow `kind`; null when it does. */
function refuse(ctx: HostContext, name: string, section: string, kind: AttachKind): Refused | null {
  const refusal = attachRefusal(ctx.policy, name, section, kind);
  if (!refusal) return null;
  logRefusal(ctx.log, "attach", refusal);
  return new Refused();
}

/** A link, or a negative errno. */
function attachTo(
  ctx: HostContext,
  name: string,
  prog: Deno.PointerObject,
  section: string,
  target: string,
): Deno.PointerObject | number | Refused {
  const lib = getLibbpf();
  const kind = attachKindOf(section, target);
  if (kind.kind === "cgroup") {
    const fd = getLibc().open(cString(target), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) {
      const err = -(lastErrno() || Errno.ENOENT);
      // Under a policy, a target outside the list is refused whether it exists or not.
      if (!ctx.policy.allowAttach) return err;
      return refuse(ctx, name, section, { kind: "cgroup", path: normalizePath(target) }) ?? err;
    }
    try {
      if (ctx.policy.allowAttach) {
        let path = target;
        try {
          path = Deno.readLinkSync(`/proc/self/fd/${fd}`);
        } catch { /* no /proc: check the path as given */ }
        const refused = refuse(ctx, name, section, { kind: "cgroup", path });
        if (refused !== null) return refused;
      }
      const link = lib.bpf_program__attach_cgroup(prog, fd);
      return link ?? -(lastErrno() || Errno.EINVAL);
    } finally {
      getLibc().close(fd); // the link holds its own reference to the cgroup
    }
  }
  const refused = refuse(ctx, name, section, kind);
  if (refused !== null) return refused;
  if (kind.kind === "xdp") {
    const ifindex = getLibc().if_nametoindex(cString(kind.ifname));
    if (ifindex === 0) return -Errno.ENODEV;
    const link = lib.bpf_program__attach_xdp(prog, ifindex);
    return link ?? -(lastErrno() || Errno.EINVAL);
  }
  const link = lib.bpf_program__attach(prog);
  return link ?? -(lastErrno() || Errno.EINVAL);
}
