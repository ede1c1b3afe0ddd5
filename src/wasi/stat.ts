/**
 * The stat codecs: what a descriptor or a host file looks like to the guest (`filestat`,
 * `fdstat`, filetypes), written into guest memory.
 *
 * Choices where preview1 leaves room: stdio is CHARACTER_DEVICE without SEEK/TELL rights when
 * the real stream is a terminal (wasi-libc's `isatty` then says yes and stdout is
 * line-buffered); otherwise `FILETYPE_UNKNOWN` (what wasmtime reports for a pipe or file), so
 * wasi-libc fully buffers stdout, as a C program with redirected output does.
 *
 * @module
 */

import {
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
  RIGHTS_ALL,
  RIGHTS_FD_DATASYNC,
  RIGHTS_FD_FDSTAT_SET_FLAGS,
  RIGHTS_FD_FILESTAT_GET,
  RIGHTS_FD_READ,
  RIGHTS_FD_SEEK,
  RIGHTS_FD_TELL,
  RIGHTS_FD_WRITE,
  RIGHTS_POLL_FD_READWRITE,
} from "./abi.ts";
import type { WasiMemory } from "./memory.ts";
import type { FdEntry, OutputEntry, StdinEntry } from "./fd_table.ts";
import type { StdinReader } from "./stdin.ts";
import * as linux from "./linux.ts";

// ---------------------------------------------------------------------------------------------
// filestat
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
export function writeFilestat(mem: WasiMemory, ptr: number, st: linux.Stat): void {
  writeFilestatFields(mem, ptr, { ...st, filetype: filetypeOfMode(st.mode) });
}

/** The fields of a `filestat`, with the filetype already in WASI's numbering. */
export interface FilestatFields {
  dev: bigint;
  ino: bigint;
  filetype: number;
  nlink: bigint;
  size: bigint;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

/** Writes a `filestat` (64 bytes, padding zeroed). */
export function writeFilestatFields(mem: WasiMemory, ptr: number, s: FilestatFields): void {
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

/** The `filestat` of a stdio descriptor: no host file behind it: one link, the type, zeros. */
export function stdioFilestat(e: StdinEntry | OutputEntry, stdin: StdinReader): FilestatFields {
  return {
    dev: 0n,
    ino: 0n,
    filetype: stdioFiletype(e, stdin),
    nlink: 1n,
    size: 0n,
    atim: 0n,
    mtim: 0n,
    ctim: 0n,
  };
}

/** CHARACTER_DEVICE for a terminal, UNKNOWN for anything else (see the module comment). */
function stdioFiletype(e: StdinEntry | OutputEntry, stdin: StdinReader): number {
  const terminal = e.kind === "stdin" ? stdin.source.isTerminal : e.sink.isTerminal;
  return terminal ? FILETYPE_CHARACTER_DEVICE : FILETYPE_UNKNOWN;
}

// ---------------------------------------------------------------------------------------------
// fdstat
// ---------------------------------------------------------------------------------------------

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

/** The fields of an `fdstat`. */
export interface Fdstat {
  filetype: number;
  flags: number;
  rightsBase: bigint;
  rightsInheriting: bigint;
}

/** What `fd_fdstat_get` reports for an entry. */
export function fdstatOf(e: FdEntry, stdin: StdinReader): Fdstat {
  switch (e.kind) {
    case "stdin":
    case "output":
      return {
        filetype: stdioFiletype(e, stdin),
        flags: e.fdflags,
        rightsBase: RIGHTS_STDIO,
        rightsInheriting: 0n,
      };
    case "file":
      return {
        filetype: e.filetype,
        flags: e.fdflags,
        rightsBase: RIGHTS_FILE_BASE | (e.readable ? RIGHTS_FILE_READ : 0n) |
          (e.writable ? RIGHTS_FILE_WRITE : 0n),
        rightsInheriting: 0n,
      };
    case "dir":
      // wasi-libc's openat() asks for `rights & fs_rights_inheriting` of the directory, so
      // a directory grants everything; read-only preopens are enforced at path_open (EROFS).
      return {
        filetype: FILETYPE_DIRECTORY,
        flags: 0,
        rightsBase: RIGHTS_ALL,
        rightsInheriting: RIGHTS_ALL,
      };
  }
}

/** Writes an `fdstat` (24 bytes, padding zeroed). */
export function writeFdstat(mem: WasiMemory, ptr: number, s: Fdstat): void {
  mem.check(ptr, FDSTAT_SIZE);
  mem.bytes(ptr, FDSTAT_SIZE).fill(0);
  mem.setU8(ptr + FDSTAT_OFF.fs_filetype, s.filetype);
  mem.setU16(ptr + FDSTAT_OFF.fs_flags, s.flags);
  mem.setU64(ptr + FDSTAT_OFF.fs_rights_base, s.rightsBase);
  mem.setU64(ptr + FDSTAT_OFF.fs_rights_inheriting, s.rightsInheriting);
}
