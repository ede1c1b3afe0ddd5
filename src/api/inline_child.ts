/**
 * A guest running on the caller's thread. Its blocking host calls are JSPI suspensions, so the
 * caller's own async work (and other inline guests) runs while it waits.
 */

import { borrowLibbpfLogger, getLibbpf } from "../ffi/libbpf_ffi.ts";
import type { HostLog } from "../bpf/context.ts";
import { compileGuest, GuestModuleError } from "../guest/guest_module.ts";
import { readModuleOrReference } from "../guest/module_source.ts";
import { missingBpfPrivilege } from "../bpf/privileges.ts";
import { runGuest } from "../run/run.ts";
import { stdinSource, stdioSink } from "../run/stdio.ts";
import { RunStop, type StopReason } from "../guest/stop.ts";
import { WASM_BPF_MODULE } from "../guest/import_signatures.ts";
import type { InputSource, OutputSink } from "../wasi/host_hooks.ts";
import { nullSink, nullSource, pipedSink, pipedSource } from "./streams.ts";
import { checkSignal, ChildBase, type ResolvedOptions } from "./child_base.ts";
import type { LogRecord, ModuleSource, WasmBpfStatus } from "./types.ts";

const encoder = new TextEncoder();

export class InlineChild extends ChildBase {
  readonly #stop: RunStop;
  #killSignal: Deno.Signal | null = null;

  /** `catchSignals`: whether this process's SIGINT/SIGTERM stop the guest, and a stdout with
   * no reader left stops it as SIGPIPE would (the CLI's case; a library run never takes the
   * embedding program's signals, and its guest sees EPIPE). */
  constructor(source: ModuleSource, opts: ResolvedOptions, internal = { catchSignals: false }) {
    super();
    this.#stop = new RunStop(internal.catchSignals);
    const onBrokenPipe = internal.catchSignals ? () => this.#stop.request("SIGPIPE") : undefined;
    const stdout = outputFor(opts.stdout, Deno.stdout, onBrokenPipe);
    const stderr = outputFor(opts.stderr, Deno.stderr);
    const stdin = inputFor(opts.stdin);
    this.setStreams(stdin.writable, stdout.readable, stderr.readable);
    this.status = this.#run(source, opts, stdin.source, stdout.sink, stderr.sink).finally(() => {
      stdout.close();
      stderr.close();
    });
  }

  async #run(
    source: ModuleSource,
    opts: ResolvedOptions,
    stdin: InputSource,
    stdout: OutputSink,
    stderr: OutputSink,
  ): Promise<WasmBpfStatus> {
    const say = (record: LogRecord) => {
      if (opts.logger) opts.logger(record);
      // libbpf prefixes its own lines with "libbpf: ".
      else if (record.source === "libbpf") stderr.write(encoder.encode(`${record.message}\n`));
      else stderr.write(encoder.encode(`wasm-bpf: ${record.message}\n`));
    };
    const log: HostLog = {
      error: (message) => say({ source: "host", level: "error", message }),
      debug: opts.verbose
        ? (message) => say({ source: "host", level: "debug", message })
        : () => {},
      verbose: opts.verbose,
    };
    // libbpf has one log for the whole process: the most recent verbose run gets it, until
    // that run ends.
    const releaseLog = opts.verbose
      ? borrowLibbpfLogger((level, message) =>
        say({
          source: "libbpf",
          level: (["warn", "info", "debug"] as const)[level] ?? "debug",
          message,
        })
      )
      : () => {};
    try {
      return await this.#runLogged(source, opts, stdin, stdout, stderr, log);
    } finally {
      releaseLog();
    }
  }

  async #runLogged(
    source: ModuleSource,
    opts: ResolvedOptions,
    stdin: InputSource,
    stdout: OutputSink,
    stderr: OutputSink,
    log: HostLog,
  ): Promise<WasmBpfStatus> {
    let module: WebAssembly.Module;
    if (source instanceof WebAssembly.Module) {
      // Its bytes are gone: neither its memories and tables can be capped nor its proposals
      // and import types checked. The caller compiled it, and vouches for it.
      if (opts.policy?.maxMemoryMiB !== undefined) {
        throw new TypeError(
          "policy.maxMemoryMiB cannot cap a compiled WebAssembly.Module: pass its bytes",
        );
      }
      module = source;
    } else {
      const bytes = source instanceof Uint8Array
        ? new Uint8Array(source)
        : await readModuleOrReference(source, {
          ...opts.registry,
          progress: opts.stderr === "inherit",
          warn: (message) => log.error(`warning: ${message}`),
        });
      module = await compileGuest(bytes, opts.policy);
    }
    if (WebAssembly.Module.imports(module).some((i) => i.module === WASM_BPF_MODULE)) {
      const missing = missingBpfPrivilege();
      if (missing) throw new GuestModuleError(missing);
      getLibbpf(); // fail early, with the install hint, when libbpf is missing
    }
    const extraImports = { ...(await opts.loadHostImportsModule()), ...opts.hostImports };
    const result = await runGuest({
      module,
      argv0: opts.argv0,
      args: opts.args,
      env: opts.env,
      preopens: opts.preopens,
      stdin,
      stdout,
      stderr,
      stop: this.#stop,
      log,
      wrapperModuleName: opts.wrapperModuleName,
      callbackExportName: opts.callbackExportName,
      policy: opts.policy,
      extraImports,
    });
    if (result.trap !== undefined) log.error(`the guest trapped: ${result.trap}`);
    return {
      success: result.code === 0,
      code: result.code,
      signal: result.stopped ? this.#killSignal ?? signalOf(result.stopped) : null,
    };
  }

  kill(signal: Deno.Signal = "SIGTERM"): void {
    checkSignal(signal);
    if (this.#stop.stopping) return;
    this.#killSignal = signal;
    this.#stop.request(signal === "SIGINT" ? "SIGINT" : signal === "SIGTERM" ? "SIGTERM" : "kill");
  }

  pause(): void {
    this.#stop.pause();
  }

  resume(): void {
    this.#stop.resume();
  }
}

function signalOf(reason: StopReason): Deno.Signal {
  return reason === "SIGINT" || reason === "SIGPIPE" ? reason : "SIGTERM";
}

function outputFor(
  mode: string,
  stream: typeof Deno.stdout | typeof Deno.stderr,
  onBrokenPipe?: () => void,
) {
  if (mode === "piped") return pipedSink();
  const sink = mode === "inherit" ? stdioSink(stream, onBrokenPipe) : nullSink;
  return { sink, readable: undefined, close() {} };
}

function inputFor(mode: string): { source: InputSource; writable?: WritableStream<Uint8Array> } {
  if (mode === "piped") return pipedSource();
  return { source: mode === "inherit" ? stdinSource() : nullSource };
}
