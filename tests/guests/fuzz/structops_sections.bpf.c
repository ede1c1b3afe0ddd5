// struct_ops in its section forms: a `.struct_ops` variable and a `struct_ops/` program. The
// object check refuses struct_ops in every form (tests/broken_objects_test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct fake_ops {
  int (*init)(void);
};

SEC("struct_ops/fake_init")
int fake_init(void *ctx) {
  return 0;
}

SEC(".struct_ops")
struct fake_ops ops = {
  .init = (void *)fake_init,
};

char LICENSE[] SEC("license") = "GPL";
