/**
 * Our own WASI preview1 (`wasi_snapshot_preview1`) for wasm-bpf guests.
 *
 * One file per concern (`args`, `environ`, `clock`, `random`, `fd`, `path`, `poll`, `proc`),
 * each a provider returning its share of the import object (the `fd_*` provider stands on the
 * descriptor table `fd_table`, `stdin`, the `stat` codecs and `readdir`); every preview1 name
 * nobody provides returns ENOSYS, so every module links. Blocking imports (`fd_read`,
 * `poll_oneoff`, and `fd_write` to a sink with back-pressure: write_wait.ts) are
 * `WebAssembly.Suspending`: the host must call `_start` through `WebAssembly.promising`.
 *
 * @example
 * ```ts
 * const wasi = new WasiPreview1({ args: ["guest.wasm"], stdin, stdout, stderr, gate });
 * const { instance } = await WebAssembly.instantiate(bytes, {
 *   wasi_snapshot_preview1: wasi.imports,
 * });
 * wasi.bindMemory(instance.exports.memory as WebAssembly.Memory);
 * let code = 0;
 * try {
 *   await WebAssembly.promising(instance.exports._start as () => void)();
 * } catch (e) {
 *   if (!(e instanceof ProcExit)) throw e;
 *   code = e.code;
 * }
 * ```
 *
 * @module
 */

import { ERRNO_NOSYS, PREVIEW1_FUNCTIONS } from "./abi.ts";
import { argsImports } from "./args.ts";
import { clockImports } from "./clock.ts";
import { environImports } from "./environ.ts";
import { fdImports } from "./fd.ts";
import { type DirEntry, FdTable, HostFd } from "./fd_table.ts";
import { StdinReader } from "./stdin.ts";
import { Beneath, type PathResolution } from "./beneath.ts";
import * as linux from "./linux.ts";
import { WasiMemory } from "./memory.ts";
import { pathImports } from "./path.ts";
import { pollImports } from "./poll.ts";
import { procImports } from "./proc.ts";
import { randomImports } from "./random.ts";
import type { BlockingGate, InputSource, OutputSink } from "./host_hooks.ts";
import { encodeUtf8 } from "./memory.ts";
import { MUST_WAIT, waitingFdWrite } from "./write_wait.ts";

export { ProcExit } from "./proc.ts";
export type { BlockingGate, InputSource, OutputSink } from "./host_hooks.ts";
export type { PathResolution } from "./beneath.ts";

const AT_FDCWD = -100;

/** Opens a host directory as a preopen: a real (not O_PATH) fd, as a cgroup attach needs. */
function openDirectory(hostPath: string): number {
  if (hostPath.includes("\0")) throw new Error("EINVAL");
  return linux.openat(AT_FDCWD, hostPath, linux.O_RDONLY | linux.O_DIRECTORY | linux.O_CLOEXEC, 0);
}

/** A host directory the guest may use, and the name it sees it under. */
export interface Preopen {
  /** The path the guest sees (e.g. `/data` or `.`); wasi-libc matches paths against it. */
  guestPath: string;
  /** The host directory, opened (`O_RDONLY | O_DIRECTORY`) at construction; it must exist. */
  hostPath: string;
  /** Refuse every creating or writing operation under it with EROFS. Default false. */
  readOnly?: boolean;
  /**
   * Name the directory to the guest (`fd_prestat_*`) without letting it open, create, stat or
   * list anything beneath it (ENOTCAPABLE): for a directory the host only uses on the guest's
   * behalf through {@link WasiPreview1.preopenedDirFd} (e.g. a cgroup to attach to). Default
   * false.
   */
  attachOnly?: boolean;
}

/** How to run one guest. */
export interface WasiOptions {
  /** argv, argv[0] included. */
  args: string[];
  /** The guest's environment; empty by default (the host's is never passed implicitly). */
  env?: Record<string, string>;
  /** Preopened directories, as fds 3, 4, … in this order; none by default. */
  preopens?: Preopen[];
  /** The guest's fd 0. */
  stdin: InputSource;
  /** The guest's fd 1. */
  stdout: OutputSink;
  /** The guest's fd 2. */
  stderr: OutputSink;
  /** How blocking calls wait, so that a stop request ends them. */
  gate: BlockingGate;
  /**
   * Most descriptors the guest may hold open at once from `path_open` (each is a host fd);
   * past it `path_open` returns EMFILE. Default 256.
   */
  maxOpenFiles?: number;
  /**
   * How paths are confined beneath directory descriptors: `"kernel"` (openat2 with
   * RESOLVE_BENEATH; falls back to `"walk"` by itself where openat2 is missing) or `"walk"`
   * (one component at a time, symlinks resolved by us). Default `"kernel"`; `"walk"` is for
   * testing the fallback.
   */
  pathResolution?: PathResolution;
}

/** The imports that may block: wrapped in `WebAssembly.Suspending`. */
const SUSPENDING = new Set(["fd_read", "poll_oneoff"]);

interface JspiWebAssembly {
  Suspending: new (fn: (...args: never[]) => unknown) => unknown;
}

