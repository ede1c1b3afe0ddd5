/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Skeleton of runqlat.bpf.c for wasm-bpf guests, written by hand in the
 * shape `bpftool gen skeleton` gives (a generator will replace it).  The
 * object bytes come from runqlat.bpf.bytes.h (`deno task examples`). */
#ifndef __RUNQLAT_BPF_SKEL_H__
#define __RUNQLAT_BPF_SKEL_H__

#include <stdbool.h>
#include <stdlib.h>
#include "libbpf-wasm.h"
#include "runqlat.bpf.bytes.h"

struct runqlat_bpf {
    struct bpf_object_skeleton *skeleton;
    struct {
        struct bpf_map *start;
        struct bpf_map *hists;
        struct bpf_map *rodata;
        struct bpf_map *bss;
    } maps;
    struct {
        struct bpf_program *sched_wakeup;
        struct bpf_program *sched_wakeup_new;
        struct bpf_program *sched_switch;
    } progs;
    struct runqlat_bpf__rodata {
        bool targ_per_process;
        bool targ_per_thread;
        bool targ_per_pidns;
        bool targ_ms;
        int targ_tgid; /* pid_t */
    } *rodata;
};

#define __RUNQLAT_RODATA_AT(f)                                                   \
    _Static_assert(__builtin_offsetof(struct runqlat_bpf__rodata, f) ==           \
                       RUNQLAT_BPF_RODATA_OFF_##f,                                \
                   ".rodata layout changed: update runqlat.skel.h")
__RUNQLAT_RODATA_AT(targ_per_process);
__RUNQLAT_RODATA_AT(targ_per_thread);
__RUNQLAT_RODATA_AT(targ_per_pidns);
__RUNQLAT_RODATA_AT(targ_ms);
__RUNQLAT_RODATA_AT(targ_tgid);
#undef __RUNQLAT_RODATA_AT
_Static_assert(sizeof(struct runqlat_bpf__rodata) == RUNQLAT_BPF_RODATA_SIZE,
               ".rodata layout changed: update runqlat.skel.h");

static void runqlat_bpf__destroy(struct runqlat_bpf *obj)
{
    if (!obj)
        return;
    if (obj->skeleton)
        bpf_object__destroy_skeleton(obj->skeleton);
    free(obj);
}

static int runqlat_bpf__create_skeleton(struct runqlat_bpf *obj)
{
    struct bpf_object_skeleton *s;

    s = (struct bpf_object_skeleton *)calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    obj->skeleton = s;

    s->sz = sizeof(*s);
    s->name = "runqlat_bpf";

    s->map_cnt = 4;
    s->map_skel_sz = sizeof(*s->maps);
    s->maps = (struct bpf_map_skeleton *)calloc(s->map_cnt, s->map_skel_sz);
    if (!s->maps)
        return -ENOMEM;
    s->maps[0].name = "start";
    s->maps[0].map = &obj->maps.start;
    s->maps[1].name = "hists";
    s->maps[1].map = &obj->maps.hists;
    s->maps[2].name = ".rodata";
    s->maps[2].map = &obj->maps.rodata;
    s->maps[2].mmaped = (void **)&obj->rodata;
    s->maps[3].name = ".bss";
    s->maps[3].map = &obj->maps.bss;

    s->prog_cnt = 3;
    s->prog_skel_sz = sizeof(*s->progs);
    s->progs = (struct bpf_prog_skeleton *)calloc(s->prog_cnt, s->prog_skel_sz);
    if (!s->progs)
        return -ENOMEM;
    s->progs[0].name = "sched_wakeup";
    s->progs[0].prog = &obj->progs.sched_wakeup;
    s->progs[1].name = "sched_wakeup_new";
    s->progs[1].prog = &obj->progs.sched_wakeup_new;
    s->progs[2].name = "sched_switch";
    s->progs[2].prog = &obj->progs.sched_switch;

    s->data = runqlat_bpf_o;
    s->data_sz = RUNQLAT_BPF_DATA_SZ;
    s->rodata_offset = RUNQLAT_BPF_RODATA_OFFSET;
    s->bss_offset = RUNQLAT_BPF_BSS_OFFSET;
    return 0;
}

static struct runqlat_bpf *runqlat_bpf__open_opts(const struct bpf_object_open_opts *opts)
{
    struct runqlat_bpf *obj;
    int err;

    obj = (struct runqlat_bpf *)calloc(1, sizeof(*obj));
    if (!obj) {
        errno = ENOMEM;
        return NULL;
    }
    err = runqlat_bpf__create_skeleton(obj);
    if (!err)
        err = bpf_object__open_skeleton(obj->skeleton, opts);
    if (err) {
        runqlat_bpf__destroy(obj);
        errno = -err;
        return NULL;
    }
    return obj;
}

static inline struct runqlat_bpf *runqlat_bpf__open(void)
{
    return runqlat_bpf__open_opts(NULL);
}

static inline int runqlat_bpf__load(struct runqlat_bpf *obj)
{
    return bpf_object__load_skeleton(obj->skeleton);
}

static inline struct runqlat_bpf *runqlat_bpf__open_and_load(void)
{
    struct runqlat_bpf *obj = runqlat_bpf__open();
    if (!obj)
        return NULL;
    if (runqlat_bpf__load(obj)) {
        int err = errno;
        runqlat_bpf__destroy(obj);
        errno = err;
        return NULL;
    }
    return obj;
}

static inline int runqlat_bpf__attach(struct runqlat_bpf *obj)
{
    return bpf_object__attach_skeleton(obj->skeleton);
}

static inline void runqlat_bpf__detach(struct runqlat_bpf *obj)
{
    bpf_object__detach_skeleton(obj->skeleton);
}

#endif /* __RUNQLAT_BPF_SKEL_H__ */
