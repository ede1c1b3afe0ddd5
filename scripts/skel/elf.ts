// The skeleton generator's view of a BPF object: its sections, named, and its symbols, read
// with the shared bounds-checked reader (src/format/elf.ts), with errors that name the file.

import {
  ByteReader,
  ELF_HEADER_BYTES,
  EM_BPF,
  FormatError as SkelError,
  hasElfMagic,
  readElfHeader,
  readSectionHeader,
  readSymbol,
  type SectionHeader,
  SHT_NOBITS,
  SHT_SYMTAB,
  SYMBOL_BYTES,
} from "../../src/format/elf.ts";

export {
  EM_BPF,
  SHF_EXECINSTR,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_SYMTAB,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FUNC,
  STT_OBJECT,
} from "../../src/format/elf.ts";

/** A problem with the input file: reported as one line, without a stack trace. It is the
 * shared reader's FormatError, so that its bounds errors are the skeleton's too. */
export { FormatError as SkelError } from "../../src/format/elf.ts";

export interface Section extends SectionHeader {
  name: string;
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

/** Parses an ELF64 LE object of machine EM_BPF. `file` names it in error messages. */
export function parseElf(bytes: Uint8Array, file: string): ElfFile {
  if (!hasElfMagic(bytes)) throw new SkelError(`${file}: not an ELF file`);
  if (bytes.length < ELF_HEADER_BYTES) throw new SkelError(`${file}: truncated ELF header`);
  if (bytes[4] !== 2 || bytes[5] !== 1) {
    throw new SkelError(`${file}: not a BPF object (not ELF64 little-endian)`);
  }
  const r = new ByteReader(bytes, file);
  const h = readElfHeader(r);
  if (h.machine !== EM_BPF) {
    throw new SkelError(`${file}: not a BPF object (ELF machine ${h.machine}, expected ${EM_BPF})`);
  }
  const { shentsize, shnum, shstrndx } = h;
  const shoff = r.u64(0x28);
  if (shnum === 0 || shentsize < 64) throw new SkelError(`${file}: no section headers`);
  if (shoff + shnum * shentsize > bytes.length) {
    throw new SkelError(`${file}: truncated (section headers end past the end of the file)`);
  }
  if (shstrndx >= shnum) throw new SkelError(`${file}: corrupt (bad section name table index)`);
  const raw = Array.from({ length: shnum }, (_, i) => readSectionHeader(r, h, i, true));
  for (const [i, s] of raw.entries()) {
    if (s.type !== SHT_NOBITS && s.type !== 0 && s.offset + s.size > bytes.length) {
      throw new SkelError(`${file}: truncated (section ${i} ends past the end of the file)`);
    }
  }
  const strtab = raw[shstrndx];
  const sections: Section[] = raw.map((s, index) => ({
    ...s,
    name: index === 0 ? "" : r.cstr(strtab.offset + s.nameOff, strtab.offset + strtab.size),
  }));

  const symbols: ElfSymbol[] = [];
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  if (symtab) {
    if (symtab.entsize !== SYMBOL_BYTES || symtab.link >= sections.length) {
      throw new SkelError(`${file}: corrupt symbol table`);
    }
    const names = sections[symtab.link];
    const n = Math.floor(symtab.size / SYMBOL_BYTES);
    for (let i = 1; i < n; i++) {
      const o = symtab.offset + i * SYMBOL_BYTES;
      const name = r.cstr(names.offset + r.u32(o), names.offset + names.size);
      const { nameOff: _, ...sym } = readSymbol(r, o);
      symbols.push({ name, ...sym });
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
