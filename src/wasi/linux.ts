/**
 * The Linux system calls the WASI layer makes on guest files and directories, through libc by
 * Deno FFI (opened lazily, on the first file operation). Every wrapper reads errno right after
 * its call and throws a `WasiError` carrying the WASI errno and a message naming the call and
 * the Linux errno, so callers only ever see a result or a `WasiError`.
 *
 * Only x86_64 and aarch64 are described (the `struct stat` layout and `openat2`'s number, 437 on
 * both). Kept apart from src/ffi/libc_ffi.ts on purpose: src/wasi/ imports nothing outside itself.
 *
 * @module
 */

import { ERRNO_BY_LINUX_NAME, ERRNO_IO } from "./abi.ts";
import { WasiError } from "./errors.ts";

const symbols = {
  __errno_location: { parameters: [], result: "pointer" },
  /** long syscall(long nr, ...): only for openat2 (nr, dirfd, path, how, size). */
  syscall: { parameters: ["i64", "i32", "buffer", "buffer", "usize"], result: "i64" },
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  pread64: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  pwrite64: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  lseek64: { parameters: ["i32", "i64", "i32"], result: "i64" },
  fstat: { parameters: ["i32", "buffer"], result: "i32" },
  fstatat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  ftruncate64: { parameters: ["i32", "i64"], result: "i32" },
  fsync: { parameters: ["i32"], result: "i32" },
  fdatasync: { parameters: ["i32"], result: "i32" },
  mkdirat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  unlinkat: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  renameat: { parameters: ["i32", "buffer", "i32", "buffer"], result: "i32" },
  readlinkat: { parameters: ["i32", "buffer", "buffer", "usize"], result: "isize" },
  getdents64: { parameters: ["i32", "buffer", "usize"], result: "isize" },
} as const satisfies Deno.ForeignLibraryInterface;

type Libc = Deno.DynamicLibrary<typeof symbols>["symbols"];
let libc: Libc | undefined;
let errnoView: Deno.UnsafePointerView | undefined;

function lib(): Libc {
  if (libc === undefined) {
    libc = lazyLibc();
    errnoView = new Deno.UnsafePointerView(libc.__errno_location()!);
  }
  return libc;
}

/** The symbols, each bound by its own `Deno.dlopen` on first use: dlopen builds a trampoline
 * per symbol (~0.1 ms each) and a run uses few of them (the same as src/ffi/lazy_symbols.ts,
 * which this layer does not import). `__errno_location` is bound at once: no dlopen may run
 * between a failed call and the read of its errno. */
function lazyLibc(): Libc {
  const bound = {} as Record<string, unknown>;
  const bind = (name: keyof typeof symbols) => {
    const fn = Deno.dlopen("libc.so.6", { [name]: symbols[name] }).symbols[name];
    Object.defineProperty(bound, name, { value: fn, enumerable: true });
    return fn;
  };
  for (const name of Object.keys(symbols) as (keyof typeof symbols)[]) {
    Object.defineProperty(bound, name, { configurable: true, get: () => bind(name) });
  }
  bind("__errno_location");
  return bound as Libc;
}

// Open flags (the same on x86_64 and aarch64 except the three marked).
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
const ARM = Deno.build.arch === "aarch64";
export const O_DIRECTORY = ARM ? 0o40000 : 0o200000;
export const O_NOFOLLOW = ARM ? 0o100000 : 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;

export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;

const SYS_OPENAT2 = 437n;
const RESOLVE_NO_MAGICLINKS = 0x02n;
const RESOLVE_BENEATH = 0x08n;

/** Linux errno numbers (asm-generic, shared by x86_64 and aarch64) → names. */
const LINUX_ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  5: "EIO",
  6: "ENXIO",
  7: "E2BIG",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  18: "EXDEV",
  19: "ENODEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  25: "ENOTTY",
  26: "ETXTBSY",
  27: "EFBIG",
  28: "ENOSPC",
  29: "ESPIPE",
  30: "EROFS",
  31: "EMLINK",
  32: "EPIPE",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  39: "ENOTEMPTY",
  40: "ELOOP",
  75: "EOVERFLOW",
  84: "EILSEQ",
  95: "EOPNOTSUPP",
  122: "EDQUOT",
};

/** Thrown for a failed call: `linuxErrno` is the raw errno (e.g. to tell EXDEV apart). */
export class LinuxError extends WasiError {
  readonly linuxErrno: number;
  constructor(call: string, linuxErrno: number) {
    const name = LINUX_ERRNO_NAMES[linuxErrno] ?? `errno ${linuxErrno}`;
    super(ERRNO_BY_LINUX_NAME[name] ?? ERRNO_IO, `${call}: ${name}`);
    this.linuxErrno = linuxErrno;
  }
}

export const EXDEV = 18;
export const ELOOP = 40;
export const ENOENT = 2;
export const ENOTDIR = 20;
export const ENOSYS = 38;
export const EINTR = 4;
export const EAGAIN = 11;

function check(call: string, r: number | bigint): number {
  if (r < 0) throw new LinuxError(call, errnoView!.getInt32());
  return Number(r);
}

