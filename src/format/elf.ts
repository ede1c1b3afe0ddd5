/**
 * The one reader of ELF64 little-endian relocatable objects (BPF objects): the file header,
 * the section headers and the symbol table, bounds-checked. It is a leaf: it imports nothing,
 * so the load-time object check (src/guest/object_check.ts), the skeleton generator
 * (scripts/skel/) and the tests share it.
 *
 * It only decodes. What a caller accepts, and how it words a refusal, stays with the caller:
 * the object check refuses hostile objects with its own reasons, the skeleton generator names
 * the file. Every read outside the bytes throws a {@link FormatError}.
 */

/** One decoder for every name: constructing a TextDecoder costs more than a short decode. */
const decoder = new TextDecoder();

/** A read outside the bytes, or a value the reader cannot represent, as one line. */
export class FormatError extends Error {}

export const EM_BPF = 247;
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHF_EXECINSTR = 0x4;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

/** Bytes of the ELF64 file header, of one section header, of a symbol and of a relocation. */
export const ELF_HEADER_BYTES = 64;
export const SECTION_HEADER_BYTES = 64;
export const SYMBOL_BYTES = 24;
export const REL_BYTES = 16;

/** Reads little-endian values; every read outside the buffer throws a {@link FormatError}
 * that names `what`. */
export class ByteReader {
  readonly dv: DataView;
  constructor(readonly buf: Uint8Array, readonly what: string) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  check(off: number, len: number): void {
    if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > this.buf.length) {
      throw new FormatError(
        `${this.what} is truncated or corrupt (read of ${len} bytes at ${off})`,
      );
    }
  }
  u8(off: number): number {
    this.check(off, 1);
    return this.buf[off];
  }
  u16(off: number): number {
    this.check(off, 2);
    return this.dv.getUint16(off, true);
  }
  u32(off: number): number {
    this.check(off, 4);
    return this.dv.getUint32(off, true);
  }
  i32(off: number): number {
    this.check(off, 4);
    return this.dv.getInt32(off, true);
  }
  /** A u64 as a number, rounded above 2^53 (for comparisons against sizes, which then fail). */
  u64Number(off: number): number {
    this.check(off, 8);
    return Number(this.dv.getBigUint64(off, true));
  }
  /** A u64 that must be exact: a value above 2^53 throws. */
  u64(off: number): number {
    const v = this.u64Number(off);
    if (v > Number.MAX_SAFE_INTEGER) {
      throw new FormatError(`${this.what} is corrupt (64-bit value out of range at ${off})`);
    }
    return v;
  }
  /** A NUL-terminated string starting at off, which must end inside [off, end). */
  cstr(off: number, end = this.buf.length): string {
    this.check(off, 0);
    let e = off;
    while (e < end && e < this.buf.length && this.buf[e] !== 0) e++;
    if (e >= end || e >= this.buf.length) {
      throw new FormatError(`${this.what} is truncated or corrupt (unterminated string at ${off})`);
    }
    return decoder.decode(this.buf.subarray(off, e));
  }
}

/** Whether the bytes start with the ELF magic. */
export function hasElfMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c &&
    bytes[3] === 0x46;
}

/** The fields of the ELF64 file header that locate the sections. */
export interface ElfHeader {
  /** EI_CLASS: 2 for 64-bit. */
  elfClass: number;
  /** EI_DATA: 1 for little-endian. */
  data: number;
  machine: number;
  /** The section header table's file offset (rounded above 2^53). */
  shoff: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

/** Reads the file header (the caller checks the magic and the class it accepts). */
export function readElfHeader(r: ByteReader): ElfHeader {
  return {
    elfClass: r.u8(4),
    data: r.u8(5),
    machine: r.u16(0x12),
    shoff: r.u64Number(0x28),
    shentsize: r.u16(0x3a),
    shnum: r.u16(0x3c),
    shstrndx: r.u16(0x3e),
  };
}

/** One section header as stored (64-bit fields rounded above 2^53). */
export interface SectionHeader {
  index: number;
  /** Offset of the name in the section name table. */
  nameOff: number;
  type: number;
  flags: number;
  /** File offset. */
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

/** The file offset of section header `index` (entries of `shentsize` bytes from `shoff`). */
export function sectionHeaderOffset(h: ElfHeader, index: number): number {
  return h.shoff + index * h.shentsize;
}

/** Reads section header `index`; with `exact`, a 64-bit field above 2^53 throws. */
export function readSectionHeader(
  r: ByteReader,
  h: ElfHeader,
  index: number,
  exact = false,
): SectionHeader {
  const o = sectionHeaderOffset(h, index);
  const u64 = (off: number) => exact ? r.u64(off) : r.u64Number(off);
  return {
    index,
    nameOff: r.u32(o),
    type: r.u32(o + 4),
    flags: u64(o + 8),
    offset: u64(o + 24),
    size: u64(o + 32),
    link: r.u32(o + 40),
    info: r.u32(o + 44),
    entsize: u64(o + 56),
  };
}

/** One symbol table entry as stored. */
export interface RawSymbol {
  /** Offset of the name in the symbol table's string table. */
  nameOff: number;
  type: number; // STT_*
  bind: number; // STB_*
  shndx: number;
  value: number;
  size: number;
}

/** Reads the symbol at file offset `off` (value and size must be exact). */
export function readSymbol(r: ByteReader, off: number): RawSymbol {
  const info = r.u8(off + 4);
  return {
    nameOff: r.u32(off),
    type: info & 0xf,
    bind: info >> 4,
    shndx: r.u16(off + 6),
    value: r.u64(off + 8),
    size: r.u64(off + 16),
  };
}

/** The symbol index of the ELF64 relocation at file offset `off` (the high half of r_info). */
export function relocationSymbol(r: ByteReader, off: number): number {
  r.check(off + 8, 8);
  return Number(r.dv.getBigUint64(off + 8, true) >> 32n);
}
