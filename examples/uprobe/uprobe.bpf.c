// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* uprobe: trace calls of uprobe_add(int a, int b) in a user-space binary.  The uprobe
 * remembers the arguments per thread; the uretprobe sends (a, b, return value) through a
 * ring buffer.  The binary's path is a placeholder in the section names (see uprobe.h). */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "uprobe.h"

struct args {
    int a;
    int b;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u32);
    __type(value, struct args);
} calls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} events SEC(".maps");

SEC("uprobe/" UPROBE_TARGET ":uprobe_add")
int BPF_KPROBE(uprobe_add, int a, int b)
{
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    struct args args = { .a = a, .b = b };

    bpf_map_update_elem(&calls, &tid, &args, BPF_ANY);
    return 0;
}

SEC("uretprobe/" UPROBE_TARGET ":uprobe_add")
int BPF_KRETPROBE(uretprobe_add, int ret)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tid = (__u32)id;
    struct args *args;
    struct event *e;

    args = bpf_map_lookup_elem(&calls, &tid);
    if (!args)
        return 0;
    e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (e) {
        e->pid = id >> 32;
        e->a = args->a;
        e->b = args->b;
        e->ret = ret;
        bpf_get_current_comm(&e->comm, sizeof(e->comm));
        bpf_ringbuf_submit(e, 0);
    }
    bpf_map_delete_elem(&calls, &tid);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
