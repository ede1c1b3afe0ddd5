/**
 * The command line: `wasm-bpf [options] <module.wasm> [guest args...]`. Everything after the
 * module path goes to the guest verbatim, so `wasm-bpf runqlat.wasm -h` shows the guest's help.
 *
 * Exit status: the guest's own; 1 for a host error (bad module, trap, missing privilege); 2 for
 * a usage error; 130 after Ctrl-C and 143 after SIGTERM.
 */

import { getLibbpf, LibbpfNotFoundError, setLibbpfLogger } from "../libbpf_ffi.ts";
import { VERSION } from "../version.ts";
import type { HostLog } from "./context.ts";
import { DEFAULT_CALLBACK_EXPORT, DEFAULT_WRAPPER_MODULE, WASM_BPF_MODULE } from "./imports/mod.ts";
import { missingBpfPrivilege } from "./privileges.ts";
import { compileGuest, GuestModuleError } from "./guest_module.ts";
import { runGuest } from "./run.ts";
import { stdinSource, stdioSink } from "./stdio.ts";
import { RunStop } from "./stop.ts";

export const USAGE = `wasm-bpf ${VERSION}: run eBPF programs packaged as WebAssembly modules.

USAGE: wasm-bpf [options] <module.wasm> [guest args...]

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
                                    (default: the same path) (repeatable)

EXAMPLES:
  sudo wasm-bpf runqlat.wasm 1 10    # run-queue latency: 1 s summaries, 10 times
  sudo wasm-bpf runqlat.wasm -h      # the guest's own help
  sudo wasm-bpf bootstrap.wasm -d 50 # process exec/exit events lasting >= 50 ms
  sudo wasm-bpf --dir /tmp:/data --env LANG=C guest.wasm

EXIT STATUS:
  the guest's exit code; 1 host error; 2 usage error; 130 Ctrl-C; 143 SIGTERM
`;

export interface CliOptions {
  verbose: boolean;
  wrapperModuleName: string;
  callbackExportName: string;
  env: Record<string, string>;
  preopens: { guestPath: string; hostPath: string }[];
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
      case "--dir": {
        const spec = valueOf(flag, inline);
        const at = spec.indexOf(":");
        const hostPath = at < 0 ? spec : spec.slice(0, at);
        const guestPath = at < 0 ? spec : spec.slice(at + 1);
        if (!hostPath || !guestPath) {
          throw new UsageError(`--dir takes HOST[:GUEST], got "${spec}"`);
        }
        options.preopens.push({ hostPath, guestPath });
        break;
      }
      default:
        throw new UsageError(`unknown option ${arg}`);
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

async function readModule(path: string): Promise<Uint8Array<ArrayBuffer>> {
  try {
    const info = await Deno.stat(path);
    if (info.isDirectory) throw new GuestModuleError("is a directory, not a module");
    return await Deno.readFile(path) as Uint8Array<ArrayBuffer>;
  } catch (e) {
    if (e instanceof GuestModuleError) throw e;
    if (e instanceof Deno.errors.NotFound) throw new GuestModuleError("no such file");
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new GuestModuleError("permission denied");
    }
    throw new GuestModuleError(`cannot read it: ${(e as Error).message}`, { cause: e });
  }
}

function checkPreopens(preopens: CliOptions["preopens"]): void {
  for (const { hostPath } of preopens) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(hostPath);
    } catch {
      throw new UsageError(`--dir ${hostPath}: no such directory`);
    }
    if (!info.isDirectory) throw new UsageError(`--dir ${hostPath}: not a directory`);
  }
}

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
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
  const log: HostLog = {
    error: (m) => stderrLine(m),
    debug: opts.verbose ? (m) => stderrLine(m) : () => {},
  };
  // libbpf prefixes its own lines with "libbpf: ".
  if (opts.verbose) setLibbpfLogger((_level, message) => writeStderr(`${message}\n`));

  try {
    const module = await compileGuest(await readModule(opts.modulePath));
    const usesBpf = WebAssembly.Module.imports(module).some((i) => i.module === WASM_BPF_MODULE);
    if (usesBpf) {
      const missing = missingBpfPrivilege();
      if (missing) {
        stderrLine(missing);
        return 1;
      }
      getLibbpf(); // fail early, with the install hint, when libbpf is missing
    }
    const result = await runGuest({
      module,
      argv0: opts.modulePath,
      args: opts.guestArgs,
      env: opts.env,
      preopens: opts.preopens,
      stdin: stdinSource(),
      stdout: stdioSink(Deno.stdout),
      stderr: stdioSink(Deno.stderr),
      stop: new RunStop(true),
      log,
      wrapperModuleName: opts.wrapperModuleName,
      callbackExportName: opts.callbackExportName,
    });
    if (result.trap !== undefined) stderrLine(`the guest trapped: ${result.trap}`);
    if (result.stopped) log.debug(`stopped by ${result.stopped}`);
    return result.code;
  } catch (e) {
    if (e instanceof GuestModuleError || e instanceof LibbpfNotFoundError) {
      stderrLine(`${opts.modulePath}: ${e.message}`);
      return 1;
    }
    stderrLine(`internal error: ${(e as Error).stack ?? e}`);
    return 1;
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
