/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Skeleton of bootstrap.bpf.c for wasm-bpf guests, written by hand in the
 * shape `bpftool gen skeleton` gives (a generator will replace it).  The
 * object bytes come from bootstrap.bpf.bytes.h (`deno task examples`). */
#ifndef __BOOTSTRAP_BPF_SKEL_H__
#define __BOOTSTRAP_BPF_SKEL_H__

#include <stdlib.h>
#include "libbpf-wasm.h"
#include "bootstrap.bpf.bytes.h"

struct bootstrap_bpf {
    struct bpf_object_skeleton *skeleton;
    struct {
        struct bpf_map *exec_start;
        struct bpf_map *rb;
        struct bpf_map *rodata;
    } maps;
    struct {
        struct bpf_program *handle_exec;
        struct bpf_program *handle_exit;
    } progs;
    struct bootstrap_bpf__rodata {
        unsigned long long min_duration_ns;
    } *rodata;
};

_Static_assert(sizeof(struct bootstrap_bpf__rodata) == BOOTSTRAP_BPF_RODATA_SIZE,
               ".rodata layout changed: update bootstrap.skel.h");
_Static_assert(__builtin_offsetof(struct bootstrap_bpf__rodata, min_duration_ns) ==
                   BOOTSTRAP_BPF_RODATA_OFF_min_duration_ns,
               ".rodata layout changed: update bootstrap.skel.h");

static void bootstrap_bpf__destroy(struct bootstrap_bpf *obj)
{
    if (!obj)
        return;
    if (obj->skeleton)
        bpf_object__destroy_skeleton(obj->skeleton);
    free(obj);
}

static int bootstrap_bpf__create_skeleton(struct bootstrap_bpf *obj)
{
    struct bpf_object_skeleton *s;

    s = (struct bpf_object_skeleton *)calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    obj->skeleton = s;

    s->sz = sizeof(*s);
    s->name = "bootstrap_bpf";

    s->map_cnt = 3;
    s->map_skel_sz = sizeof(*s->maps);
    s->maps = (struct bpf_map_skeleton *)calloc(s->map_cnt, s->map_skel_sz);
    if (!s->maps)
        return -ENOMEM;
    s->maps[0].name = "exec_start";
    s->maps[0].map = &obj->maps.exec_start;
    s->maps[1].name = "rb";
    s->maps[1].map = &obj->maps.rb;
    s->maps[2].name = ".rodata";
    s->maps[2].map = &obj->maps.rodata;
    s->maps[2].mmaped = (void **)&obj->rodata;

    s->prog_cnt = 2;
    s->prog_skel_sz = sizeof(*s->progs);
    s->progs = (struct bpf_prog_skeleton *)calloc(s->prog_cnt, s->prog_skel_sz);
    if (!s->progs)
        return -ENOMEM;
    s->progs[0].name = "handle_exec";
    s->progs[0].prog = &obj->progs.handle_exec;
    s->progs[1].name = "handle_exit";
    s->progs[1].prog = &obj->progs.handle_exit;

    s->data = bootstrap_bpf_o;
    s->data_sz = BOOTSTRAP_BPF_DATA_SZ;
    s->rodata_offset = BOOTSTRAP_BPF_RODATA_OFFSET;
    s->bss_offset = BOOTSTRAP_BPF_BSS_OFFSET;
    return 0;
}

static struct bootstrap_bpf *bootstrap_bpf__open_opts(const struct bpf_object_open_opts *opts)
{
    struct bootstrap_bpf *obj;
    int err;

    obj = (struct bootstrap_bpf *)calloc(1, sizeof(*obj));
    if (!obj) {
        errno = ENOMEM;
        return NULL;
    }
    err = bootstrap_bpf__create_skeleton(obj);
    if (!err)
        err = bpf_object__open_skeleton(obj->skeleton, opts);
    if (err) {
        bootstrap_bpf__destroy(obj);
        errno = -err;
        return NULL;
    }
    return obj;
}

static inline struct bootstrap_bpf *bootstrap_bpf__open(void)
{
    return bootstrap_bpf__open_opts(NULL);
}

static inline int bootstrap_bpf__load(struct bootstrap_bpf *obj)
{
    return bpf_object__load_skeleton(obj->skeleton);
}

static inline struct bootstrap_bpf *bootstrap_bpf__open_and_load(void)
{
    struct bootstrap_bpf *obj = bootstrap_bpf__open();
    if (!obj)
        return NULL;
    if (bootstrap_bpf__load(obj)) {
        int err = errno;
        bootstrap_bpf__destroy(obj);
        errno = err;
        return NULL;
    }
    return obj;
}

static inline int bootstrap_bpf__attach(struct bootstrap_bpf *obj)
{
    return bpf_object__attach_skeleton(obj->skeleton);
}

static inline void bootstrap_bpf__detach(struct bootstrap_bpf *obj)
{
    bpf_object__detach_skeleton(obj->skeleton);
}

#endif /* __BOOTSTRAP_BPF_SKEL_H__ */
