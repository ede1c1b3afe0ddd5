/**
 * The descriptor table: what each guest descriptor number names, and who closes its host fd.
 *
 * Descriptors: 0/1/2 are stdio (over the host's `InputSource` / `OutputSink`), then one per
 * preopened directory in the order given (3, 4, …), then whatever `path_open` returns (the
 * lowest free number ≥ 3, as POSIX does). Files and directories are raw host fds, each owned by
 * one entry ({@link HostFd}) and closed exactly once. The guest may hold `maxOpenFiles`
 * descriptors it opened (EMFILE past it).
 *
 * @module
 */

import { ERRNO_BADF, ERRNO_MFILE, ERRNO_NOTCAPABLE, ERRNO_NOTDIR } from "./abi.ts";
import { WasiError } from "./errors.ts";
import type { OutputSink } from "./host_hooks.ts";
import * as linux from "./linux.ts";

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
