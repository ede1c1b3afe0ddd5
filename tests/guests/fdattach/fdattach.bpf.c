// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Test object of the fd-based attach (tests/fd_attach_test.ts): two cgroup_skb programs that
 * count packets, an xdp program (which the fd form must refuse) and a tracepoint that counts
 * bpf() syscalls (auto-attached with a -1 fd). */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* counts[0]: packets in, counts[1]: packets out, counts[2]: bpf() syscalls */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 3);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

static __always_inline void bump(__u32 key)
{
    __u64 *n = bpf_map_lookup_elem(&counts, &key);

    if (n)
        __sync_fetch_and_add(n, 1);
}

SEC("cgroup_skb/ingress")
int count_ingress(struct __sk_buff *skb)
{
    bump(0);
    return 1;
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
    bump(1);
    return 1;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
    return XDP_PASS;
}

SEC("tp/syscalls/sys_enter_bpf")
int count_bpf(void *ctx)
{
    bump(2);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
