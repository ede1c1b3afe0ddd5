/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The record opensnoop.bpf.c sends through its perf buffer.  Shared by the BPF object
 * (64-bit) and the wasm32 guest: no `long`, no pointers, explicit padding, packed, and
 * the size pinned below. */
#ifndef __OPENSNOOP_H
#define __OPENSNOOP_H

#define TASK_COMM_LEN 16
#define NAME_MAX 255

struct event {
    unsigned long long ts_ns;
    int pid;
    unsigned int uid;
    int ret; /* fd, or -errno */
    int flags;
    char comm[TASK_COMM_LEN];
    char fname[NAME_MAX + 1];
} __attribute__((packed));

_Static_assert(sizeof(struct event) == 296, "struct event layout");

#endif /* __OPENSNOOP_H */
