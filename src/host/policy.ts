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

import type { GuestLog } from "./context.ts";
import { MAX_LINES_PER_KIND } from "./log_limit.ts";
import { OPTIONAL_WASM_FEATURES } from "./wasm_layout.ts";
import { findOption, optionHelp, type OptionSpec } from "./option_table.ts";

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

/** A policy being built from flags. */
export type MutablePolicy = { -readonly [K in keyof GuestPolicy]: GuestPolicy[K] };

/** The policy's rows of the command line's option table (option_table.ts): each flag, how its
 * value is read and written, and its help. */
export const POLICY_OPTIONS: readonly OptionSpec<MutablePolicy>[] = [
  {
    long: "--allow-program-type",
    value: "T,...",
    inline: true,
    help: [
      "Load only objects whose programs all have these",
      "types (libbpf names: tracepoint, raw_tracepoint,",
      "tracing, kprobe, perf_event, xdp, cgroup_skb, ...)",
    ],
    parse(policy, value) {
      const list = listOf(value);
      const unknown = list.filter((t) => !PROGRAM_TYPE_NAMES.includes(t));
      if (unknown.length) {
        return `--allow-program-type: unknown program type ${quoted(unknown)} ` +
          `(known: ${PROGRAM_TYPE_NAMES.slice(1).join(", ")})`;
      }
      policy.allowProgramTypes = new Set([...(policy.allowProgramTypes ?? []), ...list]);
      return undefined;
    },
    // An empty allow-list must stay an allow-list of nothing, not vanish into "allow all".
    format: ({ allowProgramTypes: types }) =>
      types === undefined ? [] : [`--allow-program-type=${[...types].join(",")}`],
  },
  {
    long: "--allow-attach",
    value: "A,...",
    inline: true,
    help: [
      "Attach only to these targets: cgroup:DIR (a cgroup",
      "v2 directory and below), xdp:IFNAME, auto (programs",
      "with no target, attached from their ELF section)",
    ],
    parse(policy, value) {
      const list = listOf(value);
      for (const rule of list) {
        const err = attachRuleError(rule);
        if (err) return `--allow-attach: ${err}`;
      }
      policy.allowAttach = [...(policy.allowAttach ?? []), ...list];
      return undefined;
    },
    format: ({ allowAttach }) =>
      allowAttach === undefined ? [] : [`--allow-attach=${allowAttach.join(",")}`],
  },
  {
    long: "--allow-map-write",
    value: "false",
    inline: true,
    help: ["Maps are read-only from the guest"],
    parse(policy, value) {
      if (value !== "true" && value !== "false") {
        return `--allow-map-write takes true or false, got "${value}"`;
      }
      policy.allowMapWrite = value === "true";
      return undefined;
    },
    format: ({ allowMapWrite }) =>
      allowMapWrite === undefined ? [] : [`--allow-map-write=${allowMapWrite}`],
  },
  {
    long: "--max-objects",
    value: "N",
    inline: true,
    help: [
      "At most N BPF objects loaded at once (default",
      `${DEFAULT_MAX_OBJECTS})`,
    ],
    parse(policy, value) {
      const n = wholeNumber("--max-objects", value, 0, 1_000_000);
      if (typeof n === "string") return n;
      policy.maxObjects = n;
      return undefined;
    },
    format: ({ maxObjects }) => maxObjects === undefined ? [] : [`--max-objects=${maxObjects}`],
  },
  {
    long: "--max-memory",
    value: "MiB",
    inline: true,
    help: [
      "Cap on guest memory, all its memories and tables",
      `together (default ${DEFAULT_MAX_MEMORY_MIB})`,
    ],
    parse(policy, value) {
      // 65536 pages of 64 KiB: the most a wasm32 memory can have.
      const n = wholeNumber("--max-memory", value, 1, 4096);
      if (typeof n === "string") return n;
      policy.maxMemoryMiB = n;
      return undefined;
    },
    format: ({ maxMemoryMiB }) =>
      maxMemoryMiB === undefined ? [] : [`--max-memory=${maxMemoryMiB}`],
  },
  {
    long: "--allow-wasm-feature",
    value: "F,...",
    inline: true,
    help: [
      "Let the guest use these WebAssembly proposals,",
      "which no wasm-bpf toolchain emits: gc,",
      "exceptions, memory64, multi-memory",
    ],
    parse(policy, value) {
      const list = listOf(value);
      const known: readonly string[] = OPTIONAL_WASM_FEATURES;
      const unknown = list.filter((f) => !known.includes(f));
      if (unknown.length) {
        return `--allow-wasm-feature: unknown feature ${quoted(unknown)} ` +
          `(known: ${OPTIONAL_WASM_FEATURES.join(", ")})`;
      }
      policy.allowWasmFeatures = [...(policy.allowWasmFeatures ?? []), ...list];
      return undefined;
    },
    // None allowed is the default: no flag for it.
    format: ({ allowWasmFeatures: features }) =>
      features?.length ? [`--allow-wasm-feature=${features.join(",")}`] : [],
  },
  {
    long: "--pin-root",
    value: "DIR",
    inline: true,
    help: [
      "Pin maps declared LIBBPF_PIN_BY_NAME in DIR (on a",
      "BPF filesystem) and reuse those pinned there",
      "(default: a private directory per run)",
    ],
    parse(policy, value) {
      if (!value.startsWith("/") || value.includes("\0")) {
        return `--pin-root takes an absolute directory, got "${value}"`;
      }
      policy.pinRoot = normalizePath(value);
      return undefined;
    },
    format: ({ pinRoot }) => pinRoot === undefined ? [] : [`--pin-root=${pinRoot}`],
  },
];

/** The policy flags of the CLI, each taking a value. */
export const POLICY_FLAGS: ReadonlySet<string> = new Set(POLICY_OPTIONS.map((o) => o.long));

/** Their lines for the CLI's usage text. */
export const POLICY_USAGE = `
GUEST POLICY (opt-in; by default a guest may do all that root may, with the caps shown):
${optionHelp(POLICY_OPTIONS)}`;

/**
 * Applies one policy flag of the CLI to `policy`. Returns an error message for a bad value
 * (the CLI reports it as a usage error), or undefined.
 */
export function applyPolicyFlag(
  policy: MutablePolicy,
  flag: string,
  value: string,
): string | undefined {
  const spec = findOption(POLICY_OPTIONS, flag);
  return spec ? spec.parse(policy, value) : `unknown policy option ${flag}`;
}

/** The items of a comma-separated list flag. */
function listOf(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function quoted(items: readonly string[]): string {
  return items.map((s) => `"${s}"`).join(", ");
}

/** `value` as a whole number from `min` to `max`, or the usage error. */
function wholeNumber(flag: string, value: string, min: number, max: number): number | string {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    return `${flag} takes a whole number from ${min} to ${max}, got "${value}"`;
  }
  return n;
}

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

function attachRuleError(rule: string): string | undefined {
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
