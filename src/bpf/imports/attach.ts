/**
 * The two attach imports (docs/abi.md §3):
 *
 * - `wasm_attach_bpf_program(handle, name, attach_target) -> i32`: the target is a string. With
 *   no target (0 or ""), libbpf auto-attaches from the ELF section. Cgroup and sockops programs
 *   take a cgroup v2 directory path, which the host opens; XDP programs an interface name; other
 *   sections ignore the target.
 * - `wasm_attach_bpf_program_fd(handle, name, target_fd) -> i32` (upstream's answer to its issue
 *   #48): the target is a guest WASI descriptor, which resolves only to a directory the host
 *   itself preopened for this guest; cgroup and sockops programs attach to that cgroup through
 *   the host fd recorded at preopen time, so no path from the guest is opened. A negative fd
 *   means no target (auto-attach); XDP is refused (it stays on the name-based import); other
 *   sections auto-attach and never look at the fd, as upstream's hosts do.
 *
 * A target the guest may not use fails with one errno, -EPERM (upstream's -1), whatever the
 * reason: a missing path, a file, a directory that is not a cgroup v2 one, a descriptor that is
 * not a host preopen, a policy refusal. So the errno cannot probe the host's files; the reason
 * goes to the -v log (a policy refusal to the log, as every refusal does).
 *
 * Under a policy with `allowAttach` (policy.ts), the target is checked first: a cgroup after
 * it is opened (its canonical path read back from /proc/self/fd, so ".." and symlinks cannot
 * escape the list), an interface by name, and an attach with no target (or one the section
 * ignores) only when the list holds `auto`.
 */

import { errnoName, LinuxErrno } from "../../ffi/errno.ts";
import {
  cString,
  getLibbpf,
  libbpfStrerror,
  ptrErr,
  takeRecentLibbpfMessages,
} from "../../ffi/libbpf_ffi.ts";
import { getLibc } from "../../ffi/libc_ffi.ts";
import { OwnedFd } from "../../ffi/owned_fd.ts";
import type { HostContext } from "../context.ts";
import { Link } from "../link.ts";
import { type AttachKind, attachRefusal, logRefusal, normalizePath } from "../../guest/policy.ts";

const O_RDONLY = 0;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;
/** `f_type` of a cgroup v2 filesystem (linux/magic.h). */
const CGROUP2_SUPER_MAGIC = 0x63677270n;
/** What every unusable target returns (see the module doc). */
const TARGET_REFUSED = -LinuxErrno.EPERM;
/** The kind of the error lines of both attach imports, rate-limited per run (log_limit.ts). */
const ATTACH_ERRORS = "attach errors";

/** An attach target as the guest gave it: a path string, or a guest descriptor. */
type Target = { path: string } | { guestFd: number };

/** An attach that did not happen: the guest's errno and how to tell the user. */
interface Failure {
  readonly errno: number;
  /** Logged as an error, with libbpf's last messages; undefined when already logged. */
  readonly error?: string;
  /** Logged with -v only: the detail of a refused target. */
  readonly verbose?: string;
}

export function makeAttach(
  ctx: HostContext,
): (handle: bigint, name: number, target: number) => number {
  return (handle, namePtr, targetPtr) =>
    attachImport(ctx, handle, namePtr, "path", () => {
      if (targetPtr === 0) return null;
      const path = ctx.memory.cString(targetPtr);
      if (path === null) return -LinuxErrno.EFAULT;
      return path === "" ? null : { path };
    });
}

export function makeAttachFd(
  ctx: HostContext,
): (handle: bigint, name: number, targetFd: number) => number {
  return (handle, namePtr, targetFd) =>
    attachImport(ctx, handle, namePtr, "fd", () => targetFd < 0 ? null : { guestFd: targetFd });
}

/** The shared body of both imports: find the program, attach it, log and keep the link. */
function attachImport(
  ctx: HostContext,
  handle: bigint,
  namePtr: number,
  form: "path" | "fd",
  readTarget: () => Target | null | number,
): number {
  const loaded = ctx.objects.get(handle);
  if (!loaded) return -LinuxErrno.EINVAL;
  const name = ctx.memory.cString(namePtr);
  if (name === null) return -LinuxErrno.EFAULT;
  const target = readTarget();
  if (typeof target === "number") return target;

  const lib = getLibbpf();
  const prog = lib.bpf_object__find_program_by_name(loaded.unsafeObject, cString(name));
  if (prog === null) return -LinuxErrno.ENOENT;
  const section = Deno.UnsafePointerView.getCString(lib.bpf_program__section_name(prog)!);

  takeRecentLibbpfMessages();
  const result = attachTo(ctx, name, prog, section, target, form);
  const what = `attach ${name} (section ${section}${target ? `, target ${shown(target)}` : ""})`;
  if ("errno" in result) {
    if (result.verbose !== undefined) ctx.log.debug(`${what}: refused: ${result.verbose}`);
    if (result.error !== undefined) {
      const why = takeRecentLibbpfMessages().slice(-3).join("; ");
      ctx.log.error(ATTACH_ERRORS, `${what}: ${result.error}${why ? `: ${why}` : ""}`);
    }
    return result.errno;
  }
  loaded.adopt(result.link);
  ctx.log.debug(`attached ${name} (section ${section}${target ? ` to ${shown(target)}` : ""})`);
  return 0;
}

