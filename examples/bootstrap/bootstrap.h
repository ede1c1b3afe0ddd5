/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The record bootstrap.bpf.c sends to user space through the ring buffer.
 * Shared by the BPF object (64-bit) and the wasm32 guest: no `long`, no
 * pointers, explicit padding, packed, and the size pinned below. */
#ifndef __BOOTSTRAP_H
#define __BOOTSTRAP_H

#define TASK_COMM_LEN 16
#define MAX_FILENAME_LEN 127

struct event {
    int pid;
    int ppid;
    unsigned int exit_code;
    char __pad0[4];
    unsigned long long duration_ns;
    char comm[TASK_COMM_LEN];
    char filename[MAX_FILENAME_LEN];
    unsigned char exit_event; /* bool */
} __attribute__((packed));

_Static_assert(sizeof(struct event) == 168, "struct event layout");
_Static_assert(__builtin_offsetof(struct event, duration_ns) == 16, "duration_ns offset");
_Static_assert(__builtin_offsetof(struct event, comm) == 24, "comm offset");
_Static_assert(__builtin_offsetof(struct event, filename) == 40, "filename offset");

#endif /* __BOOTSTRAP_H */
