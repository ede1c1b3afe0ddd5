/**
 * The descriptor table and the `fd_*` imports.
 *
 * Descriptors: 0/1/2 are stdio (over the host's `InputSource` / `OutputSink`), then one per
 * preopened directory in the order given (3, 4, …), then whatever `path_open` returns (the
 * lowest free number ≥ 3, as POSIX does). Files and directories are raw host fds, each owned by
 * one entry ({@link HostFd}) and closed exactly once; I/O on them is libc through FFI
 * (`linux.ts`), synchronously (only regular files and directories are ever opened, so it does not
 * block). Only a read of stdin, and a write to stdout/stderr whose reader is behind (a sink with
 * back-pressure, `OutputSink.room`), can block; they suspend the guest (JSPI) instead of the
 * event loop. The guest may hold `maxOpenFiles` descriptors it opened (EMFILE past it).
 *
 * Choices where preview1 leaves room:
 * - stdio `fd_fdstat_get`: CHARACTER_DEVICE without SEEK/TELL rights when the real stream is a
 *   terminal (wasi-libc's `isatty` then says yes and stdout is line-buffered); otherwise
 *   `FILETYPE_UNKNOWN` (what wasmtime reports for a pipe or file), so wasi-libc fully buffers
 *   stdout, as a C program with redirected output does.
 * - `fd_seek`/`fd_tell`/`fd_pread`/`fd_pwrite` on stdio → ESPIPE; on a directory → EISDIR.
 * - Writing a descriptor opened without write rights (or reading one opened without read
 *   rights) → EBADF, as POSIX does.
 * - `fd_fdstat_set_flags`: stdio accepts APPEND and NONBLOCK (a NONBLOCK stdin read with nothing
 *   buffered returns EAGAIN and starts a read in the background; a NONBLOCK write to an output
 *   whose reader is behind returns EAGAIN); on files only the flags the file already has →
 *   otherwise ENOTSUP.
 * - A write to an output whose reader went away (`OutputSink.room` says "closed") → EPIPE.
 * - `fd_readdir` lists `.` and `..` first, then the host's order (getdents64 on the directory's
 *   fd); the listing is snapshotted at cookie 0, and the cookie is the index of the next entry.
 * - An attach-only preopen refuses `fd_readdir` and `fd_filestat_get` (ENOTCAPABLE), as it
 *   refuses every path beneath it.
 * - `fd_close` works on every descriptor, stdio and preopens included.
 * - Not implemented (ENOSYS): `fd_allocate`, `fd_filestat_set_times`, `fd_fdstat_set_rights`.
 *
 * @module
 */

import {
  DIRENT_OFF,
  DIRENT_SIZE,
  ERRNO_AGAIN,
  ERRNO_BADF,
  ERRNO_INTR,
  ERRNO_INVAL,
  ERRNO_IO,
  ERRNO_ISDIR,
  ERRNO_MFILE,
  ERRNO_NAMETOOLONG,
  ERRNO_NOTCAPABLE,
  ERRNO_NOTDIR,
  ERRNO_NOTSUP,
  ERRNO_PIPE,
  ERRNO_SPIPE,
  ERRNO_SUCCESS,
  FDFLAGS_APPEND,
  FDFLAGS_NONBLOCK,
  FDSTAT_OFF,
  FDSTAT_SIZE,
  FILESTAT_OFF,
  FILESTAT_SIZE,
  FILETYPE_BLOCK_DEVICE,
  FILETYPE_CHARACTER_DEVICE,
  FILETYPE_DIRECTORY,
  FILETYPE_REGULAR_FILE,
  FILETYPE_SOCKET_STREAM,
  FILETYPE_SYMBOLIC_LINK,
  FILETYPE_UNKNOWN,
  IOVEC_OFF,
  IOVEC_SIZE,
  PREOPENTYPE_DIR,
  PRESTAT_OFF,
  PRESTAT_SIZE,
  RIGHTS_ALL,
  RIGHTS_FD_DATASYNC,
  RIGHTS_FD_FDSTAT_SET_FLAGS,
  RIGHTS_FD_FILESTAT_GET,
  RIGHTS_FD_READ,
  RIGHTS_FD_SEEK,
  RIGHTS_FD_TELL,
  RIGHTS_FD_WRITE,
  RIGHTS_POLL_FD_READWRITE,
  WHENCE_CUR,
  WHENCE_END,
  WHENCE_SET,
} from "./abi.ts";
import { asyncSyscall, errnoOf, syscall, WasiError } from "./errors.ts";
import { type GuestMemory, u32 } from "./memory.ts";
import type { BlockingGate, InputSource, OutputSink } from "./host_hooks.ts";
import type { Imports } from "./context.ts";
import * as linux from "./linux.ts";
import { MUST_WAIT } from "./write_wait.ts";