/** A WASI preview1 instance for one guest run. */
export class WasiPreview1 {
  /**
   * The `wasi_snapshot_preview1` import object. Every preview1 function name is present (46 of
   * them); the ones not implemented return ENOSYS (52). `fd_read` and `poll_oneoff` are
   * `WebAssembly.Suspending`, and so is the wait inside `fd_write` when stdout or stderr has
   * back-pressure (`OutputSink.room`), so the guest's `_start` must be called via
   * `WebAssembly.promising`.
   */
  readonly imports: Record<string, unknown>;
  /**
   * The same 46 functions as plain JS functions (no `Suspending` wrapper): `fd_read`,
   * `poll_oneoff` and `fd_write` (which waits for a sink's `drained()`) return
   * `number | Promise<number>`. For unit tests and for embedders that drive the calls
   * themselves.
   */
  // deno-lint-ignore ban-types
  readonly functions: Readonly<Record<string, Function>>;

  readonly #mem = new WasiMemory();
  readonly #fds: FdTable;
  /** The entries the host preopened, by the guest fd they were given. */
  readonly #preopens = new Map<number, DirEntry>();

  /**
   * Sets up stdio and opens the preopens (a missing directory, or one that is not a directory,
   * throws, after closing those already opened) and builds the import object.
   */
  constructor(opts: WasiOptions) {
    const mem = this.#mem;
    const fds = this.#fds = new FdTable(opts.maxOpenFiles);
    const stdin = new StdinReader(opts.stdin);
    fds.set(0, { kind: "stdin", fdflags: 0 });
    fds.set(1, { kind: "output", sink: opts.stdout, fdflags: 0 });
    fds.set(2, { kind: "output", sink: opts.stderr, fdflags: 0 });
    let fd = 3;
    for (const p of opts.preopens ?? []) {
      let host: HostFd;
      try {
        host = new HostFd(openDirectory(p.hostPath));
      } catch (err) {
        fds.closeAll();
        const what = err instanceof linux.LinuxError && err.linuxErrno === linux.ENOTDIR
          ? "not a directory"
          : "cannot open the directory";
        throw new Error(`preopen ${p.hostPath}: ${what} (${(err as Error).message})`, {
          cause: err,
        });
      }
      const entry: DirEntry = {
        kind: "dir",
        host,
        preopenName: encodeUtf8(p.guestPath),
        readOnly: (p.readOnly ?? false) || (p.attachOnly ?? false),
        attachOnly: p.attachOnly ?? false,
      };
      this.#preopens.set(fd, entry);
      fds.set(fd++, entry);
    }

    const beneath = new Beneath(opts.pathResolution ?? "kernel");
    const ctx = { mem, fds, stdin, gate: opts.gate, beneath };
    const provided: Record<string, unknown> = {
      ...argsImports(mem, opts.args),
      ...environImports(mem, opts.env ?? {}),
      ...clockImports(mem),
      ...randomImports(mem),
      ...fdImports(ctx),
      ...pathImports(ctx),
      ...pollImports(ctx),
      ...procImports(),
    };
    const { Suspending } = WebAssembly as unknown as JspiWebAssembly;
    const imports: Record<string, unknown> = {};
    // deno-lint-ignore ban-types
    const functions: Record<string, Function> = {};
    for (const name of PREVIEW1_FUNCTIONS) {
      const fn = (provided[name] ?? ((): number => ERRNO_NOSYS)) as (...a: never[]) => unknown;
      functions[name] = fn;
      imports[name] = SUSPENDING.has(name) ? new Suspending(fn) : fn;
    }
    // fd_write waits only for a sink with back-pressure (a library's piped stream); over real
    // fds (the CLI) it stays the plain synchronous function.
    const write = provided.fd_write as (...a: number[]) => number;
    const wait = provided.fd_write_wait as (fd: number) => number | Promise<number>;
    if (opts.stdout.room || opts.stderr.room) {
      imports.fd_write = waitingFdWrite(write, new Suspending(wait));
    }
    functions.fd_write = function fdWrite(...a: number[]): number | Promise<number> {
      const r = write(...a);
      if (r !== MUST_WAIT) return r;
      const w = wait(a[0]);
      if (typeof w === "number") return w === 0 ? fdWrite(...a) : w;
      return w.then((errno) => errno === 0 ? fdWrite(...a) : errno);
    };
    this.imports = imports;
    this.functions = functions;
  }

  /** Must be called once after instantiation, before `_start`. */
  bindMemory(memory: WebAssembly.Memory): void {
    this.#mem.bind(memory);
  }

  /**
   * The host fd of the directory the host preopened at guest fd `guestFd`, while that very
   * preopen is still there (not closed, not renumbered away); `undefined` for anything else:
   * stdio, files, a directory the guest opened itself (even the same directory), a free
   * number. The fd stays owned by this instance: do not close it, and use it before the guest
   * runs again (a later `fd_close` closes it).
   */
  preopenedDirFd(guestFd: number): number | undefined {
    const e = this.#preopens.get(guestFd);
    return e !== undefined && this.#fds.peek(guestFd) === e ? e.host.fd : undefined;
  }

  /** Closes every host file the guest left open (call at the end of a run; idempotent). */
  close(): void {
    this.#fds.closeAll();
  }
}
