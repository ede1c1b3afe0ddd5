// An event flood for the soak test: one ring buffer record per syscall of the traced process
// (tgid set by the guest), plus a per-syscall-number counter map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} config SEC(".maps");

struct raw_sys_enter {
  unsigned long long common;
  long long id;
  unsigned long long args[6];
};

struct flood_event {
  unsigned int tgid;
  unsigned int nr;
  unsigned long long arg0;
} __attribute__((packed));

SEC("tp/raw_syscalls/sys_enter")
int on_sys_enter(struct raw_sys_enter *ctx) {
  __u32 k = 0;
  __u32 *want = bpf_map_lookup_elem(&config, &k);
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (!want || (*want && *want != tgid)) return 0;
  __u32 nr = (__u32)ctx->id;
  __u64 one = 1, *c = bpf_map_lookup_elem(&counts, &nr);
  if (c) __sync_fetch_and_add(c, 1);
  else bpf_map_update_elem(&counts, &nr, &one, BPF_NOEXIST);
  struct flood_event *e = bpf_ringbuf_reserve(&events, sizeof *e, 0);
  if (!e) return 0;
  e->tgid = tgid;
  e->nr = nr;
  e->arg0 = ctx->args[0];
  bpf_ringbuf_submit(e, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
