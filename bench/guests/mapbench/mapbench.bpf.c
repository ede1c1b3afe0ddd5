// The map of the map-operation benchmark: a 10k-entry hash map, operated on from user space
// only (by our wasm guest through wasm_bpf_map_operate, and by the native C reference).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10000);
  __type(key, __u32);
  __type(value, __u64);
} table SEC(".maps");

/* Never attached: an object with a program, like every real one. */
SEC("tp/syscalls/sys_enter_getppid")
int mapbench_unused(void *ctx) {
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&table, &k);
  if (v) *v += 1;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
