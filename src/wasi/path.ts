/**
 * Path resolution confined to preopened directories, and the `path_*` imports.
 *
 * A guest path is always relative to a directory descriptor (wasi-libc maps absolute paths to
 * the longest matching preopen before calling us). {@link resolvePath}:
 * 1. rejects an empty path (ENOENT), a NUL byte (EINVAL) and an absolute path (ENOTCAPABLE);
 * 2. normalises `.` and `..` lexically; `..` above the directory → ENOTCAPABLE;
 * 3. canonicalises the parent directory with `realpath` and checks it lies inside the preopen's
 *    canonical root (a symlinked directory component pointing outside → ENOTCAPABLE);
 * 4. when following symlinks, follows a symlink in the last component by hand (up to 40 hops),
 *    re-checking the containment of each target's parent, so even a dangling symlink cannot make
 *    `O_CREAT` create a file outside.
 * The result is a host path whose parent is canonical and inside the root and whose last
 * component is not a symlink (unless not following). A concurrent rename/symlink swap between
 * this check and the host call (TOCTOU) is not defended against: the guest is single-threaded,
 * but other host processes are not.
 *
 * Choices: read-only preopens (`readOnly: true`) make every creating or writing operation
 * EROFS. Opening a symlink without SYMLINK_FOLLOW (`O_NOFOLLOW`) → ELOOP. Not implemented
 * (ENOSYS): `path_link`, `path_symlink`, `path_filestat_set_times`.
 *
 * @module
 */

