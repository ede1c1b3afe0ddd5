// A ring buffer fed from sys_enter_getpgid for the process whose tgid is in `config`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../_common/syscall_tp.h"

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 64 * 1024);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} config SEC(".maps");

__u32 seq;

SEC("tp/syscalls/sys_enter_getpgid")
int on_getpgid(struct sys_enter_ctx *ctx) {
  struct test_event e = {};
  __u32 k = 0;
  __u32 *tgid = bpf_map_lookup_elem(&config, &k);
  if (!tgid || !*tgid || *tgid != (bpf_get_current_pid_tgid() >> 32)) return 0;
  e.seq = seq++;
  e.tgid = *tgid;
  e.arg = ctx->args[0];
  __builtin_memcpy(e.tag, "tinygo", 7);
  bpf_ringbuf_output(&events, &e, sizeof(e), 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
