// SPDX-License-Identifier: GPL-2.0
/* runqlat: run queue (scheduler) latency histogram, after libbpf-tools'
 * runqlat.  BTF-enabled tracepoints (tp_btf): the task pointers arrive typed,
 * so fields are read directly.  No vmlinux.h: the few kernel types used are
 * declared here with preserve_access_index (CO-RE). */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "runqlat.h"

typedef int pid_t;

#define MAX_ENTRIES 10240
#define TASK_RUNNING 0

/* --- kernel types (only what is used) --- */
struct ns_common {
    unsigned int inum;
} __attribute__((preserve_access_index));

struct pid_namespace {
    struct ns_common ns;
} __attribute__((preserve_access_index));

struct upid {
    int nr;
    struct pid_namespace *ns;
} __attribute__((preserve_access_index));

struct pid {
    unsigned int level;
    struct upid numbers[1];
} __attribute__((preserve_access_index));

struct task_struct {
    int pid;
    int tgid;
    unsigned int __state;
    char comm[TASK_COMM_LEN];
    struct pid *thread_pid;
} __attribute__((preserve_access_index));

/* kernels before 5.14 call the field `state` (and make it a long) */
struct task_struct___pre514 {
    volatile long state;
} __attribute__((preserve_access_index));

/* --- parameters, set by the guest before load --- */
const volatile _Bool targ_per_process = 0;
const volatile _Bool targ_per_thread = 0;
const volatile _Bool targ_per_pidns = 0;
const volatile _Bool targ_ms = 0;
const volatile pid_t targ_tgid = 0;

/* --- maps --- */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, MAX_ENTRIES);
    __type(key, __u32);
    __type(value, __u64);
} start SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, MAX_ENTRIES);
    __type(key, __u32);
    __type(value, struct hist);
} hists SEC(".maps");

static struct hist zero_hist;

/* floor(log2(v)), 0 for v == 0 */
static __always_inline __u32 ilog2_u32(__u32 v)
{
    __u32 r = 0, s;

    s = (v >= (1u << 16)) << 4; v >>= s; r |= s;
    s = (v >= (1u << 8)) << 3;  v >>= s; r |= s;
    s = (v >= (1u << 4)) << 2;  v >>= s; r |= s;
    s = (v >= (1u << 2)) << 1;  v >>= s; r |= s;
    r |= v >> 1;
    return r;
}

static __always_inline __u32 ilog2_u64(__u64 v)
{
    __u32 hi = v >> 32;

    return hi ? ilog2_u32(hi) + 32 : ilog2_u32((__u32)v);
}

static __always_inline long task_state(struct task_struct *t)
{
    if (bpf_core_field_exists(t->__state))
        return BPF_CORE_READ(t, __state);
    return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

static __always_inline unsigned int pidns_inum(struct task_struct *t)
{
    struct pid *pid = BPF_CORE_READ(t, thread_pid);
    unsigned int level = BPF_CORE_READ(pid, level);
    struct upid upid;

    bpf_core_read(&upid, sizeof(upid), &pid->numbers[level]);
    return BPF_CORE_READ(upid.ns, ns.inum);
}

static __always_inline int trace_enqueue(__u32 tgid, __u32 pid)
{
    __u64 ts;

    if (!pid)
        return 0;
    if (targ_tgid && targ_tgid != tgid)
        return 0;
    ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
    return 0;
}

static __always_inline int handle_switch(struct task_struct *prev, struct task_struct *next)
{
    struct hist *histp;
    __u64 *tsp, slot;
    __u32 pid, hkey;
    __s64 delta;

    /* a task preempted while runnable goes back on the run queue now */
    if (task_state(prev) == TASK_RUNNING)
        trace_enqueue(prev->tgid, prev->pid);

    pid = next->pid;
    tsp = bpf_map_lookup_elem(&start, &pid);
    if (!tsp)
        return 0;
    delta = bpf_ktime_get_ns() - *tsp;
    if (delta < 0)
        goto cleanup;

    if (targ_per_process)
        hkey = next->tgid;
    else if (targ_per_thread)
        hkey = pid;
    else if (targ_per_pidns)
        hkey = pidns_inum(next);
    else
        hkey = (__u32)-1;

    histp = bpf_map_lookup_elem(&hists, &hkey);
    if (!histp) {
        bpf_map_update_elem(&hists, &hkey, &zero_hist, BPF_NOEXIST);
        histp = bpf_map_lookup_elem(&hists, &hkey);
        if (!histp)
            goto cleanup;
    }
    if (!histp->comm[0])
        bpf_probe_read_kernel_str(&histp->comm, sizeof(histp->comm), next->comm);

    delta /= targ_ms ? 1000000U : 1000U;
    slot = ilog2_u64(delta);
    if (slot >= MAX_SLOTS)
        slot = MAX_SLOTS - 1;
    __sync_fetch_and_add(&histp->slots[slot], 1);

cleanup:
    bpf_map_delete_elem(&start, &pid);
    return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
    return trace_enqueue(p->tgid, p->pid);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
    return trace_enqueue(p->tgid, p->pid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, _Bool preempt, struct task_struct *prev, struct task_struct *next)
{
    return handle_switch(prev, next);
}

char LICENSE[] SEC("license") = "GPL";
