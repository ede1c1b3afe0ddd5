/**
 * The command line: `wasm-bpf [options] <module.wasm> [guest args...]`. Everything after the
 * module path goes to the guest verbatim, so `wasm-bpf runqlat.wasm -h` shows the guest's help.
 *
 * Exit status: the guest's own; 1 for a host error (bad module, trap, missing privilege); 2 for
 * a usage error; 130 after Ctrl-C and 143 after SIGTERM.
 */

import { getLibbpf, LibbpfNotFoundError } from "../libbpf_ffi.ts";
import { VERSION } from "../version.ts";
import { cString, getLibc, lastErrno } from "../libc_ffi.ts";
import { Errno } from "../errno.ts";
import { InlineChild } from "../api/inline_child.ts";
import { resolveOptions } from "../api/child_base.ts";
import type { LogRecord } from "../api/types.ts";
import { DEFAULT_CALLBACK_EXPORT, DEFAULT_WRAPPER_MODULE } from "./imports/mod.ts";
import { GuestModuleError } from "./guest_module.ts";
import { applyPolicyFlag, type MutablePolicy, POLICY_FLAGS, POLICY_USAGE } from "./policy.ts";
import {
  applyRegistryFlag,
  isRegistryCommand,
  REGISTRY_FLAGS,
  REGISTRY_USAGE,
  registryCommand,
} from "./cli_oci.ts";
import type { RegistryOptions } from "../api/types.ts";
import { parseDirSpec } from "./dir_spec.ts";

export const USAGE = `wasm-bpf ${VERSION}: run eBPF programs packaged as WebAssembly modules.

USAGE: wasm-bpf [options] <module.wasm | https://.../module.wasm | REGISTRY/REPO:TAG> [guest args...]

Everything after the module path is passed to the guest unchanged.

OPTIONS:
  -h, --help                        Show this help and exit
  -V, --version                     Show the version (and libbpf's) and exit
  -v, --verbose                     Log what the host and libbpf do, to stderr
  -m, --wrapper-module-name NAME    Import module of the TinyGo poll wrapper
                                    (default: ${DEFAULT_WRAPPER_MODULE})
  -c, --callback-export-name NAME   Export that receives TinyGo buffer records
                                    (default: ${DEFAULT_CALLBACK_EXPORT})
      --env KEY=VALUE               Set a guest environment variable (repeatable)
      --dir HOST[:GUEST]            Let the guest use directory HOST, seen as GUEST
                                    (default: the same path) (repeatable). In HOST
                                    and GUEST, \\: is a ":" and \\\\ a "\\"
      --attach-dir HOST[:GUEST]     Give the guest directory HOST (a cgroup v2 one),
                                    seen as GUEST, only as an attach target: nothing
                                    beneath it can be opened, created or listed
                                    (repeatable; \\: and \\\\ as for --dir)
      --host-imports MODULE         A JS/TS module whose default export gives the
                                    guest more import modules: { mod: { fn } }
      --log-file PATH               Write host and libbpf messages to PATH as
                                    NDJSON ({source, level, message}), not stderr
${POLICY_USAGE}
${REGISTRY_USAGE}
EXAMPLES:
  sudo wasm-bpf runqlat.wasm 1 10    # run-queue latency: 1 s summaries, 10 times
  sudo wasm-bpf runqlat.wasm -h      # the guest's own help
  sudo wasm-bpf bootstrap.wasm -d 50 # process exec/exit events lasting >= 50 ms
  sudo wasm-bpf --dir /tmp:/data --env LANG=C guest.wasm
  sudo wasm-bpf --attach-dir /sys/fs/cgroup/unified/app:/cgroup cgroup_skb.wasm /cgroup
  sudo wasm-bpf https://example.com/guests/execve.wasm
  sudo wasm-bpf localhost:5000/examples/runqlat:latest 1 3

EXIT STATUS:
  the guest's exit code; 1 host error; 2 usage error; 130 Ctrl-C; 143 SIGTERM
`;

export interface CliOptions {
  verbose: boolean;
  wrapperModuleName: string;
  callbackExportName: string;
  env: Record<string, string>;
  preopens: { guestPath: string; hostPath: string; attachOnly?: boolean }[];
  /** What the guest may do (policy.ts); empty: everything. */
  policy: MutablePolicy;
  /** How a registry reference is fetched (cli_oci.ts). */
  registry: { -readonly [K in keyof RegistryOptions]: RegistryOptions[K] };
  hostImportsModule?: string;
  logFile?: string;
  modulePath: string;
  guestArgs: string[];
}

/** A usage error: exit status 2. */
export class UsageError extends Error {}

export type ParsedCli = { kind: "help" } | { kind: "version" } | {
  kind: "run";
  options: CliOptions;
};

