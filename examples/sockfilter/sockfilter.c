// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sockfilter: load a socket filter program (wasm-bpf guest).
 * Usage: sockfilter [SECONDS]
 * WASI preview1 has no sockets, so the guest cannot create the socket to attach the
 * filter to: it loads the program (the kernel verifies it), shows the map it would
 * fill, and keeps it loaded for SECONDS seconds or until Ctrl-C. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sockfilter.skel.h"

int main(int argc, char **argv)
{
    struct sockfilter_bpf *skel;
    long seconds = -1;
    unsigned long long total = 0;
    int err = 0, fd;

    if (argc > 2 || (argc == 2 && !strcmp(argv[1], "-h"))) {
        fprintf(argc == 2 ? stdout : stderr,
                "USAGE: sockfilter [SECONDS]\n"
                "Load a socket filter program and keep it loaded for SECONDS seconds or until\n"
                "Ctrl-C.  It is not attached: a WASI guest has no sockets.\n");
        return argc == 2 ? 0 : 1;
    }
    if (argc == 2) {
        char *end;
        seconds = strtol(argv[1], &end, 10);
        if (end == argv[1] || *end || seconds < 1) {
            fprintf(stderr, "sockfilter: invalid duration: %s\n", argv[1]);
            return 1;
        }
    }

    skel = sockfilter_bpf__open_and_load();
    if (!skel) {
        fprintf(stderr, "Failed to open and load BPF skeleton\n");
        return 1;
    }
    /* no sockfilter_bpf__attach(): a socket filter is attached to a socket with
     * setsockopt(SO_ATTACH_BPF), and WASI preview1 has no sockets */
    fd = bpf_map__fd(skel->maps.packets);
    if (fd < 0) {
        err = fd;
        fprintf(stderr, "No map fd: %d\n", err);
        goto cleanup;
    }
    for (uint32_t key = 0; key < 256; key++) {
        uint64_t count;
        err = bpf_map_lookup_elem(fd, &key, &count);
        if (err)
            goto cleanup;
        total += count;
    }
    printf("Loaded socket filter %s (map packets: %llu packets counted).\n",
           bpf_program__name(skel->progs.socket_handler), total);
    printf("Not attached: WASI has no sockets. Hit Ctrl-C to end.\n");
    fflush(stdout);
    for (long i = 0; seconds < 0 || i < seconds; i++) {
        if (sleep(1) != 0) /* interrupted (Ctrl-C) */
            break;
    }

cleanup:
    sockfilter_bpf__destroy(skel);
    return err < 0 ? 1 : 0;
}
