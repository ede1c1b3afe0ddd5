// The wasm-bpf guest skeleton of a BPF object (docs/abi.md §5), in the shape of
// `bpftool gen skeleton`: `struct NAME { skeleton; obj; maps; progs; links; rodata/bss/data }`,
// NAME__open/_open_opts/_load/_open_and_load/_attach/_detach/_destroy/_elf_bytes, with the whole
// object embedded as a writable byte array and the file offsets of .rodata and .bss.

import { type Btf, type BtfType, Kind, parseBtf } from "./btf.ts";
import { CEmitter } from "./ctypes.ts";
import {
  type ElfFile,
  parseElf,
  SHF_EXECINSTR,
  SHT_NOBITS,
  SHT_PROGBITS,
  SkelError,
  STB_GLOBAL,
  STB_WEAK,
  STT_FUNC,
} from "./elf.ts";

export { SkelError };

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

/** Everything the skeleton needs from the object. */
export function analyze(bytes: Uint8Array, file: string): ObjectInfo {
  const elf = parseElf(bytes, file);
  const btfSec = elf.section(".BTF");
  if (!btfSec || btfSec.type === SHT_NOBITS) {
    throw new SkelError(`${file}: no BTF in the object (.BTF section missing: compile with -g)`);
  }
  const btf = parseBtf(elf.contents(btfSec), `${file}: .BTF`);

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

/** Emits the layout-exact definitions of `roots` and of the named types they contain. */
export function emitTypes(btf: Btf, roots: BtfType[]): { lines: string[]; named: Set<number> } {
  const named = new Set<number>();
  const em = new CEmitter(btf, { named });
  const order = em.closure(roots.map((t) => t.id));
  for (const t of order) named.add(t.id);
  const lines: string[] = [];
  for (const t of order) lines.push(...em.define(t), "");
  for (const r of roots) {
    if (r.kind !== Kind.TYPEDEF) continue;
    const target = btf.resolve(r.id);
    const decl = em.decl(r.id, r.name, "");
    decl[0] = `typedef ${decl[0]}`;
    lines.push(...decl);
    lines.push(
      `_Static_assert(sizeof(${r.name}) == ${btf.sizeOf(target.id)}, "size of ${r.name}");`,
      "",
    );
  }
  return { lines, named };
}

/**
 * Only the layout-exact definitions of `opts.types` (and the named types they contain), as a
 * self-contained header for wasm32 or any other target: `deno task skel --types-only`.
 */
export function generateTypesHeader(bytes: Uint8Array, opts: SkelOptions): string {
  const elf = parseElf(bytes, opts.file);
  const btfSec = elf.section(".BTF");
  if (!btfSec || btfSec.type === SHT_NOBITS) {
    throw new SkelError(
      `${opts.file}: no BTF in the object (.BTF section missing: compile with -g)`,
    );
  }
  if (!opts.types?.length) throw new SkelError("--types-only needs --types NAME...");
  const btf = parseBtf(elf.contents(btfSec), `${opts.file}: .BTF`);
  const types = emitTypes(btf, findTypes(btf, opts.types, opts.file));
  const base = opts.file.split("/").pop()!;
  const guard = `__${ident(base).toUpperCase()}_TYPES_H__`;
  return [
    `/* Shared types of ${base}, laid out exactly as the BPF side sees them (packed,`,
    ` * explicit padding, pointers as uint64_t).`,
    ` * Generated by scripts/skel.ts --types-only --types ${opts.types.join(" ")}: do not edit. */`,
    `#ifndef ${guard}`,
    `#define ${guard}`,
    "",
    `#include <stdint.h>`,
    "",
    ...types.lines,
    `#endif /* ${guard} */`,
    "",
  ].join("\n");
}

function hexBytes(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = Array.from(
      bytes.subarray(i, i + 16),
      (b) => `0x${b.toString(16).padStart(2, "0")}`,
    );
    lines.push(`    ${row.join(", ")},`);
  }
  return lines;
}

