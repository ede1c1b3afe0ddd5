// Maps whose keys or values the kernel reads as fds, for the fd-ownership checks of
// mapfds.c, and one program (never attached) whose fd the guest may store in prog_array.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define U32_MAP(name, map_type, value_type) \
  struct {                                    \
    __uint(type, map_type);                   \
    __uint(max_entries, 2);                   \
    __type(key, __u32);                       \
    __type(value, value_type);                \
  } name SEC(".maps")

struct inner_map {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} inner SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, struct inner_map);
} outer_hash SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, struct inner_map);
} outer_array SEC(".maps");

U32_MAP(prog_array, BPF_MAP_TYPE_PROG_ARRAY, __u32);
U32_MAP(perf_array, BPF_MAP_TYPE_PERF_EVENT_ARRAY, __u32);
U32_MAP(cgroup_array, BPF_MAP_TYPE_CGROUP_ARRAY, __u32);
U32_MAP(sock_map, BPF_MAP_TYPE_SOCKMAP, __u32);
/* a socket map with u64 values: the kernel reads the fd as a u64 */
U32_MAP(sock_map64, BPF_MAP_TYPE_SOCKMAP, __u64);
U32_MAP(sock_hash, BPF_MAP_TYPE_SOCKHASH, __u32);
U32_MAP(reuseport_array, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, __u32);
U32_MAP(xsk_map, BPF_MAP_TYPE_XSKMAP, __u32);
/* ifindex, then a program fd */
U32_MAP(dev_map, BPF_MAP_TYPE_DEVMAP, struct bpf_devmap_val);
U32_MAP(dev_map_hash, BPF_MAP_TYPE_DEVMAP_HASH, struct bpf_devmap_val);
/* qsize, then a program fd */
U32_MAP(cpu_map, BPF_MAP_TYPE_CPUMAP, struct bpf_cpumap_val);
/* ifindex only: no fd */
U32_MAP(dev_map_plain, BPF_MAP_TYPE_DEVMAP, __u32);

/* storage maps: the key is an fd (a socket, a pidfd, a cgroup) */
#define FD_KEY_STORAGE(name, map_type) \
  struct {                             \
    __uint(type, map_type);            \
    __uint(map_flags, BPF_F_NO_PREALLOC); \
    __type(key, int);                  \
    __type(value, __u64);              \
  } name SEC(".maps")

FD_KEY_STORAGE(sk_storage, BPF_MAP_TYPE_SK_STORAGE);
FD_KEY_STORAGE(task_storage, BPF_MAP_TYPE_TASK_STORAGE);
FD_KEY_STORAGE(cgrp_storage, 32 /* BPF_MAP_TYPE_CGRP_STORAGE, newer than these headers */);

SEC("socket")
int tail(void *skb) { return 0; }

char LICENSE[] SEC("license") = "GPL";
