// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
// skel: --types event
/* execve: report every execve() call (a tracepoint) and every successful exec (a raw
 * tracepoint), one ring buffer record each.  No vmlinux.h: the kernel types used are
 * declared below with preserve_access_index (CO-RE). */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "execve.h"

/* --- kernel types (only the fields used) --- */
struct task_struct {
    int tgid;
    struct task_struct *real_parent;
} __attribute__((preserve_access_index));

struct linux_binprm {
    const char *filename;
} __attribute__((preserve_access_index));

/* tp/syscalls/sys_enter_execve, per /sys/kernel/tracing/events/syscalls/sys_enter_execve/format */
struct sys_enter_execve_ctx {
    unsigned long long common;
    long long syscall_nr;
    const char *filename;
    const char *const *argv;
    const char *const *envp;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Puts struct event into the BTF, so that the skeleton generator can define it for the
 * guest (`// skel: --types event` above). */
struct event *unused_event __attribute__((unused));

static __always_inline struct event *new_event(enum event_kind kind)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    __u32 uid;

    if (!e)
        return NULL;
    uid = (__u32)bpf_get_current_uid_gid();
    e->kind = kind;
    e->pid = bpf_get_current_pid_tgid() >> 32;
    e->ppid = BPF_CORE_READ(task, real_parent, tgid);
    e->uid = uid;
    e->root = uid == 0;
    e->ts_ns = bpf_ktime_get_ns();
    bpf_get_current_comm(&e->comm, sizeof(e->comm));
    return e;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(struct sys_enter_execve_ctx *ctx)
{
    struct event *e = new_event(EVENT_CALL);

    if (!e)
        return 0;
    if (bpf_probe_read_user_str(e->filename, sizeof(e->filename), ctx->filename) < 0)
        e->filename[0] = 0;
    bpf_ringbuf_submit(e, 0);
    return 0;
}

/* raw_tp: the arguments of the tracepoint, untyped: (task, old_pid, bprm) */
SEC("raw_tp/sched_process_exec")
int raw_tp__sched_process_exec(struct bpf_raw_tracepoint_args *ctx)
{
    struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
    struct event *e = new_event(EVENT_EXEC);
    const char *filename;

    if (!e)
        return 0;
    filename = BPF_CORE_READ(bprm, filename);
    if (bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), filename) < 0)
        e->filename[0] = 0;
    bpf_ringbuf_submit(e, 0);
    return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
