// The skeleton's `struct NAME`: pointers to the object's maps, programs and links, and one
// packed struct per global-data section (.rodata, .bss, .data...), laid out byte for byte as
// the BPF object's section is, with _Static_asserts that pin every size and offset to the BTF's
// (a layout mistake then fails the guest's build, not its run).

import type { CEmitter } from "./ctypes.ts";
import { SkelError } from "./elf.ts";
import type { Datasec, ObjectInfo } from "./analyze.ts";

/** `struct NAME { skeleton; obj; maps; progs; links; rodata/bss/data }`. */
export function emitSkeletonStruct(
  obj: string,
  info: ObjectInfo,
  em: CEmitter,
  file: string,
): string[] {
  const L = [
    `struct bpf_object;`,
    `struct bpf_link;`,
    "",
    `struct ${obj} {`,
    `    struct bpf_object_skeleton *skeleton;`,
    `    struct bpf_object *obj; /* unused: the object lives in the host */`,
  ];
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
  for (const d of info.datasecs) L.push(...emitDatasecStruct(obj, d, em, file));
  L.push(`};`, "");
  return L;
}

/** One global-data section as a packed struct: its variables at their offsets, padding
 * (`__padN`) in the gaps, so that the skeleton can point it straight at the section's bytes. */
function emitDatasecStruct(obj: string, d: Datasec, em: CEmitter, file: string): string[] {
  const L = [`    struct ${obj}__${d.ident} {`];
  let cursor = 0;
  let pad = 0;
  for (const v of d.vars) {
    if (v.offset < cursor) {
      throw new SkelError(`${file}: variables overlap in ${d.section} at ${v.name}`);
    }
    if (v.offset > cursor) L.push(`        char __pad${pad++}[${v.offset - cursor}];`);
    L.push(...em.decl(v.type, v.name, "        "));
    cursor = v.offset + v.size;
  }
  if (d.size > cursor) L.push(`        char __pad${pad++}[${d.size - cursor}];`);
  L.push(`    } __attribute__((packed)) *${d.ident};`);
  return L;
}

/** The size of each global-data struct and the size and offset of each of its variables. */
export function emitLayoutAsserts(obj: string, datasecs: readonly Datasec[]): string[] {
  const L: string[] = [];
  for (const d of datasecs) {
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
  return L;
}
