// A map pinned by name whose name pin.c rewrites to "../wbpf_pin_test" (same length) in the
// object's string tables before loading it: a name that makes a path out of the pin root.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __u64);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} wbpf_escape_name SEC(".maps");

char LICENSE[] SEC("license") = "GPL";
