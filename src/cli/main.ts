/**
 * The command line: `wasm-bpf [options] <module.wasm> [guest args...]`. Everything after the
 * module path goes to the guest verbatim, so `wasm-bpf runqlat.wasm -h` shows the guest's help.
 *
 * Exit status: the guest's own; 1 for a host error (bad module, trap, missing privilege); 2 for
 * a usage error; 130 after Ctrl-C and 143 after SIGTERM.
 */

import { getLibbpf, LibbpfNotFoundError } from "../ffi/libbpf_ffi.ts";
import { VERSION } from "../version.ts";
import { OwnedFd } from "../ffi/owned_fd.ts";
import { LinuxErrno, osErrorText } from "../ffi/errno.ts";
import { InlineChild } from "../api/inline_child.ts";
import { importHostImports, resolveOptions } from "../api/child_base.ts";
import type { HostImports, LogRecord, WasmBpfCommandOptions } from "../api/types.ts";
import { GuestModuleError } from "../guest/guest_module.ts";
import { pinRootProblem } from "../bpf/pin_root.ts";
import { writeAllSync } from "../run/stdio.ts";
import { isRegistryCommand, misplacedSubcommand } from "./registry_usage.ts";
import { type CliOptions, parseCli, type ParsedCli, USAGE, UsageError } from "./usage.ts";

function stderrLine(message: string): void {
  writeStderr(`wasm-bpf: ${message}\n`);
}

function writeStderr(text: string): void {
  const bytes = new TextEncoder().encode(text);
  try {
    writeAllSync(Deno.stderr, bytes);
  } catch {
    // stderr closed: nothing left to tell
  }
}

/** Each preopen must be a directory. Probed with libc's open(): Deno refuses to stat /sys paths
 * (a cgroup for --attach-dir) without --allow-all. */
function checkPreopens(preopens: CliOptions["preopens"]): void {
  for (const { hostPath, attachOnly } of preopens) {
    const opened = OwnedFd.open(hostPath, O_RDONLY_DIRECTORY_CLOEXEC, LinuxErrno.ENOENT);
    if (typeof opened !== "number") {
      opened.close();
      continue;
    }
    const flag = attachOnly ? "--attach-dir" : "--dir";
    const why = opened === -LinuxErrno.ENOTDIR ? "not a directory" : "no such directory";
    throw new UsageError(`${flag} ${hostPath}: ${why}`);
  }
}

/** A --pin-root is checked before the guest runs, not when libbpf first pins in it. */
function checkPinRoot(pinRoot: string | undefined): void {
  const problem = pinRoot === undefined ? undefined : pinRootProblem(pinRoot);
  if (problem) throw new UsageError(`--pin-root ${pinRoot}: ${problem}`);
}

const O_RDONLY_DIRECTORY_CLOEXEC = 0o2200000;

/** Runs the CLI; resolves to the exit status. `startedFrom`, said under `-v`, is how the launcher
 * (cli.ts) loaded it. */
export async function main(argv: string[], startedFrom?: string): Promise<number> {
  if (isRegistryCommand(argv)) {
    // Loaded only here: the OCI client under it is no part of a module run.
    const { registryCommand } = await import("./registry.ts");
    return await registryCommand(argv);
  }
  let parsed: ParsedCli;
  try {
    parsed = parseCli(argv);
    if (parsed.kind === "run") {
      checkPreopens(parsed.options.preopens);
      checkPinRoot(parsed.options.policy.pinRoot);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    const message = misplacedSubcommand(e.message) ?? e.message;
    stderrLine(`${message}\nTry 'wasm-bpf --help' for more information.`);
    return 2;
  }
  if (parsed.kind === "help") return writeStdout(USAGE);
  if (parsed.kind === "version") return writeStdout(versionLine());

  const opts = parsed.options;
  // Loaded before the run, so that a module that is missing, throws or exports no functions
  // is reported as what it is rather than as an internal error from inside the run.
  let hostImports: HostImports | undefined;
  if (opts.hostImportsModule !== undefined) {
    try {
      hostImports = await importHostImports(
        new URL(opts.hostImportsModule, `file://${Deno.cwd()}/`),
      );
    } catch (e) {
      stderrLine(`--host-imports ${opts.hostImportsModule}: ${e instanceof Error ? e.message : e}`);
      return 1;
    }
  }
  let logFile: Deno.FsFile | undefined;
  try {
    if (opts.logFile) {
      logFile = Deno.openSync(opts.logFile, { write: true, create: true, append: true });
    }
  } catch (e) {
    stderrLine(`--log-file ${opts.logFile}: ${osErrorText(e)}`);
    return 2;
  }
  const logger = logFile && logTo(logFile, opts.logFile!);
  if (opts.verbose && startedFrom) {
    if (logger) logger({ source: "host", level: "debug", message: startedFrom });
    else stderrLine(startedFrom);
  }
  // The CLI is a thin layer over the library: the guest runs inline (on this thread, fastest
  // to start), with the process's own stdio, and Ctrl-C/SIGTERM end its waits.
  const run = new InlineChild(
    opts.modulePath,
    resolveOptions(opts.modulePath, {
      ...commandOptionsOf(opts, logger),
      hostImportsModule: undefined,
      hostImports,
    }, {
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }),
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

/** A logger writing JSON lines to `file`. Should a write fail (a full disk), it says so once
 * and goes on on stderr, as without --log-file: the run is not stopped for its log. */
function logTo(file: Deno.FsFile, path: string): (record: LogRecord) => void {
  const encoder = new TextEncoder();
  let failed = false;
  return (record) => {
    if (!failed) {
      try {
        writeAllSync(file, encoder.encode(`${JSON.stringify(record)}\n`));
        return;
      } catch (e) {
        failed = true;
        stderrLine(`--log-file ${path}: cannot write: ${osErrorText(e)}; logging to stderr`);
      }
    }
    writeStderr(
      record.source === "libbpf" ? `${record.message}\n` : `wasm-bpf: ${record.message}\n`,
    );
  };
}

/** The library's options for the run that the command line `opts` asks for. */
export function commandOptionsOf(
  opts: CliOptions,
  logger?: (record: LogRecord) => void,
): WasmBpfCommandOptions {
  return {
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
  };
}

/** Writes the CLI's own output (help, version); 0, or 1 with one line when stdout fails. */
function writeStdout(text: string): number {
  const bytes = new TextEncoder().encode(text);
  try {
    writeAllSync(Deno.stdout, bytes);
    return 0;
  } catch (e) {
    stderrLine(`cannot write to stdout: ${osErrorText(e)}`);
    return 1;
  }
}

function versionLine(): string {
  let libbpf = "libbpf not found";
  try {
    const lib = getLibbpf();
    libbpf = `libbpf ${lib.libbpf_major_version()}.${lib.libbpf_minor_version()}`;
  } catch {
    // reported as "not found" in the version line
  }
  return `wasm-bpf ${VERSION} (${libbpf}, deno ${Deno.version.deno}, v8 ${Deno.version.v8})\n`;
}