function shown(target: Target): string {
  return "path" in target ? target.path : `guest fd ${target.guestFd}`;
}

/** What attaching a program of `section` to `target` means. */
export function attachKindOf(section: string, target: string): AttachKind {
  if (target !== "" && isCgroupSection(section)) return { kind: "cgroup", path: target };
  if (target !== "" && section.startsWith("xdp")) return { kind: "xdp", ifname: target };
  return { kind: "auto" };
}

function isCgroupSection(section: string): boolean {
  return section.startsWith("cgroup") || section.startsWith("sockops");
}

/** An attach's libbpf result: the link, or a Failure with libbpf's errno named in an error line
 * (call it at once: it reads errno). */
function linkOr(link: Deno.PointerValue): { link: Link } | Failure {
  if (link !== null) return { link: new Link(link) };
  const errno = ptrErr(link);
  return { errno, error: `${errnoName(errno)} (${libbpfStrerror(errno)})` };
}

/** Refuses (logged, -EPERM) when the policy does not allow `kind`; null when it does. */
function refuse(ctx: HostContext, name: string, section: string, kind: AttachKind): Failure | null {
  const refusal = attachRefusal(ctx.policy, name, section, kind);
  if (!refusal) return null;
  logRefusal(ctx.log, "attach", refusal);
  return { errno: TARGET_REFUSED };
}

/** The link, or why there is none. */
function attachTo(
  ctx: HostContext,
  name: string,
  prog: Deno.PointerObject,
  section: string,
  target: Target | null,
  form: "path" | "fd",
): { link: Link } | Failure {
  const lib = getLibbpf();
  if (form === "fd" && section.startsWith("xdp")) {
    return {
      errno: TARGET_REFUSED,
      error: "the fd form cannot attach XDP: pass the interface name to wasm_attach_bpf_program",
    };
  }
  if (target !== null && isCgroupSection(section)) {
    const cgroup = openCgroup(ctx, name, section, target);
    if ("errno" in cgroup) return cgroup;
    using _opened = cgroup.opened; // the link holds its own reference to the cgroup
    return linkOr(lib.bpf_program__attach_cgroup(prog, cgroup.fd));
  }
  // the fd form names only cgroups: any other section ignores its descriptor, as upstream's do
  const kind: AttachKind = target !== null && "path" in target
    ? attachKindOf(section, target.path)
    : { kind: "auto" };
  const refused = refuse(ctx, name, section, kind);
  if (refused !== null) return refused;
  if (kind.kind === "xdp") {
    const ifindex = getLibc().if_nametoindex(cString(kind.ifname));
    if (ifindex === 0) return { errno: -LinuxErrno.ENODEV, error: "no such network interface" };
    return linkOr(lib.bpf_program__attach_xdp(prog, ifindex));
  }
  return linkOr(lib.bpf_program__attach(prog));
}

/**
 * The host fd of the cgroup v2 directory `target` names, once the policy allowed it, with its
 * owner when it was opened here (a preopen's fd belongs to WASI). Any other outcome is the one
 * refusal errno.
 */
function openCgroup(
  ctx: HostContext,
  name: string,
  section: string,
  target: Target,
): { fd: number; opened?: OwnedFd } | Failure {
  let fd: number;
  let opened: OwnedFd | undefined;
  if ("guestFd" in target) {
    const hostFd = ctx.preopenedDirFd(target.guestFd);
    if (hostFd === undefined) {
      return { errno: TARGET_REFUSED, verbose: "not a directory the host preopened" };
    }
    fd = hostFd;
  } else {
    const owned = OwnedFd.open(target.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, LinuxErrno.ENOENT);
    if (typeof owned === "number") {
      const err = errnoName(owned);
      // Under a policy, a target outside the list is refused whether it exists or not.
      const path = normalizePath(target.path);
      return refuse(ctx, name, section, { kind: "cgroup", path }) ??
        { errno: TARGET_REFUSED, verbose: `cannot open it as a directory: ${err}` };
    }
    opened = owned;
    fd = owned.fd;
  }
  const refused = ctx.policy.allowAttach
    ? refuse(ctx, name, section, { kind: "cgroup", path: canonicalPath(fd) })
    : null;
  const failure = refused ?? (isCgroup2(fd) ? null : {
    errno: TARGET_REFUSED,
    verbose: "not a cgroup v2 directory",
  });
  if (failure !== null) {
    opened?.close();
    return failure;
  }
  return { fd, opened };
}

/** The canonical path of the open directory `fd`, read back from /proc/self/fd (through libc:
 * Deno allows it only with --allow-all); "" when unreadable, which no allow-list matches. */
function canonicalPath(fd: number): string {
  const buf = new Uint8Array(4096);
  const n = Number(getLibc().readlink(cString(`/proc/self/fd/${fd}`), buf, BigInt(buf.length)));
  return n > 0 && n < buf.length ? new TextDecoder().decode(buf.subarray(0, n)) : "";
}

/** Whether `fd` lies on a cgroup v2 filesystem. */
function isCgroup2(fd: number): boolean {
  const buf = new Uint8Array(256); // struct statfs is 120 bytes on 64-bit Linux; f_type first
  if (getLibc().fstatfs(fd, buf) !== 0) return false;
  return new DataView(buf.buffer).getBigUint64(0, true) === CGROUP2_SUPER_MAGIC;
}
