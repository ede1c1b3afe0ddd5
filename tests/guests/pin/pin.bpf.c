// Maps pinned by name, for pin.c: wbpf_pin_test is pinned beforehand by the test (libbpf
// reuses a pinned map of the same definition), wbpf_pin_new is not.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define PINNED_HASH(name)                  \
  struct {                                 \
    __uint(type, BPF_MAP_TYPE_HASH);       \
    __uint(max_entries, 8);                \
    __type(key, __u32);                    \
    __type(value, __u64);                  \
    __uint(pinning, LIBBPF_PIN_BY_NAME);   \
  } name SEC(".maps")

PINNED_HASH(wbpf_pin_test);
PINNED_HASH(wbpf_pin_new);

char LICENSE[] SEC("license") = "GPL";