/** Parses host options up to the module path; the rest belongs to the guest. */
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
  let i = 0;
  const valueOf = (flag: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
    return argv[++i];
  };
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    switch (flag) {
      case "-h":
      case "--help":
        return { kind: "help" };
      case "-V":
      case "--version":
        return { kind: "version" };
      case "-v":
      case "--verbose":
        options.verbose = true;
        break;
      case "-m":
      case "--wrapper-module-name":
        options.wrapperModuleName = valueOf(flag, inline);
        break;
      case "-c":
      case "--callback-export-name":
        options.callbackExportName = valueOf(flag, inline);
        break;
      case "--env": {
        const kv = valueOf(flag, inline);
        const at = kv.indexOf("=");
        if (at <= 0) throw new UsageError(`--env takes KEY=VALUE, got "${kv}"`);
        options.env[kv.slice(0, at)] = kv.slice(at + 1);
        break;
      }
      case "--host-imports":
        options.hostImportsModule = valueOf(flag, inline);
        break;
      case "--log-file":
        options.logFile = valueOf(flag, inline);
        break;
      case "--dir":
      case "--attach-dir": {
        const spec = valueOf(flag, inline);
        const dir = parseDirSpec(spec);
        if (!dir) {
          throw new UsageError(
            `${flag} takes HOST[:GUEST] (\\: for a ":" in a path), got "${spec}"`,
          );
        }
        const attachOnly = flag === "--attach-dir";
        options.preopens.push({ ...dir, ...(attachOnly ? { attachOnly } : {}) });
        break;
      }
      default: {
        if (REGISTRY_FLAGS.has(flag)) {
          const error = applyRegistryFlag(options.registry, flag, valueOf(flag, inline));
          if (error) throw new UsageError(error);
          break;
        }
        if (!POLICY_FLAGS.has(flag)) throw new UsageError(`unknown option ${arg}`);
        const error = applyPolicyFlag(options.policy, flag, valueOf(flag, inline));
        if (error) throw new UsageError(error);
      }
    }
  }
  if (i >= argv.length) throw new UsageError("no module given");
  return {
    kind: "run",
    options: { ...options, modulePath: argv[i], guestArgs: argv.slice(i + 1) },
  };
}

function stderrLine(message: string): void {
  writeStderr(`wasm-bpf: ${message}\n`);
}

function writeStderr(text: string): void {
  const bytes = new TextEncoder().encode(text);
  try {
    let off = 0;
    while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
  } catch {
    // stderr closed: nothing left to tell
  }
}

/** Each preopen must be a directory. Probed with libc's open(): Deno refuses to stat /sys paths
 * (a cgroup for --attach-dir) without --allow-all. */
function checkPreopens(preopens: CliOptions["preopens"]): void {
  for (const { hostPath, attachOnly } of preopens) {
    const fd = getLibc().open(cString(hostPath), O_RDONLY_DIRECTORY_CLOEXEC, 0);
    if (fd >= 0) {
      getLibc().close(fd);
      continue;
    }
    const flag = attachOnly ? "--attach-dir" : "--dir";
    const why = lastErrno() === Errno.ENOTDIR ? "not a directory" : "no such directory";
    throw new UsageError(`${flag} ${hostPath}: ${why}`);
  }
}

const O_RDONLY_DIRECTORY_CLOEXEC = 0o2200000;

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  if (isRegistryCommand(argv)) return await registryCommand(argv);
  let parsed: ParsedCli;
  try {
    parsed = parseCli(argv);
    if (parsed.kind === "run") checkPreopens(parsed.options.preopens);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    stderrLine(`${e.message}\nTry 'wasm-bpf --help' for more information.`);
    return 2;
  }
  if (parsed.kind === "help") {
    await Deno.stdout.write(new TextEncoder().encode(USAGE));
    return 0;
  }
  if (parsed.kind === "version") return printVersion();

  const opts = parsed.options;
  let logFile: Deno.FsFile | undefined;
  try {
    if (opts.logFile) {
      logFile = Deno.openSync(opts.logFile, { write: true, create: true, append: true });
    }
  } catch (e) {
    stderrLine(`--log-file ${opts.logFile}: ${(e as Error).message}`);
    return 2;
  }
  const encoder = new TextEncoder();
  const logger = logFile
    ? (record: LogRecord) => logFile.writeSync(encoder.encode(`${JSON.stringify(record)}\n`))
    : undefined;
  // The CLI is a thin layer over the library: the guest runs inline (on this thread, fastest
  // to start), with the process's own stdio, and Ctrl-C/SIGTERM end its waits.
  const run = new InlineChild(
    opts.modulePath,
    resolveOptions(opts.modulePath, {
      args: opts.guestArgs,
      env: opts.env,
      dirs: opts.preopens.filter((p) => !p.attachOnly),
      attachDirs: opts.preopens.filter((p) => p.attachOnly),
      wrapperModuleName: opts.wrapperModuleName,
      callbackExportName: opts.callbackExportName,
      verbose: opts.verbose,
      logger,
      hostImportsModule: opts.hostImportsModule &&
        new URL(opts.hostImportsModule, `file://${Deno.cwd()}/`),
      policy: opts.policy,
      registry: opts.registry,
    }, { stdin: "inherit", stdout: "inherit", stderr: "inherit" }),
    { catchSignals: true },
  );
  try {
    return (await run.status).code;
  } catch (e) {
    if (e instanceof GuestModuleError || e instanceof LibbpfNotFoundError) {
      stderrLine(`${opts.modulePath}: ${e.message}`);
      return 1;
    }
    stderrLine(`internal error: ${(e as Error).stack ?? e}`);
    return 1;
  } finally {
    logFile?.close();
  }
}

function printVersion(): number {
  let libbpf = "libbpf not found";
  try {
    const lib = getLibbpf();
    libbpf = `libbpf ${lib.libbpf_major_version()}.${lib.libbpf_minor_version()}`;
  } catch {
    // reported as "not found" in the version line
  }
  console.log(`wasm-bpf ${VERSION} (${libbpf}, deno ${Deno.version.deno}, v8 ${Deno.version.v8})`);
  return 0;
}
