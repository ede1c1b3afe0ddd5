// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* uprobe: trace the calls of uprobe_add() in a binary given on the command line
 * (wasm-bpf guest).  Usage: uprobe /ABSOLUTE/PATH/TO/BINARY */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "uprobe.h"
#include "uprobe.skel.h"

static int handle_event(void *ctx, void *data, size_t size)
{
    const struct event *e = data;

    (void)ctx;
    if (size < sizeof(*e))
        return 0;
    printf("%-7d %-16s uprobe_add(%d, %d) = %d\n", e->pid, e->comm, e->a, e->b, e->ret);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    struct bpf_buffer *buf = NULL;
    struct uprobe_bpf *skel;
    int err;

    if (argc != 2 || argv[1][0] != '/') {
        fprintf(argc == 2 && !strcmp(argv[1], "-h") ? stdout : stderr,
                "USAGE: uprobe /ABSOLUTE/PATH/TO/BINARY\n"
                "Trace the calls of uprobe_add(int, int) in that binary (uprobe + uretprobe)\n"
                "until Ctrl-C.  examples/uprobe/uprobe_target.c is such a binary.\n");
        return argc == 2 && !strcmp(argv[1], "-h") ? 0 : 1;
    }

    skel = uprobe_bpf__open();
    if (!skel) {
        fprintf(stderr, "Failed to open BPF skeleton\n");
        return 1;
    }
    /* point both probe sections at the binary, before load */
    err = wasm_bpf_set_uprobe_path(skel->skeleton, UPROBE_TARGET, argv[1]);
    if (err < 0) {
        fprintf(stderr, "Bad binary path %s: %s\n", argv[1], strerror(-err));
        goto cleanup;
    }
    err = uprobe_bpf__load(skel);
    if (err) {
        fprintf(stderr, "Failed to load BPF skeleton\n");
        goto cleanup;
    }
    err = uprobe_bpf__attach(skel);
    if (err) {
        fprintf(stderr, "Failed to attach to uprobe_add in %s: %s\n", argv[1], strerror(-err));
        goto cleanup;
    }
    buf = bpf_buffer__open(skel->maps.events, handle_event, NULL);
    if (!buf) {
        err = -errno;
        fprintf(stderr, "Failed to open ring buffer: %d\n", err);
        goto cleanup;
    }

    printf("Tracing uprobe_add() in %s... Hit Ctrl-C to end.\n", argv[1]);
    printf("%-7s %-16s %s\n", "PID", "COMM", "CALL");
    fflush(stdout);
    for (;;) {
        err = bpf_buffer__poll(buf, 100);
        if (err == -EINTR) { /* Ctrl-C */
            err = 0;
            break;
        }
        if (err < 0) {
            fprintf(stderr, "Error polling ring buffer: %d\n", err);
            break;
        }
    }

cleanup:
    bpf_buffer__free(buf);
    uprobe_bpf__destroy(skel);
    return err < 0 ? 1 : 0;
}
