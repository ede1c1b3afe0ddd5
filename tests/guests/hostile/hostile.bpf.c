// Programs and maps for the hostile-input checks of hostile.c.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} ring SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} plain SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx) {
  __u32 k = 1;
  __u64 *v = bpf_map_lookup_elem(&plain, &k);
  if (v) *v += 1;
  return 0;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx) { return XDP_PASS; }

SEC("sockops")
int sockops_prog(struct bpf_sock_ops *skops) { return 1; }

char LICENSE[] SEC("license") = "GPL";
