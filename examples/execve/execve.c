// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* execve: print every execve() call and every successful exec (wasm-bpf guest).
 * Usage: execve [-x] [-h]
 * struct event comes from the skeleton (generated with --types event), laid out
 * exactly as the BPF side's 64-bit struct. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "execve.skel.h"

static int only_exec;

static int handle_event(void *ctx, void *data, size_t size)
{
    const struct event *e = data;
    char ts[16];
    time_t t;

    (void)ctx;
    if (size < sizeof(*e))
        return 0;
    if (only_exec && e->kind != EVENT_EXEC)
        return 0;
    time(&t);
    strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
    printf("%-8s %-5s %-7d %-7d %-5u %-16s %s\n", ts, e->kind == EVENT_EXEC ? "EXEC" : "CALL",
           e->pid, e->ppid, e->uid, e->comm, e->filename);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    struct bpf_buffer *buf = NULL;
    struct execve_bpf *skel;
    int err;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-x")) {
            only_exec = 1;
        } else {
            fprintf(strcmp(argv[i], "-h") ? stderr : stdout,
                    "USAGE: execve [-x] [-h]\n"
                    "Trace execve() calls (CALL, from a tracepoint) and successful execs\n"
                    "(EXEC, from a raw tracepoint), until Ctrl-C.\n"
                    "  -x  only successful execs\n");
            return strcmp(argv[i], "-h") ? 1 : 0;
        }
    }

    skel = execve_bpf__open_and_load();
    if (!skel) {
        fprintf(stderr, "Failed to open and load BPF skeleton\n");
        return 1;
    }
    err = execve_bpf__attach(skel);
    if (err) {
        fprintf(stderr, "Failed to attach BPF skeleton: %d\n", err);
        goto cleanup;
    }
    buf = bpf_buffer__open(skel->maps.events, handle_event, NULL);
    if (!buf) {
        err = -errno;
        fprintf(stderr, "Failed to open ring buffer: %d\n", err);
        goto cleanup;
    }

    printf("%-8s %-5s %-7s %-7s %-5s %-16s %s\n", "TIME", "EVENT", "PID", "PPID", "UID", "COMM",
           "FILENAME");
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
    execve_bpf__destroy(skel);
    return err < 0 ? 1 : 0;
}
