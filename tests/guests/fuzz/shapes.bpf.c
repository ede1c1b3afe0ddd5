// Type shapes for the object checks (tests/broken_objects_test.ts): a typedef, a restrict
// pointer, a self-referential struct (legal: through a pointer), a map, a global variable
// and a program, so BTF surgery on this object can build each broken shape from a real one.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef unsigned int counter_t;

struct node {
  struct node *next;
  counter_t value;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct node);
} nodes SEC(".maps");

int *__restrict restricted_ptr;
volatile counter_t seen;

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx) {
  __u32 k = 0;
  struct node *n = bpf_map_lookup_elem(&nodes, &k);
  if (n) n->value++;
  seen++;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
