// What the skeleton generators (C: skeleton.ts, Rust: rust.ts) need from a BPF object, read
// from the object itself (ELF sections and symbols, BTF types and datasecs), in the orders
// libbpf uses, so that the skeleton's maps and programs line up with the host's.

import { type Btf, type BtfType, Kind, parseBtf } from "./btf.ts";
import {
  type ElfFile,
  parseElf,
  type Section,
  SHF_EXECINSTR,
  SHT_NOBITS,
  SHT_PROGBITS,
  SkelError,
  STB_GLOBAL,
  STB_WEAK,
  STT_FUNC,
} from "./elf.ts";

export interface SkelOptions {
  /** Object name; default from the file name (`foo.bpf.o` → `foo_bpf`). */
  name?: string;
  /** Named shared types to define layout-exactly (struct, union, enum or typedef names). */
  types?: string[];
  /** The file name shown in messages and in the header comment. */
  file: string;
}

export interface SkelMap {
  name: string; // libbpf name: the variable name, or the section name for global data
  ident: string; // field in `maps`
  section?: string; // global-data section
}

export interface DatasecVar {
  name: string;
  type: number;
  offset: number;
  size: number;
}

export interface Datasec {
  section: string;
  ident: string; // rodata, bss, data, rodata_foo ...
  size: number;
  vars: DatasecVar[]; // global variables only, by offset
}

export interface ObjectInfo {
  elf: ElfFile;
  btf: Btf;
  maps: SkelMap[];
  progs: { name: string; section: string }[];
  datasecs: Datasec[];
  rodataOffset: number;
  bssOffset: number;
}

/** An identifier from a name: non-identifier characters become `_`. */
export function ident(s: string): string {
  const id = s.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(id) ? `_${id}` : id;
}

/** The default object name of a file, as bpftool derives it. */
export function objectName(file: string): string {
  const base = file.split("/").pop()!.replace(/\.o$/, "");
  return ident(base);
}

function isDataSection(name: string): boolean {
  return /^\.(data|rodata|bss)(\..*)?$/.test(name);
}

/** The object's `.BTF` section; a SkelError when there is none (BTF comes with `-g`). */
export function btfSection(elf: ElfFile, file: string): Section {
  const btfSec = elf.section(".BTF");
  if (!btfSec || btfSec.type === SHT_NOBITS) {
    throw new SkelError(`${file}: no BTF in the object (.BTF section missing: compile with -g)`);
  }
  return btfSec;
}

/** Everything the skeleton needs from the object. */
export function analyze(bytes: Uint8Array, file: string): ObjectInfo {
  const elf = parseElf(bytes, file);
  const btf = parseBtf(elf.contents(btfSection(elf, file)), `${file}: .BTF`);

  const datasecByName = new Map<string, BtfType>();
  for (const t of btf.types) if (t.kind === Kind.DATASEC) datasecByName.set(t.name, t);

  // user maps: the variables of the .maps datasec, in BTF order (libbpf's order)
  const maps: SkelMap[] = [];
  const mapsSec = datasecByName.get(".maps");
  if (mapsSec) {
    for (const v of mapsSec.vars!) {
      const name = btf.byId(v.type).name;
      maps.push({ name, ident: ident(name) });
    }
  } else if (elf.section("maps")) {
    throw new SkelError(`${file}: legacy "maps" section: declare maps in SEC(".maps") with BTF`);
  }

  // global data: one map per .data*/.rodata*/.bss* section, in section order
  const datasecs: Datasec[] = [];
  for (const s of elf.sections) {
    if (!isDataSection(s.name)) continue;
    if (s.type !== SHT_NOBITS && (s.type !== SHT_PROGBITS || s.size === 0)) continue;
    if (s.flags & SHF_EXECINSTR) continue;
    const id = ident(s.name.slice(1));
    maps.push({ name: s.name, ident: id, section: s.name });
    const dsec = datasecByName.get(s.name);
    if (!dsec) continue;
    const vars: DatasecVar[] = [];
    for (const vi of dsec.vars!) {
      const v = btf.byId(vi.type);
      if (v.kind !== Kind.VAR || v.linkage === 0 /* static */) continue;
      const sym = elf.symbols.find((y) => y.name === v.name && y.shndx === s.index);
      const offset = sym ? sym.value : vi.offset;
      const size = btf.sizeOf(v.sizeOrType);
      if (offset + size > s.size) {
        throw new SkelError(`${file}: variable ${v.name} lies outside section ${s.name}`);
      }
      vars.push({ name: v.name, type: v.sizeOrType, offset, size });
    }
    vars.sort((a, b) => a.offset - b.offset || a.name.localeCompare(b.name));
    if (vars.length) datasecs.push({ section: s.name, ident: id, size: s.size, vars });
  }
  if (datasecByName.has(".kconfig")) maps.push({ name: ".kconfig", ident: "kconfig" });

  // programs: global functions of executable sections other than .text (libbpf's rule)
  const progs = elf.symbols
    .filter((y) =>
      y.type === STT_FUNC && (y.bind === STB_GLOBAL || y.bind === STB_WEAK) &&
      y.shndx > 0 && y.shndx < elf.sections.length &&
      (elf.sections[y.shndx].flags & SHF_EXECINSTR) !== 0 &&
      elf.sections[y.shndx].name !== ".text"
    )
    .sort((a, b) => a.shndx - b.shndx || a.value - b.value)
    .map((y) => ({ name: y.name, section: elf.sections[y.shndx].name }));
  if (!progs.length && !maps.length) {
    throw new SkelError(`${file}: not a BPF object (no programs and no maps)`);
  }

  const rodata = elf.section(".rodata");
  const bss = elf.section(".bss");
  return {
    elf,
    btf,
    maps,
    progs,
    datasecs,
    rodataOffset: rodata && rodata.type === SHT_PROGBITS ? rodata.offset : 0,
    bssOffset: bss ? bss.offset : 0,
  };
}

/** Look up the named types for --types: struct/union/enum tags first, then typedefs. */
export function findTypes(btf: Btf, names: string[], file: string): BtfType[] {
  const out: BtfType[] = [];
  for (const n of names) {
    const tagged = btf.findByName(n, [Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64]);
    const t = tagged[0] ?? btf.findByName(n, [Kind.TYPEDEF])[0];
    if (!t) {
      throw new SkelError(
        `${file}: no type "${n}" in the BTF (a type is in BTF only when a map, a global ` +
          `variable or a function signature uses it)`,
      );
    }
    out.push(t);
  }
  return out;
}