import {
  ERRNO_EXIST,
  ERRNO_INVAL,
  ERRNO_ISDIR,
  ERRNO_LOOP,
  ERRNO_NOENT,
  ERRNO_NOTCAPABLE,
  ERRNO_NOTDIR,
  ERRNO_ROFS,
  ERRNO_SUCCESS,
  FDFLAGS_APPEND,
  FILESTAT_SIZE,
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
import { encodeUtf8, type GuestMemory } from "./memory.ts";
import { type DirEntry, type FdTable, filetypeOf, writeFilestat } from "./fd.ts";
import type { Imports } from "./context.ts";

const MAX_SYMLINK_HOPS = 40;

/** True when canonical `p` is `root` or lies under it. */
export function isInside(p: string, root: string): boolean {
  if (p === root) return true;
  return p.startsWith(root.endsWith("/") ? root : root + "/");
}

function mustBeInside(p: string, root: string): void {
  if (!isInside(p, root)) throw new WasiError(ERRNO_NOTCAPABLE, `path escapes ${root}`);
}

function lstatOrNull(p: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(p);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/** Lexically normalises an absolute host path (`.`/`..`/duplicate slashes). */
function normalizeAbs(p: string): string {
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return "/" + out.join("/");
}

function splitDir(p: string): [string, string] {
  const i = p.lastIndexOf("/");
  return [i <= 0 ? "/" : p.slice(0, i), p.slice(i + 1)];
}

/**
 * Resolves guest `path` relative to directory `dir` to a host path, confined to `dir.root`
 * (see the module doc). Throws `WasiError` (NOENT, INVAL, NOTCAPABLE, LOOP) or a Deno error.
 */
export function resolvePath(dir: DirEntry, path: string, follow: boolean): string {
  if (path === "") throw new WasiError(ERRNO_NOENT);
  if (path.includes("\0")) throw new WasiError(ERRNO_INVAL);
  if (path.startsWith("/")) throw new WasiError(ERRNO_NOTCAPABLE, "absolute path");
  const parts: string[] = [];
  for (const c of path.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (parts.length === 0) throw new WasiError(ERRNO_NOTCAPABLE, "`..` escapes");
      parts.pop();
    } else {
      parts.push(c);
    }
  }
  if (parts.length === 0) return dir.hostPath;
  const name = parts.pop()!;
  const parentReal = Deno.realPathSync([dir.hostPath, ...parts].join("/"));
  mustBeInside(parentReal, dir.root);
  let candidate = parentReal === "/" ? "/" + name : `${parentReal}/${name}`;
  if (!follow) return candidate;
  for (let hop = 0; hop < MAX_SYMLINK_HOPS; hop++) {
    const st = lstatOrNull(candidate);
    if (st === null || !st.isSymlink) return candidate;
    const target = Deno.readLinkSync(candidate);
    const abs = normalizeAbs(
      target.startsWith("/") ? target : `${splitDir(candidate)[0]}/${target}`,
    );
    if (abs === "/") {
      mustBeInside("/", dir.root);
      return "/";
    }
    const [tDir, tName] = splitDir(abs);
    const tDirReal = Deno.realPathSync(tDir);
    mustBeInside(tDirReal, dir.root);
    candidate = tDirReal === "/" ? "/" + tName : `${tDirReal}/${tName}`;
  }
  throw new WasiError(ERRNO_LOOP);
}

const RIGHTS_WANT_WRITE = RIGHTS_FD_WRITE | RIGHTS_FD_DATASYNC | RIGHTS_FD_ALLOCATE |
  RIGHTS_FD_FILESTAT_SET_SIZE;
const RIGHTS_WANT_READ = RIGHTS_FD_READ | RIGHTS_FD_READDIR;

/** Everything `path_*` needs. */
export interface PathContext {
  readonly mem: GuestMemory;
  readonly fds: FdTable;
}

/** The `path_*` imports. */
export function pathImports(ctx: PathContext): Imports {
  const { mem, fds } = ctx;

  const writableDir = (fd: number): DirEntry => {
    const d = fds.dir(fd);
    if (d.readOnly) throw new WasiError(ERRNO_ROFS);
    return d;
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
      const follow = (dirflags & LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0;
      const host = resolvePath(dir, path, follow);
      const info = lstatOrNull(host);
      if (info?.isSymlink) return ERRNO_LOOP; // only when not following (O_NOFOLLOW)
      const create = (oflags & OFLAGS_CREAT) !== 0;
      const excl = (oflags & OFLAGS_EXCL) !== 0;
      const trunc = (oflags & OFLAGS_TRUNC) !== 0;
      const wantWrite = (rightsBase & RIGHTS_WANT_WRITE) !== 0n;
      const wantRead = (rightsBase & RIGHTS_WANT_READ) !== 0n;
      if (info !== null && create && excl) return ERRNO_EXIST;
      if (info === null && !create) return ERRNO_NOENT;

      if ((oflags & OFLAGS_DIRECTORY) || info?.isDirectory) {
        if (info === null) return ERRNO_NOENT;
        if (!info.isDirectory) return ERRNO_NOTDIR;
        if (wantWrite || trunc) return ERRNO_ISDIR;
        mem.setU32(
          fdPtr,
          fds.alloc({ kind: "dir", hostPath: host, root: dir.root, readOnly: dir.readOnly }),
        );
        return ERRNO_SUCCESS;
      }

      if (dir.readOnly && (wantWrite || create || trunc)) return ERRNO_ROFS;
      const append = (fdflags & FDFLAGS_APPEND) !== 0;
      // Deno wants write access for create/truncate; the guest's own rights are enforced by
      // `readable`/`writable` on the entry, not by the host open mode.
      const hostWrite = wantWrite || create || trunc;
      const file = Deno.openSync(host, {
        read: wantRead || !hostWrite,
        write: hostWrite && !append,
        append: append && hostWrite,
        create: create && !excl,
        createNew: create && excl,
        truncate: trunc,
      });
      let filetype: number;
      try {
        filetype = filetypeOf(file.statSync());
      } catch (err) {
        file.close();
        throw err;
      }
      mem.setU32(
        fdPtr,
        fds.alloc({
          kind: "file",
          file,
          hostPath: host,
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
        const host = resolvePath(dir, path, (flags & LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0);
        // After a following resolution the last component is no symlink, so lstat is right in
        // both cases.
        writeFilestat(mem, bufPtr, Deno.lstatSync(host));
        return ERRNO_SUCCESS;
      },
    ),

    path_create_directory: syscall((fd: number, pathPtr: number, pathLen: number): number => {
      const dir = writableDir(fd);
      Deno.mkdirSync(resolvePath(dir, mem.string(pathPtr, pathLen), false));
      return ERRNO_SUCCESS;
    }),

    path_remove_directory: syscall((fd: number, pathPtr: number, pathLen: number): number => {
      const dir = writableDir(fd);
      const host = resolvePath(dir, mem.string(pathPtr, pathLen), false);
      if (host === dir.hostPath) return ERRNO_INVAL;
      const st = Deno.lstatSync(host);
      if (!st.isDirectory) return ERRNO_NOTDIR;
      Deno.removeSync(host);
      return ERRNO_SUCCESS;
    }),

    path_unlink_file: syscall((fd: number, pathPtr: number, pathLen: number): number => {
      const dir = writableDir(fd);
      const host = resolvePath(dir, mem.string(pathPtr, pathLen), false);
      const st = Deno.lstatSync(host);
      if (st.isDirectory) return ERRNO_ISDIR;
      Deno.removeSync(host);
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
      const from = resolvePath(writableDir(fd), mem.string(oldPtr, oldLen), false);
      const to = resolvePath(writableDir(newFd), mem.string(newPtr, newLen), false);
      Deno.renameSync(from, to);
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
      const host = resolvePath(dir, mem.string(pathPtr, pathLen), false);
      mem.check(bufPtr, bufLen);
      mem.check(bufUsedPtr, 4);
      const target = encodeUtf8(Deno.readLinkSync(host));
      // Truncated like readlink(2) when the buffer is too small.
      const n = Math.min(target.byteLength, bufLen >>> 0);
      mem.copyIn(bufPtr, target.subarray(0, n));
      mem.setU32(bufUsedPtr, n);
      return ERRNO_SUCCESS;
    }),
  };
}
