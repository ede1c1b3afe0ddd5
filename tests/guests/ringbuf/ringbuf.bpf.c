// Producers for the ring buffer consumer's edge cases (tests/kernel_ringbuf_test.ts), only for the
// process whose tgid the guest stores in `config`:
// - getpriority(PRIO_PROCESS, arg): emits (arg & 0xfffff) 40-byte records into `ring` (16 KiB, so records cross
//   its end), with a payload derived from the sequence number; bit 20 of arg: discard the
//   records with an odd sequence number (bpf_ringbuf_discard) instead of submitting them.
// - sched_get_priority_min(arg): emits arg 8-byte records into `big` (4 MiB), for the per-poll
//   budget.
// (Syscalls that no other test fires: test files may run concurrently in one test process.)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../_common/syscall_tp.h"

struct rec {
  __u32 seq;
  __u32 pad;
  __u8 payload[32];
};

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 16 * 1024);
} ring SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4 * 1024 * 1024);
} big SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} config SEC(".maps");

/* [0]: records of `ring` dropped because it was full */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} stats SEC(".maps");

__u32 ring_seq;
__u64 big_seq;

struct loop_ctx {
  __u32 discard;
  __u32 dropped;
};

static __always_inline int for_target(void) {
  __u32 k = 0;
  __u32 *tgid = bpf_map_lookup_elem(&config, &k);
  return tgid && *tgid && *tgid == (bpf_get_current_pid_tgid() >> 32);
}

static long emit_ring(__u32 i, void *data) {
  struct loop_ctx *c = data;
  struct rec *r = bpf_ringbuf_reserve(&ring, sizeof(*r), 0);
  if (!r) {
    c->dropped++;
    return 0;
  }
  __u32 seq = ring_seq++;
  r->seq = seq;
  r->pad = 0;
  for (int j = 0; j < 32; j++) r->payload[j] = (__u8)(seq * 7 + j);
  if (c->discard && (seq & 1))
    bpf_ringbuf_discard(r, 0);
  else
    bpf_ringbuf_submit(r, 0);
  return 0;
}

static long emit_big(__u32 i, void *data) {
  __u64 *r = bpf_ringbuf_reserve(&big, sizeof(*r), 0);
  if (!r) return 1;
  *r = big_seq++;
  bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
  return 0;
}

SEC("tp/syscalls/sys_enter_getpriority")
int on_getpriority(struct sys_enter_ctx *ctx) {
  if (!for_target()) return 0;
  __u32 arg = (__u32)ctx->args[1];
  struct loop_ctx c = {.discard = (arg >> 20) & 1};
  bpf_loop(arg & 0xfffff, emit_ring, &c, 0);
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&stats, &k);
  if (v) *v += c.dropped;
  return 0;
}

SEC("tp/syscalls/sys_enter_sched_get_priority_min")
int on_prio_min(struct sys_enter_ctx *ctx) {
  if (!for_target()) return 0;
  bpf_loop((__u32)ctx->args[0], emit_big, 0, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
