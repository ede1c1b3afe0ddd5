// A minimal, bounds-checked reader of ELF64 little-endian relocatable BPF objects: section
// headers and the symbol table, which is all the skeleton generator needs.

/** A problem with the input file: reported as one line, without a stack trace. */
export class SkelError extends Error {}

export const EM_BPF = 247;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_NOBITS = 8;
export const SHF_EXECINSTR = 0x4;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

export interface Section {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number; // file offset
  size: number;
  link: number;
  entsize: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  type: number; // STT_*
  bind: number; // STB_*
  shndx: number;
}

export interface ElfFile {
  bytes: Uint8Array;
  sections: Section[];
  symbols: ElfSymbol[];
  section(name: string): Section | undefined;
  /** The bytes of a section (empty for NOBITS). */
  contents(s: Section): Uint8Array;
}

/** Reads little-endian values; every read outside the buffer throws a SkelError. */
export class Reader {
  readonly dv: DataView;
  constructor(readonly buf: Uint8Array, readonly what: string) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  check(off: number, len: number): void {
    if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > this.buf.length) {
      throw new SkelError(`${this.what} is truncated or corrupt (read of ${len} bytes at ${off})`);
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
  u64(off: number): number {
    this.check(off, 8);
    const v = this.dv.getBigUint64(off, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new SkelError(`${this.what} is corrupt (64-bit value out of range at ${off})`);
    }
    return Number(v);
  }
  /** A NUL-terminated string starting at off, which must end inside [off, end). */
  cstr(off: number, end = this.buf.length): string {
    this.check(off, 0);
    let e = off;
    while (e < end && e < this.buf.length && this.buf[e] !== 0) e++;
    if (e >= end || e >= this.buf.length) {
      throw new SkelError(`${this.what} is truncated or corrupt (unterminated string at ${off})`);
    }
    return new TextDecoder().decode(this.buf.subarray(off, e));
  }
}

/** Parses an ELF64 LE object of machine EM_BPF. `file` names it in error messages. */
export function parseElf(bytes: Uint8Array, file: string): ElfFile {
  if (
    bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c ||
    bytes[3] !== 0x46
  ) {
    throw new SkelError(`${file}: not an ELF file`);
  }
  if (bytes.length < 64) throw new SkelError(`${file}: truncated ELF header`);
  if (bytes[4] !== 2 || bytes[5] !== 1) {
    throw new SkelError(`${file}: not a BPF object (not ELF64 little-endian)`);
  }
  const r = new Reader(bytes, file);
  const machine = r.u16(0x12);
  if (machine !== EM_BPF) {
    throw new SkelError(`${file}: not a BPF object (ELF machine ${machine}, expected ${EM_BPF})`);
  }
  const shoff = r.u64(0x28);
  const shentsize = r.u16(0x3a);
  const shnum = r.u16(0x3c);
  const shstrndx = r.u16(0x3e);
  if (shnum === 0 || shentsize < 64) throw new SkelError(`${file}: no section headers`);
  if (shoff + shnum * shentsize > bytes.length) {
    throw new SkelError(`${file}: truncated (section headers end past the end of the file)`);
  }
  if (shstrndx >= shnum) throw new SkelError(`${file}: corrupt (bad section name table index)`);
  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    raw.push({
      nameOff: r.u32(o),
      type: r.u32(o + 4),
      flags: r.u64(o + 8),
      offset: r.u64(o + 24),
      size: r.u64(o + 32),
      link: r.u32(o + 40),
      entsize: r.u64(o + 56),
    });
  }
  for (const [i, s] of raw.entries()) {
    if (s.type !== SHT_NOBITS && s.type !== 0 && s.offset + s.size > bytes.length) {
      throw new SkelError(`${file}: truncated (section ${i} ends past the end of the file)`);
    }
  }
  const strtab = raw[shstrndx];
  const sections: Section[] = raw.map((s, index) => ({
    index,
    name: index === 0 ? "" : r.cstr(strtab.offset + s.nameOff, strtab.offset + strtab.size),
    type: s.type,
    flags: s.flags,
    offset: s.offset,
    size: s.size,
    link: s.link,
    entsize: s.entsize,
  }));

  const symbols: ElfSymbol[] = [];
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  if (symtab) {
    if (symtab.entsize !== 24 || symtab.link >= sections.length) {
      throw new SkelError(`${file}: corrupt symbol table`);
    }
    const names = sections[symtab.link];
    const n = Math.floor(symtab.size / 24);
    for (let i = 1; i < n; i++) {
      const o = symtab.offset + i * 24;
      const info = r.u8(o + 4);
      symbols.push({
        name: r.cstr(names.offset + r.u32(o), names.offset + names.size),
        type: info & 0xf,
        bind: info >> 4,
        shndx: r.u16(o + 6),
        value: r.u64(o + 8),
        size: r.u64(o + 16),
      });
    }
  }
  return {
    bytes,
    sections,
    symbols,
    section: (name) => sections.find((s) => s.name === name),
    contents: (s) =>
      s.type === SHT_NOBITS ? new Uint8Array(0) : bytes.subarray(s.offset, s.offset + s.size),
  };
}
