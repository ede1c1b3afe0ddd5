// Maps of every shape map_operate handles, and programs of each attach kind, for the import
// fuzzer (scripts/fuzz.ts, tests/fuzz_imports_test.ts). Only the host loads this object.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} hash SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, char[24]);
} array SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u32);
} pcpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 8);
  __type(key, __u64);
  __type(value, __u32);
} lru SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_QUEUE);
  __uint(max_entries, 8);
  __type(value, __u32);
} queue SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} ring SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} perf SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx) {
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&hash, &k);
  if (v) *v += 1;
  __u32 *r = bpf_ringbuf_reserve(&ring, 4, 0);
  if (r) {
    *r = k;
    bpf_ringbuf_submit(r, 0);
  }
  bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &k, sizeof k);
  return 0;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx) { return XDP_PASS; }

SEC("cgroup_skb/egress")
int skb_egress(struct __sk_buff *skb) { return 1; }

SEC("sockops")
int sockops_prog(struct bpf_sock_ops *skops) { return 1; }

char LICENSE[] SEC("license") = "GPL";