/** A NUL-terminated copy of `s`. `s` must not contain NUL (callers check guest paths). */
export function cPath(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

const how = new BigUint64Array(3);

/**
 * openat2(dirfd, path, {flags, mode, resolve: BENEATH | NO_MAGICLINKS}): the kernel resolves
 * `path` without ever leaving `dirfd` (absolute paths, `..` above it and symlinks out →
 * EXDEV). Retries EAGAIN (a concurrent rename somewhere on the system) a few times.
 */
export function openat2Beneath(dirfd: number, path: string, flags: number, mode: number): number {
  const l = lib();
  const p = cPath(path);
  how[0] = BigInt(flags >>> 0);
  // openat2 refuses a mode without O_CREAT (EINVAL), unlike openat.
  how[1] = flags & O_CREAT ? BigInt(mode) : 0n;
  how[2] = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const howBytes = new Uint8Array(how.buffer);
  for (let attempt = 0;; attempt++) {
    const r = l.syscall(SYS_OPENAT2, dirfd, p, howBytes, 24n);
    if (r >= 0) return Number(r);
    const e = errnoView!.getInt32();
    if ((e === EAGAIN || e === EINTR) && attempt < 16) continue;
    throw new LinuxError("openat2", e);
  }
}

export function openat(dirfd: number, path: string, flags: number, mode: number): number {
  return check("openat", lib().openat(dirfd, cPath(path), flags, mode));
}

/** close(2); errors are ignored (the fd is gone either way on Linux). */
export function close(fd: number): void {
  lib().close(fd);
}

export function read(fd: number, buf: Uint8Array): number {
  return check("read", lib().read(fd, buf, BigInt(buf.byteLength)));
}

export function write(fd: number, buf: Uint8Array): number {
  return check("write", lib().write(fd, buf, BigInt(buf.byteLength)));
}

export function pread(fd: number, buf: Uint8Array, offset: bigint): number {
  return check("pread", lib().pread64(fd, buf, BigInt(buf.byteLength), offset));
}

export function pwrite(fd: number, buf: Uint8Array, offset: bigint): number {
  return check("pwrite", lib().pwrite64(fd, buf, BigInt(buf.byteLength), offset));
}

/** lseek(2); whence 0/1/2 = SET/CUR/END (the same numbers as WASI's). */
export function lseek(fd: number, offset: bigint, whence: number): bigint {
  const r = lib().lseek64(fd, offset, whence);
  if (r < 0n) throw new LinuxError("lseek", errnoView!.getInt32());
  return BigInt(r);
}

export function ftruncate(fd: number, size: bigint): void {
  check("ftruncate", lib().ftruncate64(fd, size));
}

export function fsync(fd: number): void {
  check("fsync", lib().fsync(fd));
}

export function fdatasync(fd: number): void {
  check("fdatasync", lib().fdatasync(fd));
}

export function mkdirat(dirfd: number, name: string, mode: number): void {
  check("mkdirat", lib().mkdirat(dirfd, cPath(name), mode));
}

export function unlinkat(dirfd: number, name: string, flags: number): void {
  check("unlinkat", lib().unlinkat(dirfd, cPath(name), flags));
}

export function renameat(oldDir: number, oldName: string, newDir: number, newName: string): void {
  check("renameat", lib().renameat(oldDir, cPath(oldName), newDir, cPath(newName)));
}

const PATH_MAX = 4096;

/** readlinkat(2) into a PATH_MAX buffer: the raw bytes of the link's target. */
export function readlinkat(dirfd: number, name: string): Uint8Array {
  const buf = new Uint8Array(PATH_MAX);
  const n = check("readlinkat", lib().readlinkat(dirfd, cPath(name), buf, BigInt(PATH_MAX)));
  return buf.subarray(0, n);
}

/** getdents64(2): fills `buf` with `linux_dirent64` records; 0 at the end. */
export function getdents64(fd: number, buf: Uint8Array): number {
  return check("getdents64", lib().getdents64(fd, buf, BigInt(buf.byteLength)));
}

// ---------------------------------------------------------------------------------------------
// struct stat
// ---------------------------------------------------------------------------------------------

export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** The fields of `struct stat` the WASI layer uses; times in nanoseconds. */
export interface Stat {
  dev: bigint;
  ino: bigint;
  mode: number;
  nlink: bigint;
  size: bigint;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

const STAT_SIZE = 144; // both layouts; 256 bytes are passed to be safe
/** Offsets of mode and nlink differ: x86_64 has a 64-bit nlink before a 32-bit mode. */
const OFF = ARM ? { mode: 16, nlink: 20, nlinkSize: 4 } : { mode: 24, nlink: 16, nlinkSize: 8 };

function decodeStat(buf: Uint8Array): Stat {
  const dv = new DataView(buf.buffer, buf.byteOffset, STAT_SIZE);
  const ts = (off: number) =>
    dv.getBigInt64(off, true) * 1_000_000_000n + dv.getBigInt64(off + 8, true);
  return {
    dev: dv.getBigUint64(0, true),
    ino: dv.getBigUint64(8, true),
    mode: dv.getUint32(OFF.mode, true),
    nlink: OFF.nlinkSize === 8
      ? dv.getBigUint64(OFF.nlink, true)
      : BigInt(dv.getUint32(OFF.nlink, true)),
    size: dv.getBigInt64(48, true),
    atim: ts(72),
    mtim: ts(88),
    ctim: ts(104),
  };
}

const statBuf = new Uint8Array(256);

export function fstat(fd: number): Stat {
  check("fstat", lib().fstat(fd, statBuf));
  return decodeStat(statBuf);
}

/** fstatat(2); `flags` AT_SYMLINK_NOFOLLOW for lstat semantics. */
export function fstatat(dirfd: number, name: string, flags: number): Stat {
  check("fstatat", lib().fstatat(dirfd, cPath(name), statBuf, flags));
  return decodeStat(statBuf);
}
