// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* opensnoop: trace openat() calls, after libbpf-tools' opensnoop.  The entry tracepoint
 * remembers the arguments, the exit tracepoint sends one record per call through a perf
 * buffer.  Filters (PID, command name, failed calls only) come from .rodata, set by the
 * guest before load. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "opensnoop.h"

/* tracepoint contexts, per /sys/kernel/tracing/events/syscalls/sys_{enter,exit}_openat/format */
struct sys_enter_openat_ctx {
    unsigned long long common;
    long long syscall_nr;
    long long dfd;
    const char *filename;
    long long flags;
    long long mode;
};

struct sys_exit_ctx {
    unsigned long long common;
    long long syscall_nr;
    long long ret;
};

/* --- parameters, set by the guest before load --- */
const volatile int targ_tgid = 0;       /* -p: only this process (0: all) */
const volatile char targ_comm[TASK_COMM_LEN] = {}; /* -n: only this command name ("": all) */
const volatile _Bool targ_failed = 0;   /* -x: only failed opens */

struct args_t {
    const char *fname;
    int flags;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u32);
    __type(value, struct args_t);
} start SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} events SEC(".maps");

static __always_inline int comm_matches(void)
{
    char comm[TASK_COMM_LEN];

    if (!targ_comm[0])
        return 1;
    bpf_get_current_comm(comm, sizeof(comm));
    for (int i = 0; i < TASK_COMM_LEN; i++) {
        if (comm[i] != targ_comm[i])
            return 0;
        if (!comm[i])
            break;
    }
    return 1;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tracepoint__syscalls__sys_enter_openat(struct sys_enter_openat_ctx *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tgid = id >> 32, tid = (__u32)id;
    struct args_t args = {};

    if (targ_tgid && targ_tgid != tgid)
        return 0;
    if (!comm_matches())
        return 0;
    args.fname = ctx->filename;
    args.flags = (int)ctx->flags;
    bpf_map_update_elem(&start, &tid, &args, BPF_ANY);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int tracepoint__syscalls__sys_exit_openat(struct sys_exit_ctx *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tid = (__u32)id;
    struct args_t *ap;
    struct event e = {};
    int ret;

    ap = bpf_map_lookup_elem(&start, &tid);
    if (!ap)
        return 0; /* not traced */
    ret = (int)ctx->ret;
    if (targ_failed && ret >= 0)
        goto cleanup;

    e.ts_ns = bpf_ktime_get_ns();
    e.pid = id >> 32;
    e.uid = (__u32)bpf_get_current_uid_gid();
    e.ret = ret;
    e.flags = ap->flags;
    bpf_get_current_comm(&e.comm, sizeof(e.comm));
    bpf_probe_read_user_str(&e.fname, sizeof(e.fname), ap->fname);
    bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
cleanup:
    bpf_map_delete_elem(&start, &tid);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
