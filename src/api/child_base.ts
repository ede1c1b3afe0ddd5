/** What both kinds of running guest share: stream accessors, output(), disposal, options. */

import type { HostImports } from "../run/run.ts";
import type { GuestPolicy } from "../guest/policy.ts";
import { collect } from "./streams.ts";
import type {
  LogRecord,
  RegistryOptions,
  StdioMode,
  WasmBpfChild,
  WasmBpfCommandOptions,
  WasmBpfOutput,
  WasmBpfStatus,
} from "./types.ts";

/** Options with their defaults applied. */
export interface ResolvedOptions {
  argv0: string;
  args: string[];
  env: Record<string, string>;
  preopens: { hostPath: string; guestPath: string; attachOnly?: boolean }[];
  stdin: StdioMode;
  stdout: StdioMode;
  stderr: StdioMode;
  wrapperModuleName?: string;
  callbackExportName?: string;
  verbose: boolean;
  logger?: (record: LogRecord) => void;
  hostImports: HostImports;
  hostImportsModule?: string | URL;
  /** Imports `hostImportsModule` (once) and returns its imports object. */
  loadHostImportsModule(): Promise<HostImports>;
  policy?: GuestPolicy;
  registry?: RegistryOptions;
}

function preopenOf(
  d: string | { hostPath: string; guestPath?: string },
  attachOnly: boolean,
): ResolvedOptions["preopens"][number] {
  return typeof d === "string"
    ? { hostPath: d, guestPath: d, attachOnly }
    : { hostPath: d.hostPath, guestPath: d.guestPath ?? d.hostPath, attachOnly };
}

export function resolveOptions(
  argv0: string,
  o: WasmBpfCommandOptions,
  defaults: { stdin: StdioMode; stdout: StdioMode; stderr: StdioMode },
): ResolvedOptions {
  let loaded: Promise<HostImports> | undefined;
  return {
    argv0,
    args: o.args ?? [],
    env: o.env ?? {},
    preopens: [
      ...(o.dirs ?? []).map((d) => preopenOf(d, false)),
      ...(o.attachDirs ?? []).map((d) => preopenOf(d, true)),
    ],
    stdin: o.stdin ?? defaults.stdin,
    stdout: o.stdout ?? defaults.stdout,
    stderr: o.stderr ?? defaults.stderr,
    wrapperModuleName: o.wrapperModuleName,
    callbackExportName: o.callbackExportName,
    verbose: o.verbose ?? false,
    logger: o.logger,
    hostImports: o.hostImports ?? {},
    hostImportsModule: o.hostImportsModule,
    loadHostImportsModule() {
      if (o.hostImportsModule === undefined) return Promise.resolve({});
      loaded ??= importHostImports(o.hostImportsModule);
      return loaded;
    },
    policy: o.policy,
    registry: o.registry,
  };
}

/** The imports object a host-imports module provides: its default export, else its named
 * exports. */
export async function importHostImports(specifier: string | URL): Promise<HostImports> {
  // A bare path is relative to the working directory, as a path given on a command line is.
  const url = specifier instanceof URL || /^[a-z][a-z0-9+.-]*:/i.test(specifier)
    ? String(specifier)
    : new URL(specifier, `file://${Deno.cwd()}/`).href;
  // Deliberately dynamic: the caller names this module at run time. `deno publish` warns that it
  // cannot analyze it (unanalyzable-dynamic-import; Deno has no directive to silence that,
  // denoland/deno#22594), which is harmless here: `url` is already absolute, so it resolves the
  // same from a checkout, a URL or JSR, with no import map to rewrite.
  const mod = await import(url);
  const imports = (mod.default ?? mod) as Record<string, unknown>;
  for (const [name, fns] of Object.entries(imports)) {
    if (typeof fns !== "object" || fns === null) {
      throw new TypeError(
        `host imports module ${specifier}: export "${name}" must be an object of functions`,
      );
    }
  }
  return imports as HostImports;
}

/** The signals of Linux by name (Deno.Signal also names BSD-only ones). */
const LINUX_SIGNALS: ReadonlySet<string> = new Set(
  ("ABRT ALRM BUS CHLD CONT FPE HUP ILL INT IO KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP " +
    "SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ").split(" ")
    .map((name) => `SIG${name}`),
);

/** Throws a TypeError unless `signal` names a Linux signal: a misspelt kill() must fail, not be
 * taken for "it has just exited" or for a nameless stop. */
export function checkSignal(signal: string): void {
  if (!LINUX_SIGNALS.has(signal)) throw new TypeError(`kill: unknown signal ${signal}`);
}

export abstract class ChildBase implements WasmBpfChild {
  #stdin: WritableStream<Uint8Array> | undefined;
  #stdout: ReadableStream<Uint8Array> | undefined;
  #stderr: ReadableStream<Uint8Array> | undefined;
  status!: Promise<WasmBpfStatus>;

  protected setStreams(
    stdin: WritableStream<Uint8Array> | undefined,
    stdout: ReadableStream<Uint8Array> | undefined,
    stderr: ReadableStream<Uint8Array> | undefined,
  ): void {
    this.#stdin = stdin;
    this.#stdout = stdout;
    this.#stderr = stderr;
  }

  get stdin(): WritableStream<Uint8Array> {
    if (!this.#stdin) throw new TypeError("stdin is not piped");
    return this.#stdin;
  }

  get stdout(): ReadableStream<Uint8Array> {
    if (!this.#stdout) throw new TypeError("stdout is not piped");
    return this.#stdout;
  }

  get stderr(): ReadableStream<Uint8Array> {
    if (!this.#stderr) throw new TypeError("stderr is not piped");
    return this.#stderr;
  }

  abstract kill(signal?: Deno.Signal): void;
  abstract pause(): void;
  abstract resume(): void;

  async output(): Promise<WasmBpfOutput> {
    const [status, stdout, stderr] = await Promise.all([
      this.status,
      this.#stdout ? collect(this.#stdout) : new Uint8Array(),
      this.#stderr ? collect(this.#stderr) : new Uint8Array(),
    ]);
    return { ...status, stdout, stderr };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill();
    await this.status.catch(() => {});
  }
}
