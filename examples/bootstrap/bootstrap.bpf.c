// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Trace process starts (exec) and exits, like libbpf-bootstrap's bootstrap.
 * No vmlinux.h: the few kernel types used are declared below with
 * preserve_access_index, so libbpf relocates every field access (CO-RE)
 * against the running kernel's BTF. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "bootstrap.h"

typedef int pid_t;

/* --- kernel types (only the fields used; the order does not matter) --- */
struct task_struct {
    int pid;
    int tgid;
    int exit_code;
    struct task_struct *real_parent;
} __attribute__((preserve_access_index));

/* Tracepoint contexts, per /sys/kernel/tracing/events/sched/NAME/format. */
struct trace_entry {
    unsigned short type;
    unsigned char flags;
    unsigned char preempt_count;
    int pid;
} __attribute__((preserve_access_index));

struct trace_event_raw_sched_process_exec {
    struct trace_entry ent;
    __u32 __data_loc_filename;
    pid_t pid;
    pid_t old_pid;
    char __data[0];
} __attribute__((preserve_access_index));

struct trace_event_raw_sched_process_template {
    struct trace_entry ent;
    char comm[16];
    pid_t pid;
    int prio;
    char __data[0];
} __attribute__((preserve_access_index));

/* --- maps and parameters --- */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8192);
    __type(key, pid_t);
    __type(value, __u64);
} exec_start SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} rb SEC(".maps");

/* Set by the guest before load (skel->rodata->min_duration_ns). */
const volatile unsigned long long min_duration_ns = 0;

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
    struct task_struct *task;
    unsigned int fname_off;
    struct event *e;
    pid_t pid;
    __u64 ts;

    /* remember when this process exec'ed */
    pid = bpf_get_current_pid_tgid() >> 32;
    ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&exec_start, &pid, &ts, BPF_ANY);

    /* with a minimum duration, only exits are reported */
    if (min_duration_ns)
        return 0;

    e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
    if (!e)
        return 0;

    task = (struct task_struct *)bpf_get_current_task();
    e->exit_event = 0;
    e->exit_code = 0;
    e->duration_ns = 0;
    e->pid = pid;
    e->ppid = BPF_CORE_READ(task, real_parent, tgid);
    bpf_get_current_comm(&e->comm, sizeof(e->comm));

    fname_off = ctx->__data_loc_filename & 0xFFFF;
    bpf_probe_read_str(&e->filename, sizeof(e->filename), (void *)ctx + fname_off);

    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("tp/sched/sched_process_exit")
int handle_exit(struct trace_event_raw_sched_process_template *ctx)
{
    struct task_struct *task;
    struct event *e;
    pid_t pid, tid;
    __u64 id, ts, *start_ts, duration_ns = 0;

    /* only the exit of a whole process, not of a thread */
    id = bpf_get_current_pid_tgid();
    pid = id >> 32;
    tid = (__u32)id;
    if (pid != tid)
        return 0;

    start_ts = bpf_map_lookup_elem(&exec_start, &pid);
    if (start_ts)
        duration_ns = bpf_ktime_get_ns() - *start_ts;
    else if (min_duration_ns)
        return 0;
    bpf_map_delete_elem(&exec_start, &pid);

    if (min_duration_ns && duration_ns < min_duration_ns)
        return 0;

    e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
    if (!e)
        return 0;

    task = (struct task_struct *)bpf_get_current_task();
    e->exit_event = 1;
    e->duration_ns = duration_ns;
    e->pid = pid;
    e->ppid = BPF_CORE_READ(task, real_parent, tgid);
    e->exit_code = (BPF_CORE_READ(task, exit_code) >> 8) & 0xff;
    e->filename[0] = 0;
    bpf_get_current_comm(&e->comm, sizeof(e->comm));

    bpf_ringbuf_submit(e, 0);
    return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
