/**
 * The `path_*` imports: every path resolves beneath a real host directory descriptor.
 *
 * Each directory entry (a preopen, or a directory the guest opened) holds an
 * `O_RDONLY | O_DIRECTORY` host fd, and a guest path is resolved *beneath that fd* by the
 * kernel (`openat2` with `RESOLVE_BENEATH`, or the component walk of `beneath.ts` where
 * openat2 is missing). No host path string is kept or re-resolved, so renaming directories or
 * swapping them for symlinks (by the guest or by another process) cannot make a later call land
 * outside.
 *
 * Why beneath the entry's own fd, not the preopen's: the entry was opened beneath its preopen,
 * and the kernel confines every later walk to beneath the entry, which is a subtree of what was
 * granted, so it is strictly tighter. The one visible difference is that `..` above a
 * guest-opened directory is refused (ENOTCAPABLE), as before this change; wasi-libc never sends
 * one, because it maps every absolute or cwd-relative path onto a preopen and a path below it.
 * A directory the guest opened and that something later moves elsewhere stays usable where it
 * went: the guest cannot move it out of what it was granted (every rename target is resolved
 * beneath a granted directory too); another root process can, which is outside what a sandbox
 * can promise.
 *
 * Operations without an openat2 form (mkdirat, unlinkat, renameat, readlinkat, fstatat without
 * following) open the parent beneath the base and act on a last component that must be a plain
 * name: `.` or `..` there → EEXIST for `path_create_directory`, EINVAL for the others.
 *
 * Choices: read-only preopens (`readOnly: true`) make every creating or writing operation
 * EROFS. Opening a symlink without SYMLINK_FOLLOW (`O_NOFOLLOW`) → ELOOP. `path_open` refuses
 * anything but a regular file or a directory (a FIFO, a socket, a device) with ENOTSUP: it looks
 * through an `O_PATH` descriptor first, so such a file is not even opened, and opens with
 * `O_NONBLOCK | O_NOCTTY`, so a file swapped in meanwhile cannot block the host either (it is
 * then refused by its type on the real descriptor). A symlink whose resolution
 * passes above the base even to come back (`../base/x`) is refused, as wasmtime does. Not
 * implemented (ENOSYS): `path_link`, `path_symlink`, `path_filestat_set_times`.
 *
 * @module
 */

import {
  ERRNO_EXIST,
  ERRNO_INVAL,
  ERRNO_LOOP,
  ERRNO_NOENT,
  ERRNO_NOTSUP,
  ERRNO_ROFS,
  ERRNO_SUCCESS,
  FDFLAGS_APPEND,
  FILESTAT_SIZE,
  FILETYPE_DIRECTORY,
  FILETYPE_REGULAR_FILE,
  FILETYPE_SYMBOLIC_LINK,
  LOOKUPFLAGS_SYMLINK_FOLLOW,
  OFLAGS_CREAT,
  OFLAGS_DIRECTORY,
  OFLAGS_EXCL,
  OFLAGS_TRUNC,
  RIGHTS_FD_ALLOCATE,
  RIGHTS_FD_DATASYNC,
  RIGHTS_FD_FILESTAT_SET_SIZE,
  RIGHTS_FD_READ,
  RIGHTS_FD_READDIR,
  RIGHTS_FD_WRITE,
} from "./abi.ts";
import { syscall, WasiError } from "./errors.ts";
import type { WasiMemory } from "./memory.ts";
import { type DirEntry, type FdTable, HostFd } from "./fd_table.ts";
import { filetypeOfMode, writeFilestat } from "./stat.ts";
import type { Imports } from "./context.ts";
import { type Beneath, splitLast } from "./beneath.ts";
import * as linux from "./linux.ts";

const RIGHTS_WANT_WRITE = RIGHTS_FD_WRITE | RIGHTS_FD_DATASYNC | RIGHTS_FD_ALLOCATE |
  RIGHTS_FD_FILESTAT_SET_SIZE;
const RIGHTS_WANT_READ = RIGHTS_FD_READ | RIGHTS_FD_READDIR;

/** Everything `path_*` needs. */
export interface PathContext {
  readonly mem: WasiMemory;
  readonly fds: FdTable;
  readonly beneath: Beneath;
}

