/**
 * Structural checks of a guest's BPF ELF object before libbpf parses it.
 *
 * libbpf 1.1 trusts the object it opens more than a host running untrusted guests can: a
 * corrupted `.BTF` section makes `bpf_object__open_mem` dereference NULL or spin forever, and a
 * struct_ops map crashes `bpf_object__load` (found by scripts/fuzz.ts and scripts/fuzz_objects.ts).
 * So before libbpf sees the bytes, this checks the ELF layout (header, section table, every
 * section's data, symbols, relocations, unique section names, no struct_ops sections), then
 * hands `.BTF`, `.BTF.ext` and the map definitions to btf_check.ts.
 *
 * A failed check returns a one-line reason; the load then fails with LIBBPF_ERRNO__FORMAT. An
 * internal error of the check is a refusal too: it must never take the host down.
 */

import {
  checkBtfExt,
  checkBtfMaps,
  checkBtfTypes,
  ObjectRefusal,
  parseBtf,
  refuse as fail,
} from "./btf_check.ts";
import {
  ByteReader,
  ELF_HEADER_BYTES,
  hasElfMagic,
  readElfHeader,
  readSectionHeader,
  REL_BYTES,
  relocationSymbol,
  SECTION_HEADER_BYTES,
  type SectionHeader,
  SHT_NOBITS,
  SHT_NULL,
  SHT_REL,
  SHT_SYMTAB,
  SYMBOL_BYTES,
} from "../format/elf.ts";

/** One decoder for every name: constructing a TextDecoder costs more than a short decode. */
const decoder = new TextDecoder();

/** The largest section without file data (.bss) accepted: libbpf makes it a map of that size,
 * which the kernel allocates and clears (about 10 ms per MiB here). Objects themselves are at
 * most 256 MiB, so no section with data can be larger either. */
const MAX_NOBITS_BYTES = 256 * 1024 * 1024;

/** One ELF section header, with its name. */
export interface Section extends SectionHeader {
  name: string;
}

/** Null when `bytes` is an object libbpf can parse safely; otherwise why it is not. */
export function checkBpfObject(bytes: Uint8Array): string | null {
  try {
    const sections = checkElf(bytes);
    const btfSection = sections.find((s) => s.name === ".BTF");
    const extSection = sections.find((s) => s.name === ".BTF.ext");
    if (!btfSection) {
      if (extSection) fail(".BTF.ext without .BTF");
      return null;
    }
    const btf = parseBtf(bytes.subarray(btfSection.offset, btfSection.offset + btfSection.size));
    checkBtfTypes(btf);
    checkBtfMaps(btf);
    if (extSection) {
      const sizes = new Map(sections.map((s) => [s.name, s.size]));
      checkBtfExt(
        bytes.subarray(extSection.offset, extSection.offset + extSection.size),
        btf,
        sizes,
      );
    }
    return null;
  } catch (e) {
    if (e instanceof ObjectRefusal) return e.message;
    // A bug in the check must refuse the object, never take the host down.
    return `internal error in the object check (${e instanceof Error ? e.message : e})`;
  }
}

/** The section table of an ELF object, checked (throws {@link ObjectRefusal}). */
export function checkElf(bytes: Uint8Array): Section[] {
  if (bytes.length < ELF_HEADER_BYTES) fail("shorter than an ELF header");
  if (!hasElfMagic(bytes)) fail("not an ELF file");
  const r = new ByteReader(bytes, "the object");
  const h = readElfHeader(r);
  if (h.elfClass !== 2) fail("not a 64-bit ELF object");
  if (h.data !== 1) fail("not a little-endian ELF object");
  const { shoff, shentsize, shnum, shstrndx } = h;
  if (shnum === 0) fail("no section headers");
  if (shentsize !== SECTION_HEADER_BYTES) fail(`section header size ${shentsize}, not 64`);
  if (shoff > bytes.length || shoff + shnum * SECTION_HEADER_BYTES > bytes.length) {
    fail("the section header table lies outside the object");
  }
  if (shstrndx >= shnum) fail("the section name table index is out of range");
  const raw: SectionHeader[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = readSectionHeader(r, h, i);
    // Section 0 is the null section in every object a compiler writes; libbpf and libelf skip
    // it, so the checks below do too, which only holds if it really is null.
    if (i === 0 && (s.type !== SHT_NULL || s.offset !== 0 || s.size !== 0 || s.link !== 0)) {
      fail("section 0 is not the null section");
    }
    if (i > 0 && s.type !== SHT_NOBITS && s.offset + s.size > bytes.length) {
      fail(`section ${i} lies outside the object`);
    }
    if (s.type === SHT_NOBITS && s.size > MAX_NOBITS_BYTES) {
      fail(`section ${i} asks for ${s.size} bytes of zeroes, more than ${MAX_NOBITS_BYTES}`);
    }
    if (s.link >= shnum) fail(`section ${i} links to section ${s.link}, out of range`);
    raw.push(s);
  }
  const shstr = raw[shstrndx];
  const cstr = (table: { offset: number; size: number }, off: number, what: string): string => {
    if (off >= table.size) fail(`${what}: name offset out of range`);
    const start = table.offset + off;
    const end = bytes.subarray(start, table.offset + table.size).indexOf(0);
    if (end < 0) fail(`${what}: name not NUL-terminated`);
    return decoder.decode(bytes.subarray(start, start + end));
  };
  const sections = raw.map((s, i) => ({ ...s, name: cstr(shstr, s.nameOff, `section ${i}`) }));
  const seen = new Set<string>();
  for (const s of sections.slice(1)) {
    if (seen.has(s.name)) fail(`two sections named ${JSON.stringify(s.name)}`);
    seen.add(s.name);
    // .struct_ops, .struct_ops.link data and struct_ops/ programs: libbpf 1.1 crashes on
    // struct_ops maps it cannot match with kernel types
    if (/^\.?struct_ops/.test(s.name) || /^\.rel\.?struct_ops/.test(s.name)) {
      fail(`section ${s.name}: struct_ops is not supported (libbpf 1.1 crashes on it)`);
    }
  }
  for (const s of sections) {
    if (s.type === SHT_SYMTAB) {
      if (s.entsize !== SYMBOL_BYTES || s.size % SYMBOL_BYTES !== 0) {
        fail("malformed symbol table");
      }
      const strtab = sections[s.link];
      for (let o = s.offset + SYMBOL_BYTES; o < s.offset + s.size; o += SYMBOL_BYTES) {
        cstr(strtab, r.u32(o), "symbol");
        const shndx = r.u16(o + 6);
        if (shndx >= shnum && shndx < 0xff00) fail("a symbol names a section out of range");
      }
    }
    if (s.type === SHT_REL) {
      if (s.entsize !== REL_BYTES || s.size % REL_BYTES !== 0) {
        fail(`malformed relocation section ${s.name}`);
      }
      const symtab = sections[s.link];
      const nsyms = symtab.type === SHT_SYMTAB ? symtab.size / SYMBOL_BYTES : 0;
      for (let o = s.offset; o < s.offset + s.size; o += REL_BYTES) {
        const sym = relocationSymbol(r, o);
        if (sym >= nsyms) fail(`a relocation in ${s.name} names symbol ${sym}, out of range`);
      }
    }
  }
  return sections;
}
