// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* sockfilter: a socket filter that counts the IPv4 packets a socket sees per IP protocol
 * and keeps every packet.  A socket filter runs once user space attaches it to a socket
 * (setsockopt SO_ATTACH_BPF); see examples/README.md for why this guest can't. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u64);
} packets SEC(".maps");

SEC("socket")
int socket_handler(struct __sk_buff *skb)
{
    __u8 proto;
    __u32 key;
    __u64 *count;

    if (skb->protocol != bpf_htons(ETH_P_IP))
        return skb->len;
    if (bpf_skb_load_bytes(skb, ETH_HLEN + __builtin_offsetof(struct iphdr, protocol), &proto,
                           1) < 0)
        return skb->len;
    key = proto;
    count = bpf_map_lookup_elem(&packets, &key);
    if (count)
        __sync_fetch_and_add(count, 1);
    return skb->len; /* keep the whole packet */
}

char LICENSE[] SEC("license") = "GPL";
