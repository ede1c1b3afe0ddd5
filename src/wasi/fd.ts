/**
 * The `fd_*` imports.
 *
 * The descriptor table is `fd_table.ts`, stdin `stdin.ts`, the stat records `stat.ts`, and
 * `fd_readdir`'s listing `readdir.ts`. I/O on files and directories is libc through FFI
 * (`linux.ts`), synchronously (only regular files and directories are ever opened, so it does not
 * block). Only a read of stdin, and a write to stdout/stderr whose reader is behind (a sink with
 * back-pressure, `OutputSink.room`), can block; they suspend the guest (JSPI) instead of the
 * event loop.
 *
 * Choices where preview1 leaves room:
 * - stdio `fd_fdstat_get`: CHARACTER_DEVICE without SEEK/TELL rights when the real stream is a
 *   terminal, otherwise `FILETYPE_UNKNOWN` (why: `stat.ts`).
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
  ERRNO_AGAIN,
  ERRNO_BADF,
  ERRNO_INTR,
  ERRNO_INVAL,
  ERRNO_ISDIR,
  ERRNO_NAMETOOLONG,
  ERRNO_NOTCAPABLE,
  ERRNO_NOTSUP,
  ERRNO_PIPE,
  ERRNO_SPIPE,
  ERRNO_SUCCESS,
  FDFLAGS_APPEND,
  FDFLAGS_NONBLOCK,
  FILESTAT_SIZE,
  IOVEC_OFF,
  IOVEC_SIZE,
  PREOPENTYPE_DIR,
  PRESTAT_OFF,
  PRESTAT_SIZE,
  WHENCE_CUR,
  WHENCE_END,
  WHENCE_SET,
} from "./abi.ts";
import { asyncSyscall, syscall } from "./errors.ts";
import { u32, type WasiMemory } from "./memory.ts";
import type { Imports } from "./context.ts";
import type { FdEntry, FdTable } from "./fd_table.ts";
import { readStdin, type StdinContext } from "./stdin.ts";
import {
  fdstatOf,
  stdioFilestat,
  writeFdstat,
  writeFilestat,
  writeFilestatFields,
} from "./stat.ts";
import { encodeDirents, listDir } from "./readdir.ts";
import * as linux from "./linux.ts";
import { MUST_WAIT } from "./write_wait.ts";

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
  mem: WasiMemory,
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
export interface FdContext extends StdinContext {
  readonly fds: FdTable;
}

/** The `fd_*` imports. `fd_read` may return a Promise (wrap it in `WebAssembly.Suspending`).
 * `fd_write` returns {@link MUST_WAIT} instead of writing to a full sink: the caller then waits
 * with `fd_write_wait` (a Promise, too) and writes again (see write_wait.ts). */
export function fdImports(ctx: FdContext): Imports {
  const { mem, fds, stdin, gate } = ctx;

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
        if (e.kind === "stdin") return readStdin(ctx, e, iovsPtr, iovsLen, nreadPtr);
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
      writeFdstat(mem, ptr, fdstatOf(e, stdin));
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
          writeFilestatFields(mem, ptr, stdioFilestat(e, stdin));
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
        const out = encodeDirents(e.listing, cookie, bufLen);
        mem.copyIn(bufPtr, out);
        mem.setU32(bufUsedPtr, out.byteLength);
        return ERRNO_SUCCESS;
      },
    ),
  };
}
