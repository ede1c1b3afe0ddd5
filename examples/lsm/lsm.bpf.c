// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* lsm: a BPF LSM program on the path_rmdir hook that refuses (-EPERM) to remove a
 * directory whose name is the one the guest sets in .rodata.  Needs a kernel whose
 * active LSMs include "bpf" (see examples/README.md). */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define EPERM 1
#define NAME_LEN 32

/* --- kernel types (only the fields used) --- */
struct qstr {
    const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
    struct qstr d_name;
} __attribute__((preserve_access_index));

struct path;

/* the directory name to protect, set by the guest before load */
const volatile char protected_name[NAME_LEN] = "wasm-bpf-protected";

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} denied SEC(".maps");

SEC("lsm/path_rmdir")
int BPF_PROG(protect_rmdir, const struct path *dir, struct dentry *dentry, int ret)
{
    char name[NAME_LEN];
    __u32 zero = 0;
    __u64 *count;

    if (ret) /* an earlier LSM already refused */
        return ret;
    if (bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(dentry, d_name.name)) < 0)
        return 0;
    for (int i = 0; i < NAME_LEN; i++) {
        if (name[i] != protected_name[i])
            return 0;
        if (!name[i])
            break;
    }
    count = bpf_map_lookup_elem(&denied, &zero);
    if (count)
        __sync_fetch_and_add(count, 1);
    return -EPERM;
}

char LICENSE[] SEC("license") = "GPL";
