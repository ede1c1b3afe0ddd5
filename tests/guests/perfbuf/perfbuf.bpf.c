// A perf event array fed from sys_enter_getsid and a ring buffer fed from sys_enter_getpgid,
// both only for the process whose tgid the guest stores in `config` (the test process).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../_common/syscall_tp.h"

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} ring SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} config SEC(".maps");

__u32 perf_seq, ring_seq;

static __always_inline int for_target(void) {
  __u32 k = 0;
  __u32 *tgid = bpf_map_lookup_elem(&config, &k);
  return tgid && *tgid && *tgid == (bpf_get_current_pid_tgid() >> 32);
}

SEC("tp/syscalls/sys_enter_getsid")
int on_getsid(struct sys_enter_ctx *ctx) {
  struct test_event e = {};
  if (!for_target()) return 0;
  e.seq = perf_seq++; /* one triggering thread: no atomics (XADD needs -mcpu=v3) */
  e.tgid = bpf_get_current_pid_tgid() >> 32;
  e.arg = ctx->args[0];
  __builtin_memcpy(e.tag, "perf-ev", 8);
  bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
  return 0;
}

SEC("tp/syscalls/sys_enter_getpgid")
int on_getpgid(struct sys_enter_ctx *ctx) {
  struct test_event e = {};
  if (!for_target()) return 0;
  e.seq = ring_seq++;
  e.tgid = bpf_get_current_pid_tgid() >> 32;
  e.arg = ctx->args[0];
  __builtin_memcpy(e.tag, "ring-ev", 8);
  bpf_ringbuf_output(&ring, &e, sizeof(e), 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
