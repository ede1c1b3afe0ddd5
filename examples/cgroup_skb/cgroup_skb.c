// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgroup_skb: count the traffic of the processes of a cgroup v2 directory, in and out,
 * and print the totals every second (wasm-bpf guest).
 * Usage: cgroup_skb CGROUP_DIR [SECONDS], CGROUP_DIR being the guest path of a directory the
 * runtime preopened (wasm-bpf --attach-dir /sys/fs/cgroup/unified/demo:/cgroup ... /cgroup).
 * The programs attach through that preopen's descriptor (upstream's fd-based attach): the
 * guest names no host path, and with --attach-dir it cannot touch the cgroup's files. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>
#include "cgroup_skb.h"
#include "cgroup_skb.skel.h"

static int print_counts(int fd)
{
    struct traffic t[2];

    for (uint32_t dir = 0; dir < 2; dir++) {
        int err = bpf_map_lookup_elem(fd, &dir, &t[dir]);
        if (err)
            return err;
    }
    printf("ingress: %llu packets %llu bytes, egress: %llu packets %llu bytes\n",
           t[DIR_INGRESS].packets, t[DIR_INGRESS].bytes, t[DIR_EGRESS].packets,
           t[DIR_EGRESS].bytes);
    fflush(stdout);
    return 0;
}

/* The descriptor of the preopened directory the guest sees as `path`, found as upstream's
 * guests do: by walking the preopens (fd_prestat_get) from fd 3 and comparing their names. A
 * descriptor from open() would not do: the host attaches only to its own preopens. */
static int find_preopen(const char *path)
{
    char name[256];

    for (__wasi_fd_t fd = 3;; fd++) {
        __wasi_prestat_t st;
        if (__wasi_fd_prestat_get(fd, &st) != 0)
            return -1;
        size_t len = st.u.dir.pr_name_len;
        if (st.tag != __WASI_PREOPENTYPE_DIR || len >= sizeof(name) ||
            __wasi_fd_prestat_dir_name(fd, (uint8_t *)name, len) != 0)
            continue;
        name[len] = 0;
        if (!strcmp(name, path))
            return (int)fd;
    }
}

int main(int argc, char **argv)
{
    struct cgroup_skb_bpf *skel;
    long seconds = -1;
    int err, fd, cgroup;

    if (argc < 2 || argc > 3 || !strcmp(argv[1], "-h")) {
        fprintf(argc == 2 ? stdout : stderr,
                "USAGE: cgroup_skb CGROUP_DIR [SECONDS]\n"
                "Count the packets and bytes received and sent by the processes of a cgroup\n"
                "v2 directory, every second, for SECONDS seconds or until Ctrl-C.\n"
                "CGROUP_DIR is the directory as the runtime gives it to the guest:\n"
                "  wasm-bpf --attach-dir /sys/fs/cgroup/unified/mygroup:/cgroup \\\n"
                "      cgroup_skb.wasm /cgroup\n");
        return argc == 2 ? 0 : 1;
    }
    if (argc == 3) {
        char *end;
        seconds = strtol(argv[2], &end, 10);
        if (end == argv[2] || *end || seconds < 1) {
            fprintf(stderr, "cgroup_skb: invalid duration: %s\n", argv[2]);
            return 1;
        }
    }

    cgroup = find_preopen(argv[1]);
    if (cgroup < 0) {
        fprintf(stderr,
                "cgroup_skb: %s is not a directory the runtime preopened: give it with\n"
                "  --attach-dir HOST_CGROUP_DIR:%s\n",
                argv[1], argv[1]);
        return 1;
    }

    skel = cgroup_skb_bpf__open_and_load();
    if (!skel) {
        fprintf(stderr, "Failed to open and load BPF skeleton\n");
        return 1;
    }
    /* the attach target of a cgroup program is the cgroup's directory, by descriptor */
    bpf_set_prog_attach_target_fd(skel->progs.count_ingress, cgroup);
    bpf_set_prog_attach_target_fd(skel->progs.count_egress, cgroup);
    err = cgroup_skb_bpf__attach(skel);
    if (err) {
        fprintf(stderr, "Failed to attach to cgroup %s: %s\n", argv[1], strerror(-err));
        goto cleanup;
    }
    fd = bpf_map__fd(skel->maps.traffic);
    if (fd < 0) {
        err = fd;
        goto cleanup;
    }

    printf("Counting the traffic of cgroup %s... Hit Ctrl-C to end.\n", argv[1]);
    fflush(stdout);
    for (long i = 0; seconds < 0 || i < seconds; i++) {
        if (sleep(1) != 0) /* interrupted (Ctrl-C) */
            break;
        err = print_counts(fd);
        if (err)
            break;
    }
    if (!err)
        err = print_counts(fd);

cleanup:
    cgroup_skb_bpf__destroy(skel);
    return err < 0 ? 1 : 0;
}
