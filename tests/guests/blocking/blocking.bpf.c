// Records for the blocking-callback guest: sys_enter_sched_get_priority_max(arg) from the
// process whose tgid is in `config` emits a test_event to ring_a (arg < 0x2000), ring_b
// (0x2000 <= arg < 0x3000) or the perf buffer (arg >= 0x3000), with a sequence number per
// buffer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../_common/syscall_tp.h"

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 64 * 1024);
} ring_a SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 64 * 1024);
} ring_b SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u64);
} seen SEC(".maps");

__u32 seq_a, seq_b, seq_perf;

SEC("tp/syscalls/sys_enter_sched_get_priority_max")
int on_prio_max(struct sys_enter_ctx *ctx) {
  struct test_event e = {};
  __u32 k = 0;
  __u32 *tgid = bpf_map_lookup_elem(&config, &k);
  if (!tgid || !*tgid || *tgid != (bpf_get_current_pid_tgid() >> 32)) return 0;
  e.tgid = *tgid;
  e.arg = ctx->args[0];
  if (e.arg < 0x2000) {
    e.seq = seq_a++;
    __builtin_memcpy(e.tag, "ring_a", 7);
    bpf_ringbuf_output(&ring_a, &e, sizeof(e), 0);
  } else if (e.arg < 0x3000) {
    e.seq = seq_b++;
    __builtin_memcpy(e.tag, "ring_b", 7);
    bpf_ringbuf_output(&ring_b, &e, sizeof(e), 0);
  } else {
    e.seq = seq_perf++;
    __builtin_memcpy(e.tag, "perf", 5);
    bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e));
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
