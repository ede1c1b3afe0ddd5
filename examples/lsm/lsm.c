// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lsm: forbid removing directories with a given name, with a BPF LSM program on the
 * path_rmdir hook (wasm-bpf guest).  Usage: lsm [NAME]
 * Needs the BPF LSM to be active (boot with lsm=...,bpf); elsewhere load or attach
 * fails and the guest says so. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "lsm.skel.h"

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "wasm-bpf-protected";
    struct lsm_bpf *skel;
    int err, fd;

    if (argc > 2 || (argc == 2 && !strcmp(argv[1], "-h")) || strlen(name) >= 32 || !*name) {
        fprintf(argc == 2 && !strcmp(argv[1], "-h") ? stdout : stderr,
                "USAGE: lsm [NAME]\n"
                "Refuse (EPERM) to remove any directory called NAME (default\n"
                "wasm-bpf-protected, at most 31 characters) until Ctrl-C.  Needs the BPF LSM\n"
                "(kernel booted with lsm=...,bpf).\n");
        return argc == 2 && !strcmp(argv[1], "-h") ? 0 : 1;
    }

    skel = lsm_bpf__open();
    if (!skel) {
        fprintf(stderr, "Failed to open BPF skeleton\n");
        return 1;
    }
    memset((char *)skel->rodata->protected_name, 0, sizeof(skel->rodata->protected_name));
    strncpy((char *)skel->rodata->protected_name, name, sizeof(skel->rodata->protected_name) - 1);
    err = lsm_bpf__load(skel);
    if (err) {
        fprintf(stderr, "Failed to load the LSM program: is the BPF LSM enabled "
                        "(lsm=...,bpf on the kernel command line)?\n");
        goto cleanup;
    }
    err = lsm_bpf__attach(skel);
    if (err) {
        fprintf(stderr,
                "Failed to attach the LSM program: %s (%d). The BPF LSM is not active: boot "
                "with lsm=...,bpf (see /sys/kernel/security/lsm).\n",
                strerror(-err), err);
        goto cleanup;
    }
    fd = bpf_map__fd(skel->maps.denied);
    printf("Refusing to remove directories called %s... Hit Ctrl-C to end.\n", name);
    fflush(stdout);
    for (;;) {
        uint32_t zero = 0;
        uint64_t count = 0;
        if (sleep(1) != 0) /* interrupted (Ctrl-C) */
            break;
        if (fd >= 0 && bpf_map_lookup_elem(fd, &zero, &count) == 0 && count) {
            printf("refused %llu rmdir(s)\n", (unsigned long long)count);
            fflush(stdout);
        }
    }
    err = 0;

cleanup:
    lsm_bpf__destroy(skel);
    return err ? 1 : 0;
}
