/**
 * A guest running in a child `deno` process of its own: our CLI, started with the options of
 * the command. A process boundary is the only way to stop a guest that computes without ever
 * calling the host (a Worker's terminate() does not interrupt running wasm in Deno 2.9), and
 * SIGSTOP pauses it entirely. The kernel detaches whatever a killed child held.
 */

import { checkSignal, ChildBase, type ResolvedOptions } from "./child_base.ts";
import type { LogRecord, ModuleSource, WasmBpfStatus } from "./types.ts";
import { isRemoteModule, registryReferenceOf } from "../guest/module_source.ts";
import { LinuxErrno } from "../ffi/errno.ts";
import { OwnedFd } from "../ffi/owned_fd.ts";
import { formatCli } from "../options/run_options.ts";
import { SIGNAL_NUMBERS } from "../ffi/signal_action.ts";

/** After kill(), how long the child gets to exit by itself before SIGKILL. */
const KILL_ESCALATION_MS = 1000;

/** The permissions the child needs: those of the CLI, plus net for remote modules. */
function childPermissions(remote: boolean): string[] {
  return [
    "--allow-ffi",
    "--allow-read",
    "--allow-write",
    // The cache directory and registry credentials (src/oci) are found through these; the last
    // forces the copying buffer consumer (src/bpf/events/buffer_poller.ts).
    "--allow-env=LIBBPF_PATH,HOME,XDG_CACHE_HOME,DOCKER_CONFIG,WASM_BPF_COPY_BUFFERS",
    ...(remote ? ["--allow-net"] : []),
  ];
}

export class ProcessChild extends ChildBase {
  readonly #child: Deno.ChildProcess;
  #killSignal: Deno.Signal | null = null;
  #paused = false;
  #exited = false;
  #escalation: ReturnType<typeof setTimeout> | undefined;
  readonly #cleanup: (() => Promise<void>)[] = [];

  /** Use {@link ProcessChild.start}: the module may first have to be written to a file. */
  private constructor(child: Deno.ChildProcess, cleanup: (() => Promise<void>)[]) {
    super();
    this.#child = child;
    this.#cleanup = cleanup;
  }

