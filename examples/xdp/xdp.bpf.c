// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* xdp: count the packets that arrive on a network interface, per IP protocol (IPv4
 * protocol / IPv6 next header).  Every packet is passed on (XDP_PASS). */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdp.h"

/* key: IP protocol number (0-255), or XDP_KEY_NOT_IP; value: packets */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, XDP_KEYS);
    __type(key, __u32);
    __type(value, __u64);
} packets SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    __u32 key = XDP_KEY_NOT_IP;
    __u64 *count;

    if ((void *)(eth + 1) > data_end)
        goto count;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);
        if ((void *)(ip + 1) <= data_end)
            key = ip->protocol;
    } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);
        if ((void *)(ip6 + 1) <= data_end)
            key = ip6->nexthdr;
    }
count:
    count = bpf_map_lookup_elem(&packets, &key);
    if (count)
        __sync_fetch_and_add(count, 1);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
