// A program the verifier rejects: it dereferences a map value without checking it for NULL.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int no_null_check(void *ctx) {
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&counts, &k);
  *v += 1; /* R0 invalid mem access 'map_value_or_null' */
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
