// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bootstrap: trace process exec and exit (wasm-bpf guest).
 * Usage: bootstrap [-d MIN_DURATION_MS] [-v] [-h] */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bootstrap.h"
#include "bootstrap.skel.h"

static struct env {
    bool verbose;
    long min_duration_ms;
} env;

static void usage(FILE *f)
{
    fprintf(f,
            "BPF bootstrap demo application.\n"
            "\n"
            "It traces process start and exits and shows associated\n"
            "information (filename, process duration, PID and PPID, etc).\n"
            "\n"
            "USAGE: bootstrap [-d <min-duration-ms>] [-v] [-h]\n"
            "\n"
            "  -d, --duration MS  only report processes that ran at least MS ms\n"
            "                     (exec events are then not reported)\n"
            "  -v, --verbose      accepted, ignored\n"
            "  -h, --help         show this help\n");
}

static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            env.verbose = true;
        } else if (!strcmp(a, "-d") || !strcmp(a, "--duration") ||
                   !strncmp(a, "-d", 2) || !strncmp(a, "--duration=", 11)) {
            const char *val;
            char *end;
            if (!strcmp(a, "-d") || !strcmp(a, "--duration")) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "bootstrap: %s needs a value\n", a);
                    return -1;
                }
                val = argv[++i];
            } else {
                val = a[1] == 'd' ? a + 2 : a + 11;
            }
            errno = 0;
            env.min_duration_ms = strtol(val, &end, 10);
            if (errno || end == val || *end || env.min_duration_ms < 0) {
                fprintf(stderr, "bootstrap: invalid duration: %s\n", val);
                return -1;
            }
        } else {
            fprintf(stderr, "bootstrap: unknown argument: %s\n", a);
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

static int handle_event(void *ctx, void *data, size_t data_sz)
{
    const struct event *e = data;
    char ts[32];
    struct tm *tm;
    time_t t;

    (void)ctx;
    if (data_sz < sizeof(*e))
        return 0;

    time(&t);
    tm = localtime(&t);
    strftime(ts, sizeof(ts), "%H:%M:%S", tm);

    if (e->exit_event) {
        printf("%-8s %-5s %-16s %-7d %-7d [%u]", ts, "EXIT", e->comm, e->pid, e->ppid,
               e->exit_code);
        if (e->duration_ns)
            printf(" (%llums)", e->duration_ns / 1000000);
        printf("\n");
    } else {
        printf("%-8s %-5s %-16s %-7d %-7d %s\n", ts, "EXEC", e->comm, e->pid, e->ppid,
               e->filename);
    }
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    struct bpf_buffer *rb = NULL;
    struct bootstrap_bpf *skel;
    int err;

    err = parse_args(argc, argv);
    if (err)
        return err > 0 ? 0 : 1;

    skel = bootstrap_bpf__open();
    if (!skel) {
        fprintf(stderr, "Failed to open BPF skeleton\n");
        return 1;
    }

    /* Parameterize the BPF code before load (patches the embedded .rodata) */
    skel->rodata->min_duration_ns = env.min_duration_ms * 1000000ULL;

    err = bootstrap_bpf__load(skel);
    if (err) {
        fprintf(stderr, "Failed to load and verify BPF skeleton\n");
        goto cleanup;
    }

    err = bootstrap_bpf__attach(skel);
    if (err) {
        fprintf(stderr, "Failed to attach BPF skeleton: %d\n", err);
        goto cleanup;
    }

    rb = bpf_buffer__open(skel->maps.rb, handle_event, NULL);
    if (!rb) {
        err = -errno;
        fprintf(stderr, "Failed to create ring buffer: %d\n", err);
        goto cleanup;
    }

    printf("%-8s %-5s %-16s %-7s %-7s %s\n", "TIME", "EVENT", "COMM", "PID", "PPID",
           "FILENAME/EXIT CODE");
    fflush(stdout);
    for (;;) {
        err = bpf_buffer__poll(rb, 100 /* ms */);
        if (err == -EINTR) { /* Ctrl-C: stop and clean up */
            err = 0;
            break;
        }
        if (err < 0) {
            fprintf(stderr, "Error polling ring buffer: %d\n", err);
            break;
        }
    }

cleanup:
    bpf_buffer__free(rb);
    bootstrap_bpf__destroy(skel);
    return err < 0 ? -err : (err ? 1 : 0);
}
