/**
 * The one owner of a host file descriptor that libc opened for us: it closes the fd once, and
 * a second close (or a dispose after close) does nothing, so an fd number the kernel has since
 * given to someone else is never closed by mistake. (src/wasi keeps its own descriptors: it
 * imports nothing outside itself.)
 */

import { cString, getLibc, lastErrno } from "./libc_ffi.ts";

/** Owns one open fd until `close()`. */
export class OwnedFd {
  #fd: number;

  /** Takes ownership of `fd`, which must be open (non-negative). */
  constructor(fd: number) {
    if (!Number.isInteger(fd) || fd < 0) throw new RangeError(`OwnedFd: not an fd: ${fd}`);
    this.#fd = fd;
  }

  /** open(2) of `path` with `flags`: the owner of the new fd, or the errno it failed with as a
   * negative number (`-fallbackErrno` when libc left errno 0). */
  static open(path: string, flags: number, fallbackErrno: number): OwnedFd | number {
    const fd = getLibc().open(cString(path), flags, 0);
    return fd < 0 ? -(lastErrno() || fallbackErrno) : new OwnedFd(fd);
  }

  /** The fd; throws once closed, so a closed owner is never used by number. */
  get fd(): number {
    if (this.#fd < 0) throw new Error("OwnedFd: used after close");
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Closes the fd; idempotent. */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    getLibc().close(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
