/**
 * Fakes and helpers for tests of src/wasi/ without a guest: the functions run on a bare
 * WebAssembly.Memory with in-memory sinks and a fake BlockingGate.
 */

import { WasiPreview1 } from "../../src/wasi/mod.ts";
import type { PathResolution, Preopen } from "../../src/wasi/mod.ts";
import type { BlockingGate, InputSource, OutputSink } from "../../src/wasi/host_hooks.ts";
import * as abi from "../../src/wasi/abi.ts";

export class Sink implements OutputSink {
  chunks: Uint8Array[] = [];
  constructor(readonly isTerminal = false) {}
  write(bytes: Uint8Array): void {
    this.chunks.push(bytes);
  }
  get text(): string {
    return this.chunks.map((c) => new TextDecoder().decode(c)).join("");
  }
}

/** stdin fed by the test: `push` data or `end()`. */
export class Input implements InputSource {
  readonly isTerminal = false;
  reads = 0;
  #queue: (Uint8Array | null)[] = [];
  #waiter: (() => void) | null = null;
  push(s: string | null): void {
    this.#queue.push(s === null ? null : new TextEncoder().encode(s));
    this.#waiter?.();
  }
  async read(buf: Uint8Array): Promise<number | null> {
    this.reads++;
    while (this.#queue.length === 0) await new Promise<void>((r) => this.#waiter = r);
    const next = this.#queue.shift()!;
    if (next === null) return null;
    buf.set(next.subarray(0, buf.length));
    return Math.min(next.length, buf.length);
  }
}

export class StopSentinel extends Error {}

export class FakeGate implements BlockingGate {
  stopping = false;
  checkpoints = 0;
  throwOnCheckpoint = false;
  sleeps: number[] = [];
  #onStop: (() => void)[] = [];
  checkpoint(): void {
    this.checkpoints++;
    if (this.throwOnCheckpoint) throw new StopSentinel("unwind");
  }
  sleep(ms: number): Promise<boolean> {
    this.sleeps.push(ms);
    return new Promise((resolve) => {
      const t = ms === Infinity ? undefined : setTimeout(() => resolve(false), ms);
      this.#onStop.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
  race<T>(p: Promise<T>): Promise<{ value: T } | "stopped"> {
    return new Promise((resolve) => {
      p.then((value) => resolve({ value }));
      this.#onStop.push(() => resolve("stopped"));
    });
  }
  /** How many sleeps and races wait on this gate now. */
  get waiters(): number {
    return this.#onStop.length;
  }
  stop(): void {
    this.stopping = true;
    for (const f of this.#onStop.splice(0)) f();
  }
}

export interface Setup {
  wasi: WasiPreview1;
  // deno-lint-ignore no-explicit-any
  f: Record<string, (...a: any[]) => any>;
  memory: WebAssembly.Memory;
  dv: () => DataView;
  u8: () => Uint8Array;
  stdout: Sink;
  stderr: Sink;
  stdin: Input;
  gate: FakeGate;
}

export function setup(opts: {
  args?: string[];
  env?: Record<string, string>;
  preopens?: Preopen[];
  tty?: boolean;
  maxOpenFiles?: number;
  pathResolution?: PathResolution;
} = {}): Setup {
  const stdout = new Sink(opts.tty ?? false);
  const stderr = new Sink(opts.tty ?? false);
  const stdin = new Input();
  const gate = new FakeGate();
  const wasi = new WasiPreview1({
    args: opts.args ?? ["prog"],
    env: opts.env,
    preopens: opts.preopens,
    stdin,
    stdout,
    stderr,
    gate,
    maxOpenFiles: opts.maxOpenFiles,
    pathResolution: opts.pathResolution,
  });
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 100 });
  wasi.bindMemory(memory);
  return {
    wasi,
    // deno-lint-ignore no-explicit-any
    f: wasi.functions as Record<string, (...a: any[]) => any>,
    memory,
    dv: () => new DataView(memory.buffer),
    u8: () => new Uint8Array(memory.buffer),
    stdout,
    stderr,
    stdin,
    gate,
  };
}

/** Every path test runs with the kernel's openat2 and with the component walk fallback. */
export const RESOLUTIONS = ["kernel", "walk"] as const;

export const enc = new TextEncoder();
export const dec = new TextDecoder();

export function putStr(s: Setup, at: number, str: string): number {
  const b = enc.encode(str);
  s.u8().set(b, at);
  return b.length;
}

export function putIovecs(s: Setup, at: number, bufs: [number, number][]): void {
  bufs.forEach(([p, l], i) => {
    s.dv().setUint32(at + i * 8, p, true);
    s.dv().setUint32(at + i * 8 + 4, l, true);
  });
}

export function cstr(s: Setup, at: number): string {
  const u8 = s.u8();
  let end = at;
  while (u8[end] !== 0) end++;
  return dec.decode(u8.subarray(at, end));
}

export const RIGHTS_RO = abi.RIGHTS_FD_READ | abi.RIGHTS_FD_SEEK | abi.RIGHTS_FD_READDIR;
export const RIGHTS_RW = RIGHTS_RO | abi.RIGHTS_FD_WRITE;

export function open(
  s: Setup,
  path: string,
  o: { oflags?: number; rights?: bigint; follow?: boolean; dirfd?: number } = {},
): { errno: number; fd: number } {
  const len = putStr(s, 5000, path);
  const errno = s.f.path_open(
    o.dirfd ?? 3,
    o.follow === false ? 0 : abi.LOOKUPFLAGS_SYMLINK_FOLLOW,
    5000,
    len,
    o.oflags ?? 0,
    o.rights ?? RIGHTS_RO,
    0n,
    0,
    6000,
  );
  return { errno, fd: s.dv().getUint32(6000, true) };
}

/** Every name `fd_readdir` lists for `fd`, or the errno it failed with. */
export function readdirNames(s: Setup, fd: number): string[] | number {
  const names: string[] = [];
  let cookie = 0n;
  for (;;) {
    const errno = s.f.fd_readdir(fd, 10000, 4096, cookie, 200);
    if (errno !== 0) return errno;
    const used = s.dv().getUint32(200, true);
    let off = 10000;
    while (off + abi.DIRENT_SIZE <= 10000 + used) {
      const namlen = s.dv().getUint32(off + abi.DIRENT_OFF.d_namlen, true);
      if (off + abi.DIRENT_SIZE + namlen > 10000 + used) break;
      const at = off + abi.DIRENT_SIZE;
      names.push(dec.decode(s.u8().subarray(at, at + namlen)));
      cookie = s.dv().getBigUint64(off + abi.DIRENT_OFF.d_next, true);
      off += abi.DIRENT_SIZE + namlen;
    }
    if (used < 4096) return names;
  }
}

/** Calls a `path_*` import taking (fd, path) [+ more args], the path put in guest memory. */
export function pathCall(
  s: Setup,
  fn: string,
  fd: number,
  path: string,
  ...rest: unknown[]
): number {
  const len = putStr(s, 5000, path);
  return s.f[fn](fd, 5000, len, ...rest);
}

/** `path_rename(fd, from, newFd, to)`. */
export function rename(s: Setup, fd: number, from: string, newFd: number, to: string): number {
  const a = putStr(s, 5000, from);
  const b = putStr(s, 5500, to);
  return s.f.path_rename(fd, 5000, a, newFd, 5500, b);
}

/** `path_filestat_get`: the errno, and the inode on success. */
export function statAt(
  s: Setup,
  fd: number,
  path: string,
  follow = true,
): { errno: number; ino: bigint } {
  const len = putStr(s, 5000, path);
  const errno = s.f.path_filestat_get(
    fd,
    follow ? abi.LOOKUPFLAGS_SYMLINK_FOLLOW : 0,
    5000,
    len,
    7000,
  );
  return { errno, ino: s.dv().getBigUint64(7000 + abi.FILESTAT_OFF.ino, true) };
}

/** Reads up to 256 bytes from guest fd `fd` as text. */
export function readText(s: Setup, fd: number): string {
  putIovecs(s, 100, [[3000, 256]]);
  const errno = s.f.fd_read(fd, 100, 1, 200);
  if (errno !== 0) return `<errno ${errno}>`;
  return dec.decode(s.u8().subarray(3000, 3000 + s.dv().getUint32(200, true)));
}
