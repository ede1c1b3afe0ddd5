/**
 * Resolving a guest path beneath a directory descriptor, so that nothing outside it is ever
 * reached, whatever the guest or another process does to the tree meanwhile.
 *
 * Two ways, chosen per {@link Beneath}:
 * - `"kernel"` (default): `openat2(dirfd, path, {resolve: RESOLVE_BENEATH |
 *   RESOLVE_NO_MAGICLINKS})`. The kernel walks the path itself and refuses, atomically with the
 *   walk, an absolute path, a `..` above `dirfd` and any symlink (absolute, or relative with
 *   `..`) that would leave it (EXDEV → ENOTCAPABLE); `/proc` magic links → ELOOP. A rename
 *   racing the walk makes the kernel answer EAGAIN, retried a few times. Linux 5.6+.
 * - `"walk"` (automatic when openat2 is ENOSYS; selectable for tests): one component at a time
 *   from `dirfd`, each directory opened `O_PATH | O_NOFOLLOW | O_DIRECTORY` relative to the
 *   previous one. A symlink is read (`readlinkat`) and its target spliced into the remaining
 *   components (at most 40 hops → ELOOP; absolute target → ENOTCAPABLE); `..` pops our own stack
 *   of descriptors and never goes above `dirfd` (→ ENOTCAPABLE). The final open carries
 *   `O_NOFOLLOW`, so a component swapped for a symlink after it was checked fails (ELOOP)
 *   instead of being followed. What it cannot do, unlike the kernel: if *another host process*
 *   moves a directory we are standing in out of the tree during the walk, the rest of that walk
 *   happens in the moved directory (never above it).
 *
 * Operations that have no openat2 form (mkdirat, unlinkat, renameat, readlinkat, fstatat
 * without following) open the *parent* with {@link Beneath.open} and act on a last component
 * that is a plain name ({@link splitLast}).
 *
 * @module
 */

import {
  ERRNO_INVAL,
  ERRNO_LOOP,
  ERRNO_NAMETOOLONG,
  ERRNO_NOENT,
  ERRNO_NOTCAPABLE,
  ERRNO_NOTDIR,
} from "./abi.ts";
import { WasiError } from "./errors.ts";
import * as linux from "./linux.ts";

/** How {@link Beneath} resolves: in the kernel (openat2) or by a component walk. */
export type PathResolution = "kernel" | "walk";

const MAX_SYMLINK_HOPS = 40;

/** Set once openat2 answered ENOSYS: every later resolution walks. */
let openat2Missing = false;

/** Linux's PATH_MAX, NUL included: longer paths are ENAMETOOLONG in both modes. */
const PATH_MAX = 4096;

/** Refuses what no resolution may see: an empty path, a NUL byte, an absolute path, a path
 * longer than the kernel takes. */
export function checkGuestPath(path: string): void {
  if (path === "") throw new WasiError(ERRNO_NOENT);
  // UTF-16 length ≤ UTF-8 length: the exact count only for the long ones.
  if (path.length >= PATH_MAX / 3 && new TextEncoder().encode(path).length >= PATH_MAX) {
    throw new WasiError(ERRNO_NAMETOOLONG);
  }
  if (path.includes("\0")) throw new WasiError(ERRNO_INVAL);
  if (path.startsWith("/")) throw new WasiError(ERRNO_NOTCAPABLE, "absolute path");
}

/**
 * Splits `path` into the parent directory path and the last component, ignoring trailing
 * slashes: `a/b/` → [`a`, `b`], `b` → [`.`, `b`]. The name may be `.` or `..`: callers refuse
 * those for operations that need a plain name.
 */
export function splitLast(path: string): { parent: string; name: string } {
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "") return { parent: ".", name: "." };
  const i = trimmed.lastIndexOf("/");
  return i < 0
    ? { parent: ".", name: trimmed }
    : { parent: trimmed.slice(0, i) || ".", name: trimmed.slice(i + 1) };
}

/** Resolution beneath directory descriptors. */
export class Beneath {
  readonly #mode: PathResolution;

  constructor(mode: PathResolution = "kernel") {
    this.#mode = mode;
  }

