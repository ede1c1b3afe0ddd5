/** The public types of the library API, shared by both ways of running a guest: every type
 * mod.ts exports is here (those defined in a lower layer are re-exported). */

import type { HostImports } from "../run/run.ts";
import type { GuestPolicy } from "../guest/policy.ts";
import type { RegistryOptions } from "../oci/mod.ts";
export type { PullPolicy, RegistryOptions } from "../oci/mod.ts";
export type { GuestPolicy, HostImports };

/** Where a guest module comes from: a path, a `file:`/`http(s):` URL, a registry reference
 * (`REGISTRY/REPO:TAG`, `REGISTRY/REPO@sha256:...`, `oci://...`), its bytes, or (in-thread
 * runs only) a compiled module. */
export type ModuleSource = string | URL | Uint8Array | WebAssembly.Module;

/** What happens to one of the guest's standard streams, as in `Deno.Command`. */
export type StdioMode = "inherit" | "piped" | "null";

/** A message from the host or from libbpf. */
export interface LogRecord {
  /** "libbpf" for libbpf's own log, "host" for the runtime's. */
  source: "host" | "libbpf";
  /** How much it matters: libbpf's WARN/INFO/DEBUG, and the host's errors and debug notes. */
  level: "error" | "warn" | "info" | "debug";
  /** The message, without a trailing newline. */
  message: string;
}

/** Options of {@link WasmBpfCommand}. */
export interface WasmBpfCommandOptions {
  /** Arguments for the guest (argv[1..]). */
  args?: string[];
  /** The guest's environment; empty by default (the host's is never passed implicitly). */
  env?: Record<string, string>;
  /** Directories the guest may use: a host path (seen under the same path) or a pair. */
  dirs?: (string | { hostPath: string; guestPath?: string })[];
  /** Directories the guest may only name as attach targets (`wasm_attach_bpf_program_fd`):
   * listed among its preopens, but nothing beneath them can be opened, created or listed. The
   * safe way to give a guest a cgroup. Same forms as `dirs`; numbered after them. */
  attachDirs?: (string | { hostPath: string; guestPath?: string })[];
  /** Default "inherit" for spawn(), "null" for output(). */
  stdin?: StdioMode;
  /** Default "inherit" for spawn(), "piped" for output(). */
  stdout?: StdioMode;
  /** Default "inherit" for spawn(), "piped" for output(). */
  stderr?: StdioMode;
  /** Aborting it kills the guest, as `kill()` does. */
  signal?: AbortSignal;
  /** Import module of the TinyGo poll wrapper (default "callback-wrapper"). */
  wrapperModuleName?: string;
  /** Export receiving TinyGo buffer records (default "go-callback"). */
  callbackExportName?: string;
  /** Log what the host and libbpf do: to `logger` if given, else to the guest's stderr. */
  verbose?: boolean;
  /** Receives host and libbpf messages (errors always; the rest with `verbose`). */
  logger?: (record: LogRecord) => void;
  /**
   * Extra import modules for the guest, as functions: `{ host_func_test: { plus_i32 } }`.
   * A function may be async: the guest waits for its promise. Functions cannot cross a process
   * boundary, so these need `isolation: "inline"`; with process isolation, use
   * `hostImportsModule`.
   */
  hostImports?: HostImports;
  /**
   * A module specifier whose default export (or, failing that, whose named exports) is an
   * object of the same shape as `hostImports`. Works with both isolations: a separate process
   * imports it itself.
   */
  hostImportsModule?: string | URL;
  /**
   * Where the guest runs.
   * - "process" (default): in a child `deno` process of its own. `kill()` always works, even
   *   while the guest computes without calling the host; `pause()` stops it entirely
   *   (SIGSTOP). Costs a Deno start-up (about 40 ms) and needs `--allow-run`.
   * - "inline": on this thread, interleaved with the caller's own async work through JSPI.
   *   Takes `hostImports` functions and compiled modules; `kill()` and `pause()` take effect at
   *   the guest's next host call (polls, sleeps and stdin reads end at once), so a guest stuck
   *   in pure computation cannot be stopped.
   */
  isolation?: "process" | "inline";
  /** What the guest may do (program types, attach targets, map writes, objects, memory). */
  policy?: GuestPolicy;
  /** For a module named by a registry reference: pull policy, signature key, cache. */
  registry?: RegistryOptions;
}

/** How a guest run ended, as `Deno.CommandStatus`. */
export interface WasmBpfStatus {
  /** `code === 0`. */
  success: boolean;
  /** The guest's exit code; 1 for a host error or a trap; 128+n after signal n / kill(). */
  code: number;
  /** The signal that ended the run, when it was one (kill() or an external signal). */
  signal: Deno.Signal | null;
}

/** What `output()` collects. */
export interface WasmBpfOutput extends WasmBpfStatus {
  /** The guest's stdout (empty unless "piped"). */
  stdout: Uint8Array;
  /** The guest's stderr (empty unless "piped"). */
  stderr: Uint8Array;
}

/** A running guest, as `Deno.ChildProcess`. */
export interface WasmBpfChild extends AsyncDisposable {
  /** The guest's stdin; throws unless the command was made with `stdin: "piped"`. */
  readonly stdin: WritableStream<Uint8Array>;
  /** The guest's stdout; throws unless `stdout: "piped"`. */
  readonly stdout: ReadableStream<Uint8Array>;
  /** The guest's stderr; throws unless `stderr: "piped"`. */
  readonly stderr: ReadableStream<Uint8Array>;
  /** Resolves when the guest has ended and every BPF object it held is released. */
  readonly status: Promise<WasmBpfStatus>;
  /** Stops the guest (default SIGTERM: status 143; SIGINT: 130) and releases its objects. */
  kill(signal?: Deno.Signal): void;
  /** Stops the guest's progress until `resume()`. */
  pause(): void;
  /** Lets a paused guest go on. */
  resume(): void;
  /** Waits for the end, collecting the piped streams. */
  output(): Promise<WasmBpfOutput>;
}
