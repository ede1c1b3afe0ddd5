// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgroup_skb: count the traffic of the processes of a cgroup v2 directory, in and out,
 * and print the totals every second (wasm-bpf guest).
 * Usage: cgroup_skb CGROUP_DIR [SECONDS] */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

int main(int argc, char **argv)
{
    struct cgroup_skb_bpf *skel;
    long seconds = -1;
    int err, fd;

    if (argc < 2 || argc > 3 || !strcmp(argv[1], "-h")) {
        fprintf(argc == 2 ? stdout : stderr,
                "USAGE: cgroup_skb CGROUP_DIR [SECONDS]\n"
                "Count the packets and bytes received and sent by the processes of a cgroup\n"
                "v2 directory (e.g. /sys/fs/cgroup/unified/mygroup), every second, for\n"
                "SECONDS seconds or until Ctrl-C.\n");
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

    skel = cgroup_skb_bpf__open_and_load();
    if (!skel) {
        fprintf(stderr, "Failed to open and load BPF skeleton\n");
        return 1;
    }
    /* the attach target of a cgroup program is the cgroup's directory */
    bpf_set_prog_attach_target(skel->progs.count_ingress, argv[1]);
    bpf_set_prog_attach_target(skel->progs.count_egress, argv[1]);
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
