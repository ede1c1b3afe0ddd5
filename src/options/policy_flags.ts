/**
 * The guest policy as command-line flags: the policy's rows of the option table (each flag,
 * how its value is read and written, its help), and a GuestPolicy as the flags that give it.
 * The rules themselves live in src/guest/policy.ts.
 */

import { OPTIONAL_WASM_FEATURES } from "../guest/wasm_layout.ts";
import {
  attachRuleError,
  DEFAULT_MAX_MEMORY_MIB,
  DEFAULT_MAX_OBJECTS,
  type GuestPolicy,
  normalizePath,
  PROGRAM_TYPE_NAMES,
} from "../guest/policy.ts";
import { findOption, formatOptions, optionHelp, type OptionSpec } from "./option_table.ts";

export function policyToFlags(policy: GuestPolicy | undefined): string[] {
  return policy ? formatOptions(POLICY_OPTIONS, policy) : [];
}

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
