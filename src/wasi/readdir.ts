/**
 * `fd_readdir`'s two halves: reading a host directory (getdents64) into a listing, and writing
 * part of that listing as preview1 `dirent` records.
 *
 * Choices where preview1 leaves room: `.` and `..` come first, then the host's order; the
 * listing is snapshotted at cookie 0 (the caller keeps it), and the cookie is the index of the
 * next entry.
 *
 * @module
 */

import { DIRENT_OFF, DIRENT_SIZE, FILETYPE_UNKNOWN, WHENCE_SET } from "./abi.ts";
import type { DirListingEntry } from "./fd_table.ts";
import { filetypeOfMode } from "./stat.ts";
import * as linux from "./linux.ts";

/** getdents64's `d_type` → WASI filetype: a `d_type` is its file's `st_mode & S_IFMT` shifted
 * right by 12 (DTTOIF in dirent.h), and FIFOs have no WASI type (unknown). */
function filetypeOfDtype(dtype: number): number {
  return dtype < 16 ? filetypeOfMode(dtype << 12) : FILETYPE_UNKNOWN;
}
/** A file system that does not fill `d_type` in: ask fstatat. */
const DT_UNKNOWN = 0;

/** The whole listing of directory `fd` (getdents64 from offset 0), `.` and `..` first. */
export function listDir(fd: number): DirListingEntry[] {
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
      let type = filetypeOfDtype(dtype);
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

/**
 * The `dirent` records of `listing` from index `cookie` on, as many as fit in `bufLen` bytes.
 * A record that does not fit is truncated: bufused == buf_len tells the guest to retry with a
 * bigger buffer (wasi-libc does).
 */
export function encodeDirents(
  listing: readonly DirListingEntry[],
  cookie: bigint,
  bufLen: number,
): Uint8Array {
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
    const n = Math.min(rec.byteLength, out.byteLength - used);
    out.set(rec.subarray(0, n), used);
    used += n;
  }
  return out.subarray(0, used);
}
