/**
 * What a guest may do, beyond what the kernel allows the host process. Opt-in: the default
 * policy allows everything, which is what upstream runtimes do.
 *
 * The checks run in the host imports, before libbpf or the kernel sees the request:
 *
 * - program types: `wasm_load_bpf_object` opens the object, reads the type of every program in
 *   it, and refuses the whole object (handle 0, nothing loaded into the kernel) when one of
 *   them is not allowed;
 * - attach targets: `wasm_attach_bpf_program` refuses with -EPERM a cgroup directory or a
 *   network interface not in the list, and an auto-attach (no target) unless the list holds
 *   `auto`;
 * - map writes: `wasm_bpf_map_operate` refuses UPDATE_ELEM and DELETE_ELEM with -EPERM;
 * - object count: `wasm_load_bpf_object` refuses a load past the limit (handle 0; default
 *   {@link DEFAULT_MAX_OBJECTS});
 * - memory: the maximum sizes of the module's memories and tables are lowered before it is
 *   compiled (memory_limit.ts), so `memory.grow` past the limit returns -1 and the guest's
 *   malloc returns NULL;
 * - WebAssembly proposals: a module using one no toolchain emits for a guest (WasmGC, ...) is
 *   refused when it is compiled, unless allowed.
 *
 * Every refusal is logged on stderr, one line each (the first {@link MAX_LOGGED_REFUSALS} of a
 * kind; then one line saying that the rest of that kind are not logged).
 */

import { type GuestLog, MAX_LINES_PER_KIND } from "./log_limit.ts";

/** The default cap on guest linear memory: 1 GiB. */
export const DEFAULT_MAX_MEMORY_MIB = 1024;
/** The default cap on BPF objects a guest has loaded at once: far above what real guests load
 * (one to three), and a bound on the kernel memory and fds a looping guest takes (fd_budget.ts
 * keeps the host's own fds whatever the cap). */
export const DEFAULT_MAX_OBJECTS = 64;

/** What a guest may do beyond what the kernel allows the host: opt-in limits, all of them
 * unset by default (upstream runtimes allow everything). */
export interface GuestPolicy {
  /** Program types (libbpf names, as `libbpf_bpf_prog_type_str` gives them, e.g.
   * "tracepoint", "raw_tracepoint", "tracing", "kprobe") a loaded object may contain.
   * Undefined: any type. */
  allowProgramTypes?: ReadonlySet<string>;
  /** Attach targets the guest may use, in the CLI's syntax: `cgroup:/sys/fs/cgroup/x` (that
   * cgroup v2 directory and those below it), `xdp:lo` (that interface), `auto` (programs
   * attached from their ELF section, with no target). Undefined: any target. */
  allowAttach?: readonly string[];
  /** When false, map updates and deletes from the guest fail with -EPERM. */
  allowMapWrite?: boolean;
  /** The most BPF objects a guest may have loaded at once (default
   * {@link DEFAULT_MAX_OBJECTS}). */
  maxObjects?: number;
  /** The most memory the guest may have, in MiB (default 1024): all its linear memories and
   * tables together. Applied when the module is compiled (`compileGuest`); a precompiled
   * `WebAssembly.Module` cannot be capped, and is refused when this is set. */
  maxMemoryMiB?: number;
  /** WebAssembly proposals the guest may use beyond those of real toolchains: "gc",
   * "exceptions", "memory64", "multi-memory". None by default (a guest using one is refused
   * when it is compiled); shared memories are never run. */
  allowWasmFeatures?: readonly string[];
  /** A directory on the BPF filesystem where maps declared `LIBBPF_PIN_BY_NAME` are pinned and
   * reused from, shared with whatever else pins there (pins the run created are removed at
   * its end). Undefined: a private directory per run, removed at its end (pin_root.ts). */
  pinRoot?: string;
}

/** libbpf 1.1's program type names by `enum bpf_prog_type` value (libbpf.c prog_type_name):
 * what `--allow-program-type` accepts, and the fallback when `libbpf_bpf_prog_type_str`
 * does not know a value. */
export const PROGRAM_TYPE_NAMES: readonly string[] = [
  "unspec",
  "socket_filter",
  "kprobe",
  "sched_cls",
  "sched_act",
  "tracepoint",
  "xdp",
  "perf_event",
  "cgroup_skb",
  "cgroup_sock",
  "lwt_in",
  "lwt_out",
  "lwt_xmit",
  "sock_ops",
  "sk_skb",
  "cgroup_device",
  "sk_msg",
  "raw_tracepoint",
  "cgroup_sock_addr",
  "lwt_seg6local",
  "lirc_mode2",
  "sk_reuseport",
  "flow_dissector",
  "cgroup_sysctl",
  "raw_tracepoint_writable",
  "cgroup_sockopt",
  "tracing",
  "struct_ops",
  "ext",
  "lsm",
  "sk_lookup",
  "syscall",
  "netfilter",
];

