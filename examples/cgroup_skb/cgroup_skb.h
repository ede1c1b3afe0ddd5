/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Value of the `traffic` map of cgroup_skb.bpf.c (key 0: ingress, 1: egress), shared by
 * the BPF object (64-bit) and the wasm32 guest. */
#ifndef __CGROUP_SKB_H
#define __CGROUP_SKB_H

#define DIR_INGRESS 0
#define DIR_EGRESS 1

struct traffic {
    unsigned long long packets;
    unsigned long long bytes;
} __attribute__((packed));

_Static_assert(sizeof(struct traffic) == 16, "struct traffic layout");

#endif /* __CGROUP_SKB_H */