/** The `path_*` imports. */
export function pathImports(ctx: PathContext): Imports {
  const { mem, fds, beneath } = ctx;

  const writableDir = (fd: number): DirEntry => {
    const d = fds.dir(fd);
    if (d.readOnly) throw new WasiError(ERRNO_ROFS);
    return d;
  };

  /**
   * The type of what `path_open` would open, seen through an `O_PATH` descriptor (which never
   * runs a device driver's open), or `undefined` if it does not exist yet and `O_CREAT` will
   * create it. So a device, a FIFO or a socket is refused without ever being opened; the type
   * is checked again on the real descriptor, against a swap in between.
   */
  const typeBeforeOpen = (dirfd: number, path: string, flags: number): number | undefined => {
    let pfd: number;
    try {
      pfd = beneath.open(
        dirfd,
        path,
        linux.O_PATH | (flags & (linux.O_NOFOLLOW | linux.O_DIRECTORY)),
      );
    } catch (err) {
      if (flags & linux.O_CREAT && err instanceof WasiError && err.errno === ERRNO_NOENT) {
        return undefined;
      }
      throw err;
    }
    try {
      return filetypeOfMode(linux.fstat(pfd).mode);
    } finally {
      linux.close(pfd);
    }
  };

  return {
    path_open: syscall((
      fd: number,
      dirflags: number,
      pathPtr: number,
      pathLen: number,
      oflags: number,
      rightsBase: bigint,
      _rightsInheriting: bigint,
      fdflags: number,
      fdPtr: number,
    ): number => {
      const dir = fds.dir(fd);
      const path = mem.string(pathPtr, pathLen);
      mem.check(fdPtr, 4);
      const create = (oflags & OFLAGS_CREAT) !== 0;
      const trunc = (oflags & OFLAGS_TRUNC) !== 0;
      const wantWrite = (rightsBase & RIGHTS_WANT_WRITE) !== 0n;
      const wantRead = (rightsBase & RIGHTS_WANT_READ) !== 0n;
      const append = (fdflags & FDFLAGS_APPEND) !== 0;
      if (dir.readOnly && (wantWrite || create || trunc)) return ERRNO_ROFS;
      fds.reserve();
      // Never block the host (a FIFO without a writer, a device): O_NONBLOCK, then refuse
      // whatever is not a regular file or a directory. The guest's rights are enforced by the
      // entry (`readable`/`writable`), the host access mode only follows them.
      let flags = linux.O_NONBLOCK | linux.O_NOCTTY |
        (wantWrite ? (wantRead ? linux.O_RDWR : linux.O_WRONLY) : linux.O_RDONLY);
      if ((dirflags & LOOKUPFLAGS_SYMLINK_FOLLOW) === 0) flags |= linux.O_NOFOLLOW;
      if (oflags & OFLAGS_DIRECTORY) flags |= linux.O_DIRECTORY;
      if (create) flags |= linux.O_CREAT;
      if (oflags & OFLAGS_EXCL) flags |= linux.O_EXCL;
      if (trunc) flags |= linux.O_TRUNC;
      if (append) flags |= linux.O_APPEND;
      if (!(create && (oflags & OFLAGS_EXCL))) {
        const pre = typeBeforeOpen(dir.host.fd, path, flags);
        if (pre === FILETYPE_SYMBOLIC_LINK) return ERRNO_LOOP; // what O_NOFOLLOW would say
        if (pre !== undefined && pre !== FILETYPE_REGULAR_FILE && pre !== FILETYPE_DIRECTORY) {
          return ERRNO_NOTSUP;
        }
      }
      const host = new HostFd(beneath.open(dir.host.fd, path, flags, 0o666));
      let filetype: number;
      try {
        filetype = filetypeOfMode(linux.fstat(host.fd).mode);
      } catch (err) {
        host.close();
        throw err;
      }
      if (filetype === FILETYPE_DIRECTORY) {
        mem.setU32(
          fdPtr,
          fds.alloc({ kind: "dir", host, readOnly: dir.readOnly, attachOnly: false }),
        );
        return ERRNO_SUCCESS;
      }
      if (filetype !== FILETYPE_REGULAR_FILE) {
        host.close();
        return ERRNO_NOTSUP;
      }
      mem.setU32(
        fdPtr,
        fds.alloc({
          kind: "file",
          host,
          filetype,
          readable: wantRead,
          writable: wantWrite,
          fdflags: append ? FDFLAGS_APPEND : 0,
        }),
      );
      return ERRNO_SUCCESS;
    }),

    path_filestat_get: syscall(
      (fd: number, flags: number, pathPtr: number, pathLen: number, bufPtr: number): number => {
        const dir = fds.dir(fd);
        const path = mem.string(pathPtr, pathLen);
        mem.check(bufPtr, FILESTAT_SIZE);
        const follow = (flags & LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0;
        const { name } = splitLast(path);
        if (!follow && name !== "." && name !== "..") {
          const st = beneath.withParent(
            dir.host.fd,
            path,
            ERRNO_INVAL,
            (pfd, n) => linux.fstatat(pfd, n, linux.AT_SYMLINK_NOFOLLOW),
          );
          writeFilestat(mem, bufPtr, st);
          return ERRNO_SUCCESS;
        }
        const pfd = beneath.open(dir.host.fd, path, linux.O_PATH);
        try {
          writeFilestat(mem, bufPtr, linux.fstat(pfd));
        } finally {
          linux.close(pfd);
        }
        return ERRNO_SUCCESS;
      },
    ),

    path_create_directory: syscall((fd: number, pathPtr: number, pathLen: number): number => {
      const dir = writableDir(fd);
      const path = mem.string(pathPtr, pathLen);
      beneath.withParent(dir.host.fd, path, ERRNO_EXIST, (pfd, n) => linux.mkdirat(pfd, n, 0o777));
      return ERRNO_SUCCESS;
    }),

    path_remove_directory: syscall((fd: number, pathPtr: number, pathLen: number): number => {
      const dir = writableDir(fd);
      const path = mem.string(pathPtr, pathLen);
      beneath.withParent(
        dir.host.fd,
        path,
        ERRNO_INVAL,
        (pfd, n) => linux.unlinkat(pfd, n, linux.AT_REMOVEDIR),
      );
      return ERRNO_SUCCESS;
    }),

    path_unlink_file: syscall((fd: number, pathPtr: number, pathLen: number): number => {
      const dir = writableDir(fd);
      const path = mem.string(pathPtr, pathLen);
      // unlinkat without AT_REMOVEDIR refuses a directory itself (EISDIR).
      beneath.withParent(dir.host.fd, path, ERRNO_INVAL, (pfd, n) => linux.unlinkat(pfd, n, 0));
      return ERRNO_SUCCESS;
    }),

    path_rename: syscall((
      fd: number,
      oldPtr: number,
      oldLen: number,
      newFd: number,
      newPtr: number,
      newLen: number,
    ): number => {
      const from = writableDir(fd);
      const to = writableDir(newFd);
      const oldPath = mem.string(oldPtr, oldLen);
      const newPath = mem.string(newPtr, newLen);
      beneath.withParent(
        from.host.fd,
        oldPath,
        ERRNO_INVAL,
        (opfd, on) =>
          beneath.withParent(
            to.host.fd,
            newPath,
            ERRNO_INVAL,
            (npfd, nn) => linux.renameat(opfd, on, npfd, nn),
          ),
      );
      return ERRNO_SUCCESS;
    }),

    path_readlink: syscall((
      fd: number,
      pathPtr: number,
      pathLen: number,
      bufPtr: number,
      bufLen: number,
      bufUsedPtr: number,
    ): number => {
      const dir = fds.dir(fd);
      const path = mem.string(pathPtr, pathLen);
      mem.check(bufPtr, bufLen);
      mem.check(bufUsedPtr, 4);
      const target = beneath.withParent(
        dir.host.fd,
        path,
        ERRNO_INVAL,
        (pfd, n) => linux.readlinkat(pfd, n),
      );
      // Truncated like readlink(2) when the buffer is too small.
      const n = Math.min(target.byteLength, bufLen >>> 0);
      mem.copyIn(bufPtr, target.subarray(0, n));
      mem.setU32(bufUsedPtr, n);
      return ERRNO_SUCCESS;
    }),
  };
}
