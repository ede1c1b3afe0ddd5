/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Value of the `hists` map, shared by runqlat.bpf.c (64-bit) and the wasm32
 * guest: only 32-bit integers and chars, size pinned below. */
#ifndef __RUNQLAT_H
#define __RUNQLAT_H

#define TASK_COMM_LEN 16
#define MAX_SLOTS 26

struct hist {
    unsigned int slots[MAX_SLOTS];
    char comm[TASK_COMM_LEN];
} __attribute__((packed));

_Static_assert(sizeof(struct hist) == 120, "struct hist layout");

#endif /* __RUNQLAT_H */