// --- program types --------------------------------------------------------------------------

/** The name of a program type value (libbpf's, or our table's, or "type N"). */
export function programTypeName(type: number, fromLibbpf?: string | null): string {
  return fromLibbpf ?? PROGRAM_TYPE_NAMES[type] ?? `type ${type}`;
}

/** Null when a program of type `typeName` may be loaded; otherwise the refusal message. */
export function programTypeRefusal(
  policy: GuestPolicy,
  program: string,
  section: string,
  typeName: string,
): string | null {
  const allowed = policy.allowProgramTypes;
  if (!allowed || allowed.has(typeName)) return null;
  return `refused to load program "${program}" (section ${section}) of type ${typeName}: ` +
    `--allow-program-type allows ${[...allowed].join(", ") || "none"}`;
}

// --- attach targets -------------------------------------------------------------------------

/** What an attach would do: attach to a cgroup, to an interface, or from the ELF section. */
export type AttachKind =
  | { kind: "cgroup"; path: string }
  | { kind: "xdp"; ifname: string }
  | { kind: "auto" };

/** Why `rule` is not an attach rule (`auto`, `cgroup:DIR`, `xdp:IFNAME`), or undefined. */
export function attachRuleError(rule: string): string | undefined {
  if (rule === "auto") return undefined;
  const at = rule.indexOf(":");
  const kind = at < 0 ? rule : rule.slice(0, at);
  const arg = at < 0 ? "" : rule.slice(at + 1);
  if (kind === "cgroup") {
    return arg.startsWith("/") ? undefined : `"${rule}": cgroup: takes an absolute directory`;
  }
  if (kind === "xdp") return arg ? undefined : `"${rule}": xdp: takes an interface name`;
  return `"${rule}": expected auto, cgroup:DIR or xdp:IFNAME`;
}

/** A path without "." and ".." components, duplicate or trailing slashes. */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

/** The canonical form of an allowed cgroup directory (symlinks resolved when it exists). */
function canonicalDir(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return normalizePath(path);
  }
}

/**
 * Null when the attach is allowed; otherwise the refusal message. For a cgroup, `kind.path`
 * must be the canonical path of the directory already opened (read back from
 * /proc/self/fd), so that neither "..", nor a symlink, nor a rename between the check and the
 * attach can escape the list.
 */
export function attachRefusal(
  policy: GuestPolicy,
  program: string,
  section: string,
  kind: AttachKind,
): string | null {
  const rules = policy.allowAttach;
  if (!rules) return null;
  for (const rule of rules) {
    if (kind.kind === "auto" && rule === "auto") return null;
    if (kind.kind === "xdp" && rule === `xdp:${kind.ifname}`) return null;
    if (kind.kind === "cgroup" && rule.startsWith("cgroup:")) {
      const dir = canonicalDir(rule.slice("cgroup:".length));
      if (kind.path === dir || kind.path.startsWith(dir === "/" ? "/" : `${dir}/`)) return null;
    }
  }
  const what = kind.kind === "auto"
    ? "auto-attach (no target)"
    : kind.kind === "xdp"
    ? `interface ${kind.ifname}`
    : `cgroup ${kind.path}`;
  return `refused to attach program "${program}" (section ${section}) to ${what}: ` +
    `--allow-attach allows ${rules.join(", ") || "nothing"}`;
}

// --- map writes and object count --------------------------------------------------------------

/** Null when the guest may write maps; otherwise the refusal message. */
export function mapWriteRefusal(policy: GuestPolicy, op: string, map: string): string | null {
  if (policy.allowMapWrite !== false) return null;
  return `refused ${op} on map "${map}": --allow-map-write=false`;
}

/** Null when one more object may be loaded; otherwise the refusal message. */
export function objectCountRefusal(policy: GuestPolicy, loaded: number): string | null {
  const max = policy.maxObjects ?? DEFAULT_MAX_OBJECTS;
  if (loaded < max) return null;
  return `refused to load a BPF object: ${loaded} already loaded, --max-objects=${max}` +
    (policy.maxObjects === undefined ? " (the default; raise it with --max-objects=N)" : "");
}

// --- logging ----------------------------------------------------------------------------------

/** How many refusals of one kind are logged before the rest are only counted. */
export const MAX_LOGGED_REFUSALS = MAX_LINES_PER_KIND;

/** Logs a refusal on the error log ("policy: ..."), one line, at most
 * {@link MAX_LOGGED_REFUSALS} per kind in a run (a guest retrying in a loop cannot flood
 * stderr): the guest log's rate limit, kind "<kind> refusals". */
export function logRefusal(log: GuestLog, kind: string, message: string): void {
  log.error(`${kind} refusals`, message, "policy: ");
}