// ---------------------------------------------------------------------------------------------
// Descriptor entries
// ---------------------------------------------------------------------------------------------

/** Descriptor 0. */
export interface StdinEntry {
  readonly kind: "stdin";
  fdflags: number;
}
/** Descriptors 1 and 2. */
export interface OutputEntry {
  readonly kind: "output";
  readonly sink: OutputSink;
  fdflags: number;
}
/**
 * A host file descriptor with exactly one owner (a table entry): `close()` is idempotent, and
 * `fd` after it is EBADF rather than a number that may already name something else.
 */
export class HostFd {
  #fd: number;
  constructor(fd: number) {
    this.#fd = fd;
  }
  /** The host fd; `WasiError(EBADF)` once closed. */
  get fd(): number {
    if (this.#fd < 0) throw new WasiError(ERRNO_BADF);
    return this.#fd;
  }
  close(): void {
    if (this.#fd < 0) return;
    linux.close(this.#fd);
    this.#fd = -1;
  }
}

/** A regular file opened by `path_open`: a raw host fd. */
export interface FileEntry {
  readonly kind: "file";
  readonly host: HostFd;
  readonly filetype: number;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly fdflags: number;
}
/** A preopened directory, or one opened by `path_open`: a real host directory fd. */
export interface DirEntry {
  readonly kind: "dir";
  /** `O_RDONLY | O_DIRECTORY` host fd: every path below this entry resolves beneath it. */
  readonly host: HostFd;
  /** The guest-visible name, for preopens only (`fd_prestat_*`). */
  readonly preopenName?: Uint8Array;
  readonly readOnly: boolean;
  /** Named to the guest (prestat) but nothing beneath it may be opened, stat'ed or listed. */
  readonly attachOnly: boolean;
  /** `fd_readdir` snapshot, taken at cookie 0. */
  listing?: DirListingEntry[];
}
/** One `fd_readdir` entry. */
export interface DirListingEntry {
  readonly name: Uint8Array;
  readonly ino: bigint;
  readonly type: number;
}
/** Anything in the descriptor table. */
export type FdEntry = StdinEntry | OutputEntry | FileEntry | DirEntry;

/** Default cap on descriptors the guest opens itself (`path_open`). */
export const DEFAULT_MAX_OPEN_FILES = 256;

/** The descriptor table: owns every host fd its entries hold. */
export class FdTable {
  readonly #entries = new Map<number, FdEntry>();
  readonly #maxOpenFiles: number;
  #guestOpened = 0;

  constructor(maxOpenFiles: number = DEFAULT_MAX_OPEN_FILES) {
    this.#maxOpenFiles = maxOpenFiles;
  }

  /** The entry for `fd`, or `WasiError(EBADF)`. */
  get(fd: number): FdEntry {
    const e = this.#entries.get(fd >>> 0);
    if (e === undefined) throw new WasiError(ERRNO_BADF);
    return e;
  }

  /** The entry for `fd` if it exists. */
  peek(fd: number): FdEntry | undefined {
    return this.#entries.get(fd >>> 0);
  }

  /**
   * The directory entry for `fd` to resolve paths beneath: EBADF if not open, ENOTDIR if not a
   * directory, ENOTCAPABLE for an attach-only preopen.
   */
  dir(fd: number): DirEntry {
    const e = this.get(fd);
    if (e.kind !== "dir") throw new WasiError(ERRNO_NOTDIR);
    if (e.attachOnly) throw new WasiError(ERRNO_NOTCAPABLE, "attach-only directory");
    return e;
  }

  /** Puts `entry` at `fd` (used for stdio and preopens). */
  set(fd: number, entry: FdEntry): void {
    this.#entries.set(fd, entry);
  }

  /** EMFILE when the guest already holds `maxOpenFiles` descriptors it opened itself. */
  reserve(): void {
    if (this.#guestOpened >= this.#maxOpenFiles) {
      throw new WasiError(ERRNO_MFILE, `more than ${this.#maxOpenFiles} open files`);
    }
  }

  /**
   * Puts `entry`, opened by the guest, at the lowest free descriptor ≥ 3 and returns it; past
   * the cap it closes the entry's host fd and throws EMFILE.
   */
  alloc(entry: FileEntry | DirEntry): number {
    try {
      this.reserve();
    } catch (err) {
      entry.host.close();
      throw err;
    }
    let fd = 3;
    while (this.#entries.has(fd)) fd++;
    this.#entries.set(fd, entry);
    this.#guestOpened++;
    return fd;
  }

  /** Removes `fd`, closing the host fd it holds. */
  close(fd: number): void {
    const e = this.get(fd);
    this.#entries.delete(fd >>> 0);
    this.#release(e);
  }

  #release(e: FdEntry): void {
    if (e.kind !== "file" && e.kind !== "dir") return;
    e.host.close();
    if (e.kind === "file" || e.preopenName === undefined) this.#guestOpened--;
  }

  /** Moves `from` to `to` (closing what `to` held). */
  renumber(from: number, to: number): void {
    const e = this.get(from);
    this.get(to);
    if ((from >>> 0) === (to >>> 0)) return;
    this.close(to);
    this.#entries.delete(from >>> 0);
    this.#entries.set(to >>> 0, e);
  }

  /** Closes every host fd (the host calls this at the end of a run). */
  closeAll(): void {
    for (const [fd, e] of this.#entries) {
      this.#entries.delete(fd);
      this.#release(e);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// stdin
// ---------------------------------------------------------------------------------------------

const STDIN_CHUNK = 65536;

/**
 * Buffers stdin so that `poll_oneoff` can wait for readiness and a later `fd_read` gets the
 * bytes. At most one host read is in flight; a read abandoned by a stop stays in flight and its
 * bytes are kept for the next `fd_read`.
 */
export class StdinReader {
  readonly #src: InputSource;
  #buf: Uint8Array = new Uint8Array(0);
  #pending: Promise<void> | null = null;
  #eof = false;
  #error: WasiError | null = null;

  constructor(src: InputSource) {
    this.#src = src;
  }

  /** The underlying source. */
  get source(): InputSource {
    return this.#src;
  }

  /** Bytes available without blocking. */
  get buffered(): number {
    return this.#buf.byteLength;
  }

  /** True once the source reported end of input (and the buffer is drained). */
  get eof(): boolean {
    return this.#eof && this.#buf.byteLength === 0;
  }

  /** True when a read would not block: data, EOF, or a stored error. */
  get ready(): boolean {
    return this.#buf.byteLength > 0 || this.#eof || this.#error !== null;
  }

  /** Throws (once) the error the last host read failed with. */
  throwPendingError(): void {
    const e = this.#error;
    if (e !== null) {
      this.#error = null;
      throw e;
    }
  }

  /** Moves up to `dst.length` buffered bytes into `dst`; returns the count. */
  take(dst: Uint8Array): number {
    const n = Math.min(dst.byteLength, this.#buf.byteLength);
    dst.set(this.#buf.subarray(0, n));
    this.#buf = this.#buf.subarray(n);
    return n;
  }

  /** Starts (or joins) one host read; resolves when it completed (never rejects). */
  fill(): Promise<void> {
    if (this.#pending !== null) return this.#pending;
    if (this.ready) return Promise.resolve();
    const chunk = new Uint8Array(STDIN_CHUNK);
    this.#pending = this.#src.read(chunk).then(
      (n) => {
        if (n === null) this.#eof = true;
        else this.#buf = chunk.subarray(0, n);
      },
      (err) => {
        this.#error = new WasiError(errnoOf(err) ?? ERRNO_IO, String(err));
      },
    ).finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }
}

// ---------------------------------------------------------------------------------------------
// Codecs
// ---------------------------------------------------------------------------------------------

/** The WASI filetype of a host `st_mode`. */
export function filetypeOfMode(mode: number): number {
  switch (mode & linux.S_IFMT) {
    case linux.S_IFREG:
      return FILETYPE_REGULAR_FILE;
    case linux.S_IFDIR:
      return FILETYPE_DIRECTORY;
    case linux.S_IFLNK:
      return FILETYPE_SYMBOLIC_LINK;
    case linux.S_IFCHR:
      return FILETYPE_CHARACTER_DEVICE;
    case linux.S_IFBLK:
      return FILETYPE_BLOCK_DEVICE;
    case linux.S_IFSOCK:
      return FILETYPE_SOCKET_STREAM;
    default:
      return FILETYPE_UNKNOWN;
  }
}

/** Writes a `filestat` (64 bytes) for a host `struct stat` (nanosecond timestamps). */
export function writeFilestat(mem: GuestMemory, ptr: number, st: linux.Stat): void {
  writeFilestatRaw(mem, ptr, { ...st, filetype: filetypeOfMode(st.mode) });
}

function writeFilestatRaw(
  mem: GuestMemory,
  ptr: number,
  s: {
    dev: bigint;
    ino: bigint;
    filetype: number;
    nlink: bigint;
    size: bigint;
    atim: bigint;
    mtim: bigint;
    ctim: bigint;
  },
): void {
  mem.check(ptr, FILESTAT_SIZE);
  mem.bytes(ptr, FILESTAT_SIZE).fill(0);
  mem.setU64(ptr + FILESTAT_OFF.dev, s.dev);
  mem.setU64(ptr + FILESTAT_OFF.ino, s.ino);
  mem.setU8(ptr + FILESTAT_OFF.filetype, s.filetype);
  mem.setU64(ptr + FILESTAT_OFF.nlink, s.nlink);
  mem.setU64(ptr + FILESTAT_OFF.size, s.size);
  mem.setU64(ptr + FILESTAT_OFF.atim, s.atim);
  mem.setU64(ptr + FILESTAT_OFF.mtim, s.mtim);
  mem.setU64(ptr + FILESTAT_OFF.ctim, s.ctim);
}

/** Rights of a stdio descriptor: never SEEK/TELL (wasi-libc's `isatty` requires that). */
const RIGHTS_STDIO = RIGHTS_FD_READ | RIGHTS_FD_WRITE | RIGHTS_FD_FDSTAT_SET_FLAGS |
  RIGHTS_FD_FILESTAT_GET | RIGHTS_POLL_FD_READWRITE;
/** Rights that only make sense on a readable / writable regular file. */
const RIGHTS_FILE_READ = RIGHTS_FD_READ;
const RIGHTS_FILE_WRITE = RIGHTS_FD_WRITE | RIGHTS_FD_DATASYNC | (1n << 4n) /* FD_SYNC */ |
  (1n << 8n) /* FD_ALLOCATE */ | (1n << 22n) /* FD_FILESTAT_SET_SIZE */;
/** Rights that a file descriptor may hold (no path_* ones, no readdir). */
const RIGHTS_FILE_BASE = RIGHTS_FD_SEEK | RIGHTS_FD_TELL | RIGHTS_FD_FDSTAT_SET_FLAGS |
  (1n << 7n) /* FD_ADVISE */ | RIGHTS_FD_FILESTAT_GET | (1n << 23n) /* FD_FILESTAT_SET_TIMES */ |
  RIGHTS_POLL_FD_READWRITE;

function isTerminal(e: StdinEntry | OutputEntry, stdin: StdinReader): boolean {
  return e.kind === "stdin" ? stdin.source.isTerminal : e.sink.isTerminal;
}

// ---------------------------------------------------------------------------------------------
// Imports
// ---------------------------------------------------------------------------------------------

/** Writes all of `bytes` at the file offset, or at `offset` (pwrite) when given. */
function writeAll(fd: number, bytes: Uint8Array, offset?: bigint): void {
  let off = 0;
  while (off < bytes.byteLength) {
    const rest = bytes.subarray(off);
    off += offset === undefined
      ? linux.write(fd, rest)
      : linux.pwrite(fd, rest, offset + BigInt(off));
  }
}

/** Reads into the iovecs until one comes back short; from `offset` (pread) when given. */
function readInto(
  fd: number,
  mem: GuestMemory,
  iovs: Array<[number, number]>,
  offset?: bigint,
): number {
  let total = 0;
  for (const [p, len] of iovs) {
    if (len === 0) continue;
    // Read straight into guest memory: a read cannot grow it, so the view stays valid.
    const buf = mem.bytes(p, len);
    const n = offset === undefined
      ? linux.read(fd, buf)
      : linux.pread(fd, buf, offset + BigInt(total));
    total += n;
    if (n < len) break;
  }
  return total;
}

function notSeekable(e: FdEntry): number {
  return e.kind === "dir" ? ERRNO_ISDIR : ERRNO_SPIPE;
}

/** Everything `fd_*` needs. */
export interface FdContext {
  readonly mem: GuestMemory;
  readonly fds: FdTable;
  readonly stdin: StdinReader;
  readonly gate: BlockingGate;
}

/** The `fd_*` imports. `fd_read` may return a Promise (wrap it in `WebAssembly.Suspending`).
 * `fd_write` returns {@link MUST_WAIT} instead of writing to a full sink: the caller then waits
 * with `fd_write_wait` (a Promise, too) and writes again (see write_wait.ts). */
export function fdImports(ctx: FdContext): Imports {
  const { mem, fds, stdin, gate } = ctx;

  /** Scatters buffered stdin into the iovecs (re-read: memory may have grown meanwhile). */
  const deliverStdin = (iovsPtr: number, iovsLen: number, nreadPtr: number): number => {
    stdin.throwPendingError();
    const iovs = mem.iovecs(iovsPtr, iovsLen);
    mem.check(nreadPtr, 4);
    let total = 0;
    for (const [p, len] of iovs) {
      if (stdin.buffered === 0) break;
      total += stdin.take(mem.bytes(p, len));
    }
    mem.setU32(nreadPtr, total);
    return ERRNO_SUCCESS;
  };

  const readStdin = (
    e: StdinEntry,
    iovsPtr: number,
    iovsLen: number,
    nreadPtr: number,
  ): number | Promise<number> => {
    const iovs = mem.iovecs(iovsPtr, iovsLen);
    mem.check(nreadPtr, 4);
    if (iovs.every(([, len]) => len === 0)) {
      mem.setU32(nreadPtr, 0);
      return ERRNO_SUCCESS;
    }
    // BlockingGate protocol, step 1 (may throw the host's sentinel: never caught here).
    gate.checkpoint();
    if (stdin.ready) return deliverStdin(iovsPtr, iovsLen, nreadPtr);
    if (e.fdflags & FDFLAGS_NONBLOCK) {
      stdin.fill();
      return ERRNO_AGAIN;
    }
    if (gate.stopping) return ERRNO_INTR; // step 2
    return (async () => {
      const r = await gate.race(stdin.fill()); // step 3
      if (r === "stopped") return ERRNO_INTR;
      return deliverStdin(iovsPtr, iovsLen, nreadPtr);
    })();
  };

  return {
    fd_write: syscall(
      (fd: number, iovsPtr: number, iovsLen: number, nwrittenPtr: number): number => {
        const e = fds.get(fd);
        if (e.kind === "output" && e.sink.room !== undefined) {
          // Back-pressure: wait (the trampoline in write_wait.ts) before writing anything, or
          // EAGAIN for a guest that asked for O_NONBLOCK.
          const room = e.sink.room();
          if (room === "full") return e.fdflags & FDFLAGS_NONBLOCK ? ERRNO_AGAIN : MUST_WAIT;
          if (room === "closed") return ERRNO_PIPE;
        }
        if (e.kind === "output" && iovsLen === 1) {
          // Hot path (a guest printing events): one iovec, no intermediate arrays.
          const iov = u32(iovsPtr);
          mem.check(iov, IOVEC_SIZE);
          const buf = mem.getU32(iov + IOVEC_OFF.buf);
          const len = mem.getU32(iov + IOVEC_OFF.buf_len);
          mem.check(nwrittenPtr, 4);
          const bytes = mem.copyOut(buf, len);
          if (len > 0) e.sink.write(bytes);
          mem.setU32(nwrittenPtr, len);
          return ERRNO_SUCCESS;
        }
        const iovs = mem.iovecs(iovsPtr, iovsLen);
        mem.check(nwrittenPtr, 4);
        let total = 0;
        if (e.kind === "output") {
          let bytes: Uint8Array;
          if (iovs.length === 1) {
            bytes = mem.copyOut(iovs[0][0], iovs[0][1]);
          } else {
            for (const [, len] of iovs) total += len;
            bytes = new Uint8Array(total);
            let off = 0;
            for (const [p, len] of iovs) {
              bytes.set(mem.bytes(p, len), off);
              off += len;
            }
          }
          total = bytes.byteLength;
          if (total > 0) e.sink.write(bytes);
        } else if (e.kind === "file") {
          if (!e.writable) return ERRNO_BADF;
          for (const [p, len] of iovs) {
            writeAll(e.host.fd, mem.bytes(p, len));
            total += len;
          }
        } else {
          return e.kind === "dir" ? ERRNO_ISDIR : ERRNO_BADF;
        }
        mem.setU32(nwrittenPtr, total);
        return ERRNO_SUCCESS;
      },
    ),

    /** Waits until the output at `fd` has room (0: write again), or an errno (EINTR on a
     * stop). Not a preview1 function: the `wait` of {@link waitingFdWrite}. */
    fd_write_wait: asyncSyscall((fd: number): number | Promise<number> => {
      const e = fds.get(fd);
      if (e.kind !== "output" || e.sink.room?.() !== "full") return ERRNO_SUCCESS;
      // BlockingGate protocol, step 1 (may throw the host's sentinel: never caught here).
      gate.checkpoint();
      if (gate.stopping) return ERRNO_INTR; // step 2
      return gate.race(e.sink.drained!()).then((r) => r === "stopped" ? ERRNO_INTR : 0); // 3
    }),

    fd_read: asyncSyscall(
      (
        fd: number,
        iovsPtr: number,
        iovsLen: number,
        nreadPtr: number,
      ): number | Promise<number> => {
        const e = fds.get(fd);
        if (e.kind === "stdin") return readStdin(e, iovsPtr, iovsLen, nreadPtr);
        if (e.kind === "dir") return ERRNO_ISDIR;
        if (e.kind !== "file" || !e.readable) return ERRNO_BADF;
        const iovs = mem.iovecs(iovsPtr, iovsLen);
        mem.check(nreadPtr, 4);
        mem.setU32(nreadPtr, readInto(e.host.fd, mem, iovs));
        return ERRNO_SUCCESS;
      },
    ),

    fd_pread: syscall(
      (fd: number, iovsPtr: number, iovsLen: number, offset: bigint, nreadPtr: number) => {
        const e = fds.get(fd);
        if (e.kind !== "file") return notSeekable(e);
        if (!e.readable) return ERRNO_BADF;
        if (offset < 0n) return ERRNO_INVAL;
        const iovs = mem.iovecs(iovsPtr, iovsLen);
        mem.check(nreadPtr, 4);
        mem.setU32(nreadPtr, readInto(e.host.fd, mem, iovs, offset));
        return ERRNO_SUCCESS;
      },
    ),

    fd_pwrite: syscall(
      (fd: number, iovsPtr: number, iovsLen: number, offset: bigint, nwrittenPtr: number) => {
        const e = fds.get(fd);
        if (e.kind !== "file") return notSeekable(e);
        if (!e.writable) return ERRNO_BADF;
        if (offset < 0n) return ERRNO_INVAL;
        const iovs = mem.iovecs(iovsPtr, iovsLen);
        mem.check(nwrittenPtr, 4);
        let total = 0;
        for (const [p, len] of iovs) {
          writeAll(e.host.fd, mem.bytes(p, len), offset + BigInt(total));
          total += len;
        }
        mem.setU32(nwrittenPtr, total);
        return ERRNO_SUCCESS;
      },
    ),

    fd_seek: syscall((fd: number, offset: bigint, whence: number, newOffsetPtr: number) => {
      const e = fds.get(fd);
      if (e.kind !== "file") return notSeekable(e);
      if (whence < WHENCE_SET || whence > WHENCE_END) return ERRNO_INVAL;
      mem.check(newOffsetPtr, 8);
      // WASI whence SET/CUR/END = 0/1/2, the same numbers as lseek's.
      const pos = linux.lseek(e.host.fd, offset, whence);
      mem.setU64(newOffsetPtr, pos);
      return ERRNO_SUCCESS;
    }),

    fd_tell: syscall((fd: number, offsetPtr: number): number => {
      const e = fds.get(fd);
      if (e.kind !== "file") return notSeekable(e);
      mem.check(offsetPtr, 8);
      mem.setU64(offsetPtr, linux.lseek(e.host.fd, 0n, WHENCE_CUR));
      return ERRNO_SUCCESS;
    }),

    fd_close: syscall((fd: number): number => {
      fds.close(fd);
      return ERRNO_SUCCESS;
    }),

    fd_renumber: syscall((from: number, to: number): number => {
      fds.renumber(from, to);
      return ERRNO_SUCCESS;
    }),

    fd_sync: syscall((fd: number): number => {
      const e = fds.get(fd);
      if (e.kind === "file") linux.fsync(e.host.fd);
      else if (e.kind !== "dir") return ERRNO_INVAL;
      return ERRNO_SUCCESS;
    }),

    fd_datasync: syscall((fd: number): number => {
      const e = fds.get(fd);
      if (e.kind === "file") linux.fdatasync(e.host.fd);
      else if (e.kind !== "dir") return ERRNO_INVAL;
      return ERRNO_SUCCESS;
    }),

    fd_advise: syscall((fd: number, _offset: bigint, _len: bigint, advice: number): number => {
      const e = fds.get(fd);
      if (e.kind !== "file") return notSeekable(e);
      return advice >= 0 && advice <= 5 ? ERRNO_SUCCESS : ERRNO_INVAL; // advisory: a no-op
    }),

    fd_fdstat_get: syscall((fd: number, ptr: number): number => {
      const e = fds.get(fd);
      mem.check(ptr, FDSTAT_SIZE);
      let filetype: number, flags: number, base: bigint, inheriting = 0n;
      switch (e.kind) {
        case "stdin":
        case "output":
          filetype = isTerminal(e, stdin) ? FILETYPE_CHARACTER_DEVICE : FILETYPE_UNKNOWN;
          flags = e.fdflags;
          base = RIGHTS_STDIO;
          break;
        case "file":
          filetype = e.filetype;
          flags = e.fdflags;
          base = RIGHTS_FILE_BASE | (e.readable ? RIGHTS_FILE_READ : 0n) |
            (e.writable ? RIGHTS_FILE_WRITE : 0n);
          break;
        case "dir":
          // wasi-libc's openat() asks for `rights & fs_rights_inheriting` of the directory, so
          // a directory grants everything; read-only preopens are enforced at path_open (EROFS).
          filetype = FILETYPE_DIRECTORY;
          flags = 0;
          base = RIGHTS_ALL;
          inheriting = RIGHTS_ALL;
          break;
      }
      mem.bytes(ptr, FDSTAT_SIZE).fill(0);
      mem.setU8(ptr + FDSTAT_OFF.fs_filetype, filetype);
      mem.setU16(ptr + FDSTAT_OFF.fs_flags, flags);
      mem.setU64(ptr + FDSTAT_OFF.fs_rights_base, base);
      mem.setU64(ptr + FDSTAT_OFF.fs_rights_inheriting, inheriting);
      return ERRNO_SUCCESS;
    }),

    fd_fdstat_set_flags: syscall((fd: number, flags: number): number => {
      const e = fds.get(fd);
      if (e.kind === "stdin" || e.kind === "output") {
        if (flags & ~(FDFLAGS_APPEND | FDFLAGS_NONBLOCK)) return ERRNO_NOTSUP;
        e.fdflags = flags;
        return ERRNO_SUCCESS;
      }
      const current = e.kind === "file" ? e.fdflags : 0;
      return flags === current ? ERRNO_SUCCESS : ERRNO_NOTSUP;
    }),

    fd_filestat_get: syscall((fd: number, ptr: number): number => {
      const e = fds.get(fd);
      mem.check(ptr, FILESTAT_SIZE);
      switch (e.kind) {
        case "stdin":
        case "output":
          writeFilestatRaw(mem, ptr, {
            dev: 0n,
            ino: 0n,
            filetype: isTerminal(e, stdin) ? FILETYPE_CHARACTER_DEVICE : FILETYPE_UNKNOWN,
            nlink: 1n,
            size: 0n,
            atim: 0n,
            mtim: 0n,
            ctim: 0n,
          });
          break;
        case "file":
          writeFilestat(mem, ptr, linux.fstat(e.host.fd));
          break;
        case "dir":
          if (e.attachOnly) return ERRNO_NOTCAPABLE;
          writeFilestat(mem, ptr, linux.fstat(e.host.fd));
          break;
      }
      return ERRNO_SUCCESS;
    }),

    fd_filestat_set_size: syscall((fd: number, size: bigint): number => {
      const e = fds.get(fd);
      if (e.kind === "dir") return ERRNO_ISDIR;
      if (e.kind !== "file" || !e.writable) return ERRNO_BADF;
      if (size < 0n) return ERRNO_INVAL;
      linux.ftruncate(e.host.fd, size);
      return ERRNO_SUCCESS;
    }),

    fd_prestat_get: syscall((fd: number, ptr: number): number => {
      const e = fds.peek(fd);
      // EBADF for anything that is not a preopen: that is how wasi-libc's scan ends.
      if (e?.kind !== "dir" || e.preopenName === undefined) return ERRNO_BADF;
      mem.check(ptr, PRESTAT_SIZE);
      mem.bytes(ptr, PRESTAT_SIZE).fill(0);
      mem.setU8(ptr + PRESTAT_OFF.tag, PREOPENTYPE_DIR);
      mem.setU32(ptr + PRESTAT_OFF.pr_name_len, e.preopenName.byteLength);
      return ERRNO_SUCCESS;
    }),

    fd_prestat_dir_name: syscall((fd: number, pathPtr: number, pathLen: number): number => {
      const e = fds.peek(fd);
      if (e?.kind !== "dir" || e.preopenName === undefined) return ERRNO_BADF;
      if ((pathLen >>> 0) < e.preopenName.byteLength) return ERRNO_NAMETOOLONG;
      mem.copyIn(pathPtr, e.preopenName);
      return ERRNO_SUCCESS;
    }),

    fd_readdir: syscall(
      (fd: number, bufPtr: number, bufLen: number, cookie: bigint, bufUsedPtr: number) => {
        const e = fds.dir(fd);
        mem.check(bufPtr, bufLen);
        mem.check(bufUsedPtr, 4);
        cookie = BigInt.asUintN(64, cookie); // i64 arrives signed
        if (cookie === 0n || e.listing === undefined) e.listing = listDir(e.host.fd);
        const listing = e.listing;
        const start = cookie < BigInt(listing.length) ? Number(cookie) : listing.length;
        let want = 0;
        for (let i = start; i < listing.length; i++) want += DIRENT_SIZE + listing[i].name.length;
        const out = new Uint8Array(Math.min(want, bufLen >>> 0));
        let used = 0;
        for (let i = start; i < listing.length && used < out.byteLength; i++) {
          const ent = listing[i];
          const rec = new Uint8Array(DIRENT_SIZE + ent.name.byteLength);
          const dv = new DataView(rec.buffer);
          dv.setBigUint64(DIRENT_OFF.d_next, BigInt(i + 1), true);
          dv.setBigUint64(DIRENT_OFF.d_ino, ent.ino, true);
          dv.setUint32(DIRENT_OFF.d_namlen, ent.name.byteLength, true);
          dv.setUint8(DIRENT_OFF.d_type, ent.type);
          rec.set(ent.name, DIRENT_SIZE);
          // A record that does not fit is truncated: bufused == buf_len tells the guest to
          // retry with a bigger buffer (wasi-libc does).
          const n = Math.min(rec.byteLength, out.byteLength - used);
          out.set(rec.subarray(0, n), used);
          used += n;
        }
        mem.copyIn(bufPtr, out.subarray(0, used));
        mem.setU32(bufUsedPtr, used);
        return ERRNO_SUCCESS;
      },
    ),
  };
}

const DT_TYPES: Readonly<Record<number, number>> = {
  1: FILETYPE_UNKNOWN, // FIFO: WASI has no type for it
  2: FILETYPE_CHARACTER_DEVICE,
  4: FILETYPE_DIRECTORY,
  6: FILETYPE_BLOCK_DEVICE,
  8: FILETYPE_REGULAR_FILE,
  10: FILETYPE_SYMBOLIC_LINK,
  12: FILETYPE_SOCKET_STREAM,
};
const DT_UNKNOWN = 0;

/** The whole listing of directory `fd` (getdents64 from offset 0), `.` and `..` first. */
function listDir(fd: number): DirListingEntry[] {
  linux.lseek(fd, 0n, WHENCE_SET);
  const dots: DirListingEntry[] = [];
  const rest: DirListingEntry[] = [];
  const buf = new Uint8Array(32768);
  const dv = new DataView(buf.buffer);
  for (;;) {
    const n = linux.getdents64(fd, buf);
    if (n === 0) break;
    // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
    for (let off = 0; off < n;) {
      const reclen = dv.getUint16(off + 16, true);
      const nameStart = off + 19;
      const nameEnd = buf.indexOf(0, nameStart);
      const name = buf.slice(
        nameStart,
        nameEnd < 0 || nameEnd > off + reclen ? off + reclen : nameEnd,
      );
      const dtype = dv.getUint8(off + 18);
      let type = DT_TYPES[dtype] ?? FILETYPE_UNKNOWN;
      if (dtype === DT_UNKNOWN) {
        try {
          type = filetypeOfMode(
            linux.fstatat(fd, new TextDecoder().decode(name), linux.AT_SYMLINK_NOFOLLOW).mode,
          );
        } catch { /* vanished meanwhile: unknown */ }
      }
      const ent = { name, ino: dv.getBigUint64(off, true), type };
      const isDot = name.length <= 2 && name.every((b) => b === 0x2e);
      (isDot ? dots : rest).push(ent);
      off += reclen;
    }
  }
  dots.sort((a, b) => a.name.length - b.name.length);
  return [...dots, ...rest];
}
