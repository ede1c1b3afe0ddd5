// A valid object with one BPF_MAP_TYPE_STRUCT_OPS map and no program (issue 14, item 6):
// libbpf 1.1 dereferences NULL in bpf_object__load on it. The object check must refuse it
// (tests/broken_objects_test.ts); only the host opens this object.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_STRUCT_OPS);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} ops SEC(".maps");

char LICENSE[] SEC("license") = "GPL";