/** The skeleton header for a BPF object. */
export function generateSkeleton(bytes: Uint8Array, opts: SkelOptions): string {
  const info = analyze(bytes, opts.file);
  const { btf } = info;
  const obj = opts.name ? ident(opts.name) : objectName(opts.file);
  const guard = `__${obj.toUpperCase()}_SKEL_H__`;
  const roots = findTypes(btf, opts.types ?? [], opts.file);
  const types = emitTypes(btf, roots);
  const em = new CEmitter(btf, { named: types.named });
  const base = opts.file.split("/").pop()!;

  const L: string[] = [];
  L.push(`/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */`);
  L.push(`/* Skeleton of ${base} for wasm-bpf guests (docs/abi.md §5).`);
  L.push(
    ` * Generated by scripts/skel.ts${
      opts.types?.length ? ` --types ${opts.types.join(" ")}` : ""
    }: do not edit. */`,
  );
  L.push(`#ifndef ${guard}`);
  L.push(`#define ${guard}`);
  L.push("");
  L.push(`#include <errno.h>`);
  L.push(`#include <stdbool.h>`);
  L.push(`#include <stddef.h>`);
  L.push(`#include <stdint.h>`);
  L.push(`#include <stdlib.h>`);
  L.push(`#include "libbpf-wasm.h"`);
  L.push("");
  if (types.lines.length) {
    L.push(`/* Shared types, laid out exactly as the BPF side sees them (packed, explicit`);
    L.push(` * padding, pointers as uint64_t). */`);
    L.push(...types.lines);
  }
  L.push(`struct bpf_object;`);
  L.push(`struct bpf_link;`);
  L.push("");
  L.push(`struct ${obj} {`);
  L.push(`    struct bpf_object_skeleton *skeleton;`);
  L.push(`    struct bpf_object *obj; /* unused: the object lives in the host */`);
  if (info.maps.length) {
    L.push(`    struct {`);
    for (const m of info.maps) L.push(`        struct bpf_map *${m.ident};`);
    L.push(`    } maps;`);
  }
  if (info.progs.length) {
    L.push(`    struct {`);
    for (const p of info.progs) L.push(`        struct bpf_program *${p.name};`);
    L.push(`    } progs;`);
    L.push(`    struct {`);
    for (const p of info.progs) L.push(`        struct bpf_link *${p.name}; /* unused */`);
    L.push(`    } links;`);
  }
  for (const d of info.datasecs) {
    L.push(`    struct ${obj}__${d.ident} {`);
    let cursor = 0;
    let pad = 0;
    for (const v of d.vars) {
      if (v.offset < cursor) {
        throw new SkelError(`${opts.file}: variables overlap in ${d.section} at ${v.name}`);
      }
      if (v.offset > cursor) L.push(`        char __pad${pad++}[${v.offset - cursor}];`);
      L.push(...em.decl(v.type, v.name, "        "));
      cursor = v.offset + v.size;
    }
    if (d.size > cursor) L.push(`        char __pad${pad++}[${d.size - cursor}];`);
    L.push(`    } __attribute__((packed)) *${d.ident};`);
  }
  L.push(`};`);
  L.push("");

  for (const d of info.datasecs) {
    const st = `struct ${obj}__${d.ident}`;
    L.push(`/* ${d.section}: the layout of the BPF object's section (${d.size} bytes). */`);
    L.push(`_Static_assert(sizeof(${st}) == ${d.size}, "${d.section} size");`);
    for (const v of d.vars) {
      L.push(
        `_Static_assert(sizeof(((${st} *)0)->${v.name}) == ${v.size}, "size of ${v.name}");`,
      );
      L.push(
        `_Static_assert(__builtin_offsetof(${st}, ${v.name}) == ${v.offset}, "offset of ${v.name}");`,
      );
    }
    L.push("");
  }

  const data = `${obj}__data`;
  L.push(`/* The BPF object (${bytes.length} bytes).  Writable: the skeleton points rodata`);
  L.push(` * into it, and the host loads these bytes as they are at load time. */`);
  L.push(`static unsigned char ${data}[${bytes.length}] __attribute__((aligned(8))) = {`);
  L.push(...hexBytes(bytes));
  L.push(`};`);
  L.push("");
  L.push(`#define ${obj.toUpperCase()}__RODATA_OFFSET ${info.rodataOffset}`);
  L.push(`#define ${obj.toUpperCase()}__BSS_OFFSET ${info.bssOffset}`);
  L.push("");
  L.push(`static inline const void *${obj}__elf_bytes(size_t *sz)`);
  L.push(`{`);
  L.push(`    *sz = sizeof(${data});`);
  L.push(`    return ${data};`);
  L.push(`}`);
  L.push("");
  L.push(`static inline void ${obj}__destroy(struct ${obj} *obj)`);
  L.push(`{`);
  L.push(`    if (!obj)`);
  L.push(`        return;`);
  L.push(`    if (obj->skeleton)`);
  L.push(`        bpf_object__destroy_skeleton(obj->skeleton);`);
  L.push(`    free(obj);`);
  L.push(`}`);
  L.push("");
  L.push(`static inline int ${obj}__create_skeleton(struct ${obj} *obj)`);
  L.push(`{`);
  L.push(`    struct bpf_object_skeleton *s;`);
  L.push("");
  L.push(`    s = (struct bpf_object_skeleton *)calloc(1, sizeof(*s));`);
  L.push(`    if (!s)`);
  L.push(`        return -ENOMEM;`);
  L.push(`    obj->skeleton = s;`);
  L.push("");
  L.push(`    s->sz = sizeof(*s);`);
  L.push(`    s->name = "${obj}";`);
  L.push("");
  L.push(`    /* maps */`);
  L.push(`    s->map_cnt = ${info.maps.length};`);
  L.push(`    s->map_skel_sz = sizeof(*s->maps);`);
  if (info.maps.length) {
    L.push(`    s->maps = (struct bpf_map_skeleton *)calloc(s->map_cnt, s->map_skel_sz);`);
    L.push(`    if (!s->maps)`);
    L.push(`        return -ENOMEM;`);
    info.maps.forEach((m, i) => {
      L.push(`    s->maps[${i}].name = "${m.name}";`);
      L.push(`    s->maps[${i}].map = &obj->maps.${m.ident};`);
      if (m.section && info.datasecs.some((d) => d.section === m.section)) {
        L.push(`    s->maps[${i}].mmaped = (void **)&obj->${m.ident};`);
      }
    });
  }
  L.push("");
  L.push(`    /* programs */`);
  L.push(`    s->prog_cnt = ${info.progs.length};`);
  L.push(`    s->prog_skel_sz = sizeof(*s->progs);`);
  if (info.progs.length) {
    L.push(`    s->progs = (struct bpf_prog_skeleton *)calloc(s->prog_cnt, s->prog_skel_sz);`);
    L.push(`    if (!s->progs)`);
    L.push(`        return -ENOMEM;`);
    info.progs.forEach((p, i) => {
      L.push(`    s->progs[${i}].name = "${p.name}"; /* SEC("${p.section}") */`);
      L.push(`    s->progs[${i}].prog = &obj->progs.${p.name};`);
    });
  }
  L.push("");
  L.push(`    s->data = ${data};`);
  L.push(`    s->data_sz = sizeof(${data});`);
  L.push(`    s->rodata_offset = ${obj.toUpperCase()}__RODATA_OFFSET;`);
  L.push(`    s->bss_offset = ${obj.toUpperCase()}__BSS_OFFSET;`);
  L.push(`    return 0;`);
  L.push(`}`);
  L.push("");
  L.push(
    `static inline struct ${obj} *${obj}__open_opts(const struct bpf_object_open_opts *opts)`,
  );
  L.push(`{`);
  L.push(`    struct ${obj} *obj;`);
  L.push(`    int err;`);
  L.push("");
  L.push(`    obj = (struct ${obj} *)calloc(1, sizeof(*obj));`);
  L.push(`    if (!obj) {`);
  L.push(`        errno = ENOMEM;`);
  L.push(`        return NULL;`);
  L.push(`    }`);
  L.push(`    err = ${obj}__create_skeleton(obj);`);
  L.push(`    if (!err)`);
  L.push(`        err = bpf_object__open_skeleton(obj->skeleton, opts);`);
  L.push(`    if (err) {`);
  L.push(`        ${obj}__destroy(obj);`);
  L.push(`        errno = -err;`);
  L.push(`        return NULL;`);
  L.push(`    }`);
  L.push(`    return obj;`);
  L.push(`}`);
  L.push("");
  L.push(`static inline struct ${obj} *${obj}__open(void)`);
  L.push(`{`);
  L.push(`    return ${obj}__open_opts(NULL);`);
  L.push(`}`);
  L.push("");
  L.push(`static inline int ${obj}__load(struct ${obj} *obj)`);
  L.push(`{`);
  L.push(`    return bpf_object__load_skeleton(obj->skeleton);`);
  L.push(`}`);
  L.push("");
  L.push(`static inline struct ${obj} *${obj}__open_and_load(void)`);
  L.push(`{`);
  L.push(`    struct ${obj} *obj = ${obj}__open();`);
  L.push(`    int err;`);
  L.push("");
  L.push(`    if (!obj)`);
  L.push(`        return NULL;`);
  L.push(`    if (${obj}__load(obj)) {`);
  L.push(`        err = errno;`);
  L.push(`        ${obj}__destroy(obj);`);
  L.push(`        errno = err;`);
  L.push(`        return NULL;`);
  L.push(`    }`);
  L.push(`    return obj;`);
  L.push(`}`);
  L.push("");
  L.push(`static inline int ${obj}__attach(struct ${obj} *obj)`);
  L.push(`{`);
  L.push(`    return bpf_object__attach_skeleton(obj->skeleton);`);
  L.push(`}`);
  L.push("");
  L.push(`static inline void ${obj}__detach(struct ${obj} *obj)`);
  L.push(`{`);
  L.push(`    bpf_object__detach_skeleton(obj->skeleton);`);
  L.push(`}`);
  L.push("");
  L.push(`#endif /* ${guard} */`);
  return L.join("\n") + "\n";
}
