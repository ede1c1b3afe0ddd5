// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgroup_skb: count the packets and bytes that the sockets of a cgroup (v2) receive and
 * send.  Both programs let every packet through (return 1). */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "cgroup_skb.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, struct traffic);
} traffic SEC(".maps");

static __always_inline int count(struct __sk_buff *skb, __u32 dir)
{
    struct traffic *t = bpf_map_lookup_elem(&traffic, &dir);

    if (t) {
        __sync_fetch_and_add(&t->packets, 1);
        __sync_fetch_and_add(&t->bytes, skb->len);
    }
    return 1; /* allow */
}

SEC("cgroup_skb/ingress")
int count_ingress(struct __sk_buff *skb)
{
    return count(skb, DIR_INGRESS);
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
    return count(skb, DIR_EGRESS);
}

char LICENSE[] SEC("license") = "GPL";
