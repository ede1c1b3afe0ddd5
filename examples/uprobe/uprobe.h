/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared by uprobe.bpf.c (64-bit) and the wasm32 guest. */
#ifndef __UPROBE_H
#define __UPROBE_H

#define TASK_COMM_LEN 16

/* The binary the probes attach to is chosen at run time: the sections name this
 * placeholder path (160 characters), which the guest replaces in the embedded object
 * before load with wasm_bpf_set_uprobe_path() (libbpf-wasm.h). */
#define UPROBE_TARGET "/wasm-bpf-uprobe-target_________________________________________________________________________________________________________________________________________"

/* One call of uprobe_add(a, b) that returned ret. */
struct event {
    int pid;
    int a;
    int b;
    int ret;
    char comm[TASK_COMM_LEN];
} __attribute__((packed));

_Static_assert(sizeof(struct event) == 32, "struct event layout");

#endif /* __UPROBE_H */