  /**
   * Opens `path` beneath `dirfd` with open(2) `flags` (O_NOFOLLOW: the last component is not
   * followed) and `mode`; returns a new host fd the caller owns.
   */
  open(dirfd: number, path: string, flags: number, mode = 0): number {
    checkGuestPath(path);
    if (this.#mode === "kernel" && !openat2Missing) {
      try {
        return linux.openat2Beneath(dirfd, path, flags | linux.O_CLOEXEC, mode);
      } catch (err) {
        if (!(err instanceof linux.LinuxError)) throw err;
        if (err.linuxErrno === linux.EXDEV) {
          throw new WasiError(ERRNO_NOTCAPABLE, `${path}: leaves the directory`);
        }
        if (err.linuxErrno !== linux.ENOSYS) throw err;
        openat2Missing = true;
      }
    }
    const follow = (flags & linux.O_NOFOLLOW) === 0;
    const { dir, name } = walk(dirfd, path, follow);
    try {
      return linux.openat(dir, name ?? ".", flags | linux.O_NOFOLLOW | linux.O_CLOEXEC, mode);
    } finally {
      if (dir !== dirfd) linux.close(dir);
    }
  }

  /**
   * Runs `fn` with an `O_PATH` descriptor of the parent of `path` (opened beneath `dirfd`) and
   * the last component, a plain name. A last component `.` or `..` → `dotErrno`.
   */
  withParent<T>(
    dirfd: number,
    path: string,
    dotErrno: number,
    fn: (parentFd: number, name: string) => T,
  ): T {
    checkGuestPath(path);
    const { parent, name } = splitLast(path);
    if (name === "." || name === "..") throw new WasiError(dotErrno);
    const pfd = this.open(dirfd, parent, linux.O_PATH | linux.O_DIRECTORY);
    try {
      return fn(pfd, name);
    } finally {
      linux.close(pfd);
    }
  }
}

/**
 * The component walk (see the module doc). Returns the directory holding the last component
 * (`dirfd` itself or a new `O_PATH` fd the caller closes) and that component's name, or `null`
 * when the path names the directory itself (`.`, `a/..`, a trailing slash). With `followLast`,
 * a symlink in the last place is resolved too, so the name returned was not a symlink when
 * checked.
 */
function walk(dirfd: number, path: string, followLast: boolean): {
  dir: number;
  name: string | null;
} {
  const stack: number[] = []; // owned fds of the directories below dirfd we stand in
  const top = () => stack.length > 0 ? stack[stack.length - 1] : dirfd;
  const queue = path.split("/");
  let hops = 0;
  try {
    while (queue.length > 0) {
      const c = queue.shift()!;
      const last = queue.length === 0;
      if (c === "" || c === ".") {
        if (last) return { dir: keep(stack, dirfd), name: null };
        continue;
      }
      if (c === "..") {
        if (stack.length === 0) throw new WasiError(ERRNO_NOTCAPABLE, "`..` leaves the directory");
        linux.close(stack.pop()!);
        if (last) return { dir: keep(stack, dirfd), name: null };
        continue;
      }
      if (last && !followLast) return { dir: keep(stack, dirfd), name: c };
      let st: linux.Stat;
      try {
        st = linux.fstatat(top(), c, linux.AT_SYMLINK_NOFOLLOW);
      } catch (err) {
        // A missing last component is for the caller's open to judge (O_CREAT).
        if (last && err instanceof linux.LinuxError && err.linuxErrno === linux.ENOENT) {
          return { dir: keep(stack, dirfd), name: c };
        }
        throw err;
      }
      const type = st.mode & linux.S_IFMT;
      if (type === linux.S_IFLNK) {
        if (++hops > MAX_SYMLINK_HOPS) throw new WasiError(ERRNO_LOOP);
        const target = new TextDecoder("utf-8", { fatal: true }).decode(
          linux.readlinkat(top(), c),
        );
        if (target.startsWith("/")) throw new WasiError(ERRNO_NOTCAPABLE, "absolute symlink");
        queue.unshift(...target.split("/"));
        continue;
      }
      if (last) return { dir: keep(stack, dirfd), name: c };
      if (type !== linux.S_IFDIR) throw new WasiError(ERRNO_NOTDIR);
      stack.push(
        linux.openat(
          top(),
          c,
          linux.O_PATH | linux.O_DIRECTORY | linux.O_NOFOLLOW | linux.O_CLOEXEC,
          0,
        ),
      );
    }
    return { dir: keep(stack, dirfd), name: null };
  } finally {
    for (const fd of stack) linux.close(fd);
  }
}

/** Takes the innermost directory off `stack` (so the cleanup leaves it open) and returns it. */
function keep(stack: number[], dirfd: number): number {
  return stack.length > 0 ? stack.pop()! : dirfd;
}
