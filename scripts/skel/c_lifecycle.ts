// The skeleton's functions, with bpftool's names and contracts: NAME__destroy,
// NAME__create_skeleton (the bpf_object_skeleton that libbpf-wasm.h's
// bpf_object__{open,load,attach}_skeleton walk), NAME__open_opts/_open, NAME__load,
// NAME__open_and_load, NAME__attach/_detach. Errors follow libbpf: a negative errno, or NULL with
// errno set.

import type { ObjectInfo } from "./analyze.ts";
import { dataArray, offsetMacro } from "./c_embed.ts";

/** `NAME__destroy()`: frees the skeleton and the struct; NULL is allowed. */
export function emitDestroy(obj: string): string[] {
  return [
    `static inline void ${obj}__destroy(struct ${obj} *obj)`,
    `{`,
    `    if (!obj)`,
    `        return;`,
    `    if (obj->skeleton)`,
    `        bpf_object__destroy_skeleton(obj->skeleton);`,
    `    free(obj);`,
    `}`,
    "",
  ];
}

/** `NAME__create_skeleton()`: the tables that tie each map and program (in libbpf's order, by
 * name) to its field in `struct NAME`, and each global-data section to its struct pointer. */
export function emitCreateSkeleton(obj: string, info: ObjectInfo): string[] {
  const data = dataArray(obj);
  const L = [
    `static inline int ${obj}__create_skeleton(struct ${obj} *obj)`,
    `{`,
    `    struct bpf_object_skeleton *s;`,
    "",
    `    s = (struct bpf_object_skeleton *)calloc(1, sizeof(*s));`,
    `    if (!s)`,
    `        return -ENOMEM;`,
    `    obj->skeleton = s;`,
    "",
    `    s->sz = sizeof(*s);`,
    `    s->name = "${obj}";`,
    "",
    `    /* maps */`,
    `    s->map_cnt = ${info.maps.length};`,
    `    s->map_skel_sz = sizeof(*s->maps);`,
  ];
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
  L.push(
    "",
    `    s->data = ${data};`,
    `    s->data_sz = sizeof(${data});`,
    `    s->rodata_offset = ${offsetMacro(obj, "RODATA")};`,
    `    s->bss_offset = ${offsetMacro(obj, "BSS")};`,
    `    return 0;`,
    `}`,
    "",
  );
  return L;
}

/** `NAME__open_opts()` and `NAME__open()`. */
export function emitOpen(obj: string): string[] {
  return [
    `static inline struct ${obj} *${obj}__open_opts(const struct bpf_object_open_opts *opts)`,
    `{`,
    `    struct ${obj} *obj;`,
    `    int err;`,
    "",
    `    obj = (struct ${obj} *)calloc(1, sizeof(*obj));`,
    `    if (!obj) {`,
    `        errno = ENOMEM;`,
    `        return NULL;`,
    `    }`,
    `    err = ${obj}__create_skeleton(obj);`,
    `    if (!err)`,
    `        err = bpf_object__open_skeleton(obj->skeleton, opts);`,
    `    if (err) {`,
    `        ${obj}__destroy(obj);`,
    `        errno = -err;`,
    `        return NULL;`,
    `    }`,
    `    return obj;`,
    `}`,
    "",
    `static inline struct ${obj} *${obj}__open(void)`,
    `{`,
    `    return ${obj}__open_opts(NULL);`,
    `}`,
    "",
  ];
}

/** `NAME__load()` and `NAME__open_and_load()`. */
export function emitLoad(obj: string): string[] {
  return [
    `static inline int ${obj}__load(struct ${obj} *obj)`,
    `{`,
    `    return bpf_object__load_skeleton(obj->skeleton);`,
    `}`,
    "",
    `static inline struct ${obj} *${obj}__open_and_load(void)`,
    `{`,
    `    struct ${obj} *obj = ${obj}__open();`,
    `    int err;`,
    "",
    `    if (!obj)`,
    `        return NULL;`,
    `    if (${obj}__load(obj)) {`,
    `        err = errno;`,
    `        ${obj}__destroy(obj);`,
    `        errno = err;`,
    `        return NULL;`,
    `    }`,
    `    return obj;`,
    `}`,
    "",
  ];
}

/** `NAME__attach()` and `NAME__detach()`. */
export function emitAttach(obj: string): string[] {
  return [
    `static inline int ${obj}__attach(struct ${obj} *obj)`,
    `{`,
    `    return bpf_object__attach_skeleton(obj->skeleton);`,
    `}`,
    "",
    `static inline void ${obj}__detach(struct ${obj} *obj)`,
    `{`,
    `    bpf_object__detach_skeleton(obj->skeleton);`,
    `}`,
    "",
  ];
}