  static start(source: ModuleSource, opts: ResolvedOptions): ProcessChild {
    if (source instanceof WebAssembly.Module) {
      throw new TypeError(
        "a compiled WebAssembly.Module cannot be sent to another process: " +
          'pass its bytes or path, or use isolation: "inline"',
      );
    }
    if (Object.keys(opts.hostImports).length > 0) {
      throw new TypeError(
        "hostImports functions cannot cross a process boundary: " +
          'use hostImportsModule (a module specifier), or isolation: "inline"',
      );
    }
    const cleanup: (() => Promise<void>)[] = [];
    let modulePath: string;
    if (source instanceof Uint8Array) {
      // The child reads the module from a private temporary file, removed when it ends.
      modulePath = Deno.makeTempFileSync({ prefix: "wasm-bpf-", suffix: ".wasm" });
      Deno.chmodSync(modulePath, 0o600);
      Deno.writeFileSync(modulePath, source);
      cleanup.push(() => Deno.remove(modulePath).catch(() => {}));
    } else {
      modulePath = String(source);
    }
    const remote = isRemoteModule(modulePath) || registryReferenceOf(modulePath) !== undefined ||
      (opts.hostImportsModule !== undefined && isRemoteModule(opts.hostImportsModule));

    let logFifo: string | undefined;
    if (opts.logger) {
      logFifo = makeFifo();
      const dir = logFifo.slice(0, logFifo.lastIndexOf("/"));
      cleanup.push(() => Deno.remove(dir, { recursive: true }).catch(() => {}));
    }

    const hostArgs = cliArgsOf(modulePath, opts, logFifo);
    const modTs = new URL("../../mod.ts", import.meta.url).href;
    // Inside the compiled `wasm-bpf` binary (built from mod.ts), the executable is our CLI itself.
    const compiled = Deno.mainModule === modTs && !/(^|\/)deno$/.test(Deno.execPath());
    // From a local copy, the child starts as `deno task run` does (cli.ts: from the CLI's bundle
    // while it is fresh); from a remote one, from mod.ts, whose static graph needs no --allow-net
    // (cli.ts imports the sources dynamically).
    const program = import.meta.url.startsWith("file:")
      ? new URL("../../cli.ts", import.meta.url).href
      : modTs;
    const args = compiled ? hostArgs : ["run", ...childPermissions(remote), program, ...hostArgs];
    const child = new Deno.Command(Deno.execPath(), {
      args,
      stdin: opts.stdin,
      stdout: opts.stdout,
      stderr: opts.stderr,
      env: { NO_COLOR: "1" },
    }).spawn();
    const self = new ProcessChild(child, cleanup);
    self.setStreams(
      opts.stdin === "piped" ? child.stdin : undefined,
      opts.stdout === "piped" ? child.stdout : undefined,
      opts.stderr === "piped" ? child.stderr : undefined,
    );
    const logDone = logFifo ? forwardLog(logFifo, opts.logger!) : Promise.resolve();
    self.status = child.status.then(async (s) => {
      self.#exited = true;
      clearTimeout(self.#escalation);
      if (logFifo) unblockFifoReader(logFifo);
      await logDone;
      for (const fn of self.#cleanup) await fn();
      return self.#statusOf(s);
    });
    return self;
  }

  /** The child's pid. */
  get pid(): number {
    return this.#child.pid;
  }

  #statusOf(s: Deno.CommandStatus): WasmBpfStatus {
    // The CLI turns SIGINT/SIGTERM into exit 130/143 after cleaning up; a signal it could not
    // catch (while computing) ends it by the signal itself. Report either as 128+n.
    const number = s.signal ? SIGNAL_NUMBERS[s.signal] : undefined;
    const code = s.signal ? 128 + (number ?? 0) : s.code;
    const sent = this.#killSignal;
    const bySignal = s.signal ??
      (sent && SIGNAL_NUMBERS[sent] !== undefined && code === 128 + SIGNAL_NUMBERS[sent]!
        ? sent
        : null);
    return { success: code === 0, code, signal: bySignal };
  }

  kill(signal: Deno.Signal = "SIGTERM"): void {
    checkSignal(signal);
    if (this.#exited) return;
    this.#killSignal ??= signal;
    try {
      this.#child.kill(signal);
      // A stopped process only acts on the signal once it runs again.
      if (this.#paused) this.#child.kill("SIGCONT");
    } catch {
      return; // it has just exited
    }
    this.#escalation ??= setTimeout(() => {
      try {
        if (!this.#exited) this.#child.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
    }, KILL_ESCALATION_MS);
  }

  pause(): void {
    if (this.#exited || this.#paused) return;
    this.#paused = true;
    this.#child.kill("SIGSTOP");
  }

  resume(): void {
    if (this.#exited || !this.#paused) return;
    this.#paused = false;
    this.#child.kill("SIGCONT");
  }
}

/** The command line of a child running `modulePath` with `opts`: our CLI's, written from its
 * option table, so that the child's parseCli reads back the same options. */
export function cliArgsOf(modulePath: string, opts: ResolvedOptions, logFile?: string): string[] {
  return formatCli({
    verbose: opts.verbose,
    wrapperModuleName: opts.wrapperModuleName,
    callbackExportName: opts.callbackExportName,
    env: opts.env,
    preopens: opts.preopens,
    hostImportsModule: opts.hostImportsModule && String(opts.hostImportsModule),
    logFile,
    policy: opts.policy ?? {},
    registry: opts.registry ?? {},
    modulePath,
    guestArgs: opts.args,
  });
}

/** A FIFO in a private temporary directory, through which the child sends its log. */
function makeFifo(): string {
  const dir = Deno.makeTempDirSync({ prefix: "wasm-bpf-log-" });
  const path = `${dir}/log`;
  const out = new Deno.Command("mkfifo", { args: ["-m", "600", path] }).outputSync();
  if (!out.success) {
    throw new Error(`mkfifo failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return path;
}

/** Reads the child's NDJSON log records and hands them to the logger. */
async function forwardLog(fifo: string, logger: (r: LogRecord) => void): Promise<void> {
  const file = await Deno.open(fifo, { read: true });
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of file.readable) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      if (line === "") continue;
      try {
        logger(JSON.parse(line) as LogRecord);
      } catch {
        logger({ source: "host", level: "info", message: line });
      }
    }
  }
}

/** A child that died before opening the FIFO would leave our reader's open() waiting
 * forever: open it for writing once, which completes the reader's open and then EOFs. */
function unblockFifoReader(fifo: string): void {
  // Non-blocking: with no reader left this fails (ENXIO) instead of waiting for one.
  const opened = OwnedFd.open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC, LinuxErrno.ENXIO);
  if (typeof opened !== "number") opened.close();
}

const O_WRONLY = 1;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
