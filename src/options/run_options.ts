/**
 * The option table of a run, `wasm-bpf [options] <module> [guest args...]`, and the two
 * directions generated from it: {@link parseCli} reads a command line (the CLI, and the child
 * process of a guest run with process isolation), {@link formatCli} writes one (the library,
 * starting that child). `parseCli(formatCli(o))` gives back `o` (tests/option_table_test.ts).
 */

import { DEFAULT_CALLBACK_EXPORT, DEFAULT_WRAPPER_MODULE } from "../guest/import_signatures.ts";
import { formatDirSpec, parseDirSpec } from "./dir_spec.ts";
import { type MutablePolicy, POLICY_OPTIONS } from "./policy_flags.ts";
import { type MutableRegistryOptions, REGISTRY_OPTIONS } from "./registry_options.ts";
import {
  formatOptions,
  nested,
  optionHelp,
  type OptionSpec,
  parseOptions,
  type StopSpec,
  stringOption,
  UsageError,
} from "./option_table.ts";

/** A directory the guest may use (or, `attachOnly`, only name as an attach target). */
export interface Preopen {
  hostPath: string;
  guestPath: string;
  attachOnly?: boolean;
}

/** The options of a run that flags give. */
export interface RunFlags {
  verbose: boolean;
  /** Unset: the default (the CLI's parse sets it). */
  wrapperModuleName?: string;
  callbackExportName?: string;
  env: Record<string, string>;
  /** In the guest's fd order. */
  preopens: Preopen[];
  /** What the guest may do (policy.ts); empty: everything. */
  policy: MutablePolicy;
  /** How a registry reference is fetched (registry_options.ts). */
  registry: MutableRegistryOptions;
  hostImportsModule?: string;
  logFile?: string;
}

/** The options of a run, as its command line gives them. */
export interface RunOptions extends RunFlags {
  modulePath: string;
  guestArgs: string[];
}

/** The options of a run as the CLI read them, with the defaults in. */
export interface CliOptions extends RunOptions {
  wrapperModuleName: string;
  callbackExportName: string;
}

export type ParsedCli = { kind: "help" } | { kind: "version" } | {
  kind: "run";
  options: CliOptions;
};

const STOPS: readonly StopSpec<"help" | "version">[] = [
  { long: "--help", short: "-h", help: ["Show this help and exit"], stop: "help" },
  {
    long: "--version",
    short: "-V",
    help: ["Show the version (and libbpf's) and exit"],
    stop: "version",
  },
];

/** A `--dir` or `--attach-dir` row. */
function preopenOption(long: string, attachOnly: boolean, help: string[]): OptionSpec<RunFlags> {
  return {
    long,
    value: "HOST[:GUEST]",
    help,
    parse(into, spec) {
      const dir = parseDirSpec(spec);
      if (!dir) return `${long} takes HOST[:GUEST] (\\: for a ":" in a path), got "${spec}"`;
      into.preopens.push({ ...dir, ...(attachOnly ? { attachOnly } : {}) });
      return undefined;
    },
    // Both rows add to one list, whose order is the guest's fd order: the `--dir` row writes
    // all of it, each directory with its own flag.
    format: (from) =>
      attachOnly ? [] : from.preopens.flatMap((p) => [
        p.attachOnly ? "--attach-dir" : "--dir",
        formatDirSpec(p.hostPath, p.guestPath),
      ]),
  };
}

/** The host's own rows, in the order of the help. */
const HOST_OPTIONS: readonly OptionSpec<RunFlags>[] = [
  {
    long: "--verbose",
    short: "-v",
    help: ["Log what the host and libbpf do, to stderr"],
    parse(into) {
      into.verbose = true;
      return undefined;
    },
    format: (from) => from.verbose ? ["--verbose"] : [],
  },
  stringOption({
    long: "--wrapper-module-name",
    short: "-m",
    value: "NAME",
    help: ["Import module of the TinyGo poll wrapper", `(default: ${DEFAULT_WRAPPER_MODULE})`],
  }, "wrapperModuleName"),
  stringOption({
    long: "--callback-export-name",
    short: "-c",
    value: "NAME",
    help: ["Export that receives TinyGo buffer records", `(default: ${DEFAULT_CALLBACK_EXPORT})`],
  }, "callbackExportName"),
  {
    long: "--env",
    value: "KEY=VALUE",
    help: ["Set a guest environment variable (repeatable)"],
    parse(into, kv) {
      const at = kv.indexOf("=");
      if (at <= 0) return `--env takes KEY=VALUE, got "${kv}"`;
      into.env[kv.slice(0, at)] = kv.slice(at + 1);
      return undefined;
    },
    format: (from) => Object.entries(from.env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
  },
  preopenOption("--dir", false, [
    "Let the guest use directory HOST, seen as GUEST",
    "(default: the same path) (repeatable). In HOST",
    'and GUEST, \\: is a ":" and \\\\ a "\\"',
  ]),
  preopenOption("--attach-dir", true, [
    "Give the guest directory HOST (a cgroup v2 one),",
    "seen as GUEST, only as an attach target: nothing",
    "beneath it can be opened, created or listed",
    "(repeatable; \\: and \\\\ as for --dir)",
  ]),
  stringOption({
    long: "--host-imports",
    value: "MODULE",
    help: [
      "A JS/TS module whose default export gives the",
      "guest more import modules: { mod: { fn } }",
    ],
  }, "hostImportsModule"),
  stringOption({
    long: "--log-file",
    value: "PATH",
    help: [
      "Write host and libbpf messages to PATH as",
      "NDJSON ({source, level, message}), not stderr",
    ],
  }, "logFile"),
];

/** Every option of a run: the host's, the policy's, the registry's. */
export const RUN_OPTIONS: readonly OptionSpec<RunFlags>[] = [
  ...HOST_OPTIONS,
  ...nested(POLICY_OPTIONS, (o: RunFlags) => o.policy),
  ...nested(REGISTRY_OPTIONS, (o: RunFlags) => o.registry),
];

/** The help lines of `--help`, `--version` and the host's options (the policy's and the
 * registry's have sections of their own). */
export const HOST_OPTIONS_USAGE: string = optionHelp([...STOPS, ...HOST_OPTIONS]);

/** Parses host options up to the module path; the rest belongs to the guest. Throws
 * {@link UsageError}. */
export function parseCli(argv: string[]): ParsedCli {
  const options: Omit<CliOptions, "modulePath" | "guestArgs"> = {
    verbose: false,
    wrapperModuleName: DEFAULT_WRAPPER_MODULE,
    callbackExportName: DEFAULT_CALLBACK_EXPORT,
    env: {},
    preopens: [],
    policy: {},
    registry: {},
  };
  const parsed = parseOptions([...STOPS, ...RUN_OPTIONS], argv, options);
  if ("stop" in parsed) return { kind: parsed.stop };
  const [modulePath, ...guestArgs] = parsed.operands;
  if (modulePath === undefined) throw new UsageError("no module given");
  if (modulePath === "") throw new UsageError("the module path is empty");
  return { kind: "run", options: { ...options, modulePath, guestArgs } };
}

/** The command line that {@link parseCli} reads back as `options`. */
export function formatCli(options: RunOptions): string[] {
  return [...formatOptions(RUN_OPTIONS, options), "--", options.modulePath, ...options.guestArgs];
}
