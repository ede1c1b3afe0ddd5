// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* xdp: count the packets arriving on an interface, per IP protocol, and print the
 * totals every second (wasm-bpf guest).  Usage: xdp IFNAME [SECONDS] */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "xdp.h"
#include "xdp.skel.h"

static const char *proto_name(unsigned int key)
{
    switch (key) {
    case 1: return "ICMP";
    case 2: return "IGMP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 58: return "ICMPv6";
    case XDP_KEY_NOT_IP: return "non-IP";
    default: return NULL;
    }
}

/* One line: the non-zero counters.  Returns 0, or a negative errno. */
static int print_counts(int fd)
{
    char ts[16];
    time_t t;

    time(&t);
    strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
    printf("%s", ts);
    for (uint32_t key = 0; key < XDP_KEYS; key++) {
        uint64_t count;
        int err = bpf_map_lookup_elem(fd, &key, &count);
        if (err)
            return err;
        if (!count)
            continue;
        if (proto_name(key))
            printf(" %s=%llu", proto_name(key), (unsigned long long)count);
        else
            printf(" proto%u=%llu", key, (unsigned long long)count);
    }
    printf("\n");
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    struct xdp_bpf *skel;
    long seconds = -1;
    int err, fd;

    if (argc < 2 || argc > 3 || !strcmp(argv[1], "-h")) {
        fprintf(argc == 2 ? stdout : stderr,
                "USAGE: xdp IFNAME [SECONDS]\n"
                "Count the packets arriving on IFNAME per IP protocol (XDP) and print the\n"
                "totals every second, for SECONDS seconds or until Ctrl-C.\n");
        return argc == 2 ? 0 : 1;
    }
    if (argc == 3) {
        char *end;
        seconds = strtol(argv[2], &end, 10);
        if (end == argv[2] || *end || seconds < 1) {
            fprintf(stderr, "xdp: invalid duration: %s\n", argv[2]);
            return 1;
        }
    }

    skel = xdp_bpf__open_and_load();
    if (!skel) {
        fprintf(stderr, "Failed to open and load BPF skeleton\n");
        return 1;
    }
    /* the attach target of an xdp program is an interface name */
    bpf_set_prog_attach_target(skel->progs.xdp_count, argv[1]);
    err = xdp_bpf__attach(skel);
    if (err) {
        fprintf(stderr, "Failed to attach XDP program to %s: %s\n", argv[1], strerror(-err));
        goto cleanup;
    }
    fd = bpf_map__fd(skel->maps.packets);
    if (fd < 0) {
        err = fd;
        goto cleanup;
    }

    printf("Counting packets on %s... Hit Ctrl-C to end.\n", argv[1]);
    fflush(stdout);
    for (long i = 0; seconds < 0 || i < seconds; i++) {
        /* an interrupted sleep() returns the time left (see examples/README.md) */
        if (sleep(1) != 0)
            break;
        err = print_counts(fd);
        if (err)
            break;
    }
    if (!err)
        err = print_counts(fd);

cleanup:
    xdp_bpf__destroy(skel);
    return err < 0 ? 1 : 0;
}
