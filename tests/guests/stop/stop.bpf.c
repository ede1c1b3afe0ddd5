// An attached program and an (always empty) ring buffer for the stop tests.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} quiet SEC(".maps");

__u64 calls;

SEC("tp/syscalls/sys_enter_getppid")
int stop_probe(void *ctx) {
  calls++;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
