// Maps of every basic kind, for the map_operate checks of maps.c. The program is never attached;
// it only makes the object a normal one (libbpf loads it) and keeps the maps referenced.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct val12 {
  __u32 a, b, c;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} hash_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct val12);
} array_map SEC(".maps");

/* value_size 4: per-CPU values are round_up(4, 8) = 8 bytes per possible CPU */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u32);
} pcpu_array SEC(".maps");

/* value_size 12: per-CPU values are round_up(12, 8) = 16 bytes per possible CPU */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 8);
  __type(key, __u64);
  __type(value, struct val12);
} pcpu_hash SEC(".maps");

/* .rodata: the guest patches this inside the embedded ELF before each load. */
const volatile __u64 magic = 0x1111111111111111ULL;
/* .bss */
__u64 hits;

SEC("tp/syscalls/sys_enter_getppid")
int touch_maps(void *ctx) {
  __u32 k = 0;
  __u64 k64 = 0;
  if (magic == 0) return 0;
  __sync_fetch_and_add(&hits, 1);
  if (bpf_map_lookup_elem(&hash_map, &k)) hits++;
  if (bpf_map_lookup_elem(&array_map, &k)) hits++;
  if (bpf_map_lookup_elem(&pcpu_array, &k)) hits++;
  if (bpf_map_lookup_elem(&pcpu_hash, &k64)) hits++;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
