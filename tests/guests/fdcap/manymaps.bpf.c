// One object with 300 maps: each map is an fd, so loading it takes more fds than the host
// can spare under a low RLIMIT_NOFILE (tests/kernel_fd_budget_test.ts). The maps share one
// definition type, which keeps the object small.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct one_u32 {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
};

#define M(i) struct one_u32 m##i SEC(".maps");
#define M10(i) M(i##0) M(i##1) M(i##2) M(i##3) M(i##4) M(i##5) M(i##6) M(i##7) M(i##8) M(i##9)
#define M100(i) M10(i##0) M10(i##1) M10(i##2) M10(i##3) M10(i##4) M10(i##5) M10(i##6) \
    M10(i##7) M10(i##8) M10(i##9)

/* 300 maps: m1000..m1299 */
M100(10) M100(11) M100(12)

char LICENSE[] SEC("license") = "GPL";
