// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* opensnoop: trace openat() calls (wasm-bpf guest), after libbpf-tools' opensnoop.
 * Usage: opensnoop [-p PID] [-n NAME] [-x] [-U] [-h] */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "opensnoop.h"
#include "opensnoop.skel.h"

static struct env {
    int pid;
    const char *name;
    bool failed;
    bool print_uid;
} env;

static const char usage[] =
    "Trace openat() calls.\n"
    "\n"
    "USAGE: opensnoop [-p PID] [-n NAME] [-x] [-U] [-h]\n"
    "\n"
    "  -p PID   trace this process only\n"
    "  -n NAME  trace this command name only (exact, up to 15 characters)\n"
    "  -x       only failed opens\n"
    "  -U       print the UID\n"
    "  -h       this help\n";

static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 1;
        } else if (!strcmp(a, "-x")) {
            env.failed = true;
        } else if (!strcmp(a, "-U")) {
            env.print_uid = true;
        } else if ((!strcmp(a, "-p") || !strcmp(a, "-n")) && i + 1 < argc) {
            const char *v = argv[++i];
            if (a[1] == 'n') {
                if (!*v || strlen(v) >= TASK_COMM_LEN) {
                    fprintf(stderr, "opensnoop: invalid name: %s\n", v);
                    return -1;
                }
                env.name = v;
            } else {
                char *end;
                long pid = strtol(v, &end, 10);
                if (end == v || *end || pid <= 0 || pid > 0x7fffffff) {
                    fprintf(stderr, "opensnoop: invalid PID: %s\n", v);
                    return -1;
                }
                env.pid = (int)pid;
            }
        } else {
            fprintf(stderr, "opensnoop: bad argument: %s\n%s", a, usage);
            return -1;
        }
    }
    return 0;
}

static int handle_event(void *ctx, void *data, size_t size)
{
    const struct event *e = data;
    int fd, err;

    (void)ctx;
    if (size < sizeof(*e))
        return 0;
    fd = e->ret >= 0 ? e->ret : -1;
    err = e->ret >= 0 ? 0 : -e->ret;
    if (env.print_uid)
        printf("%-7u ", e->uid);
    printf("%-6d %-16s %3d %3d %s\n", e->pid, e->comm, fd, err, e->fname);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    struct bpf_buffer *buf = NULL;
    struct opensnoop_bpf *obj;
    int err;

    err = parse_args(argc, argv);
    if (err)
        return err > 0 ? 0 : 1;

    obj = opensnoop_bpf__open();
    if (!obj) {
        fprintf(stderr, "failed to open BPF object\n");
        return 1;
    }
    /* filters: written into the object's .rodata before load */
    obj->rodata->targ_tgid = env.pid;
    obj->rodata->targ_failed = env.failed;
    if (env.name)
        strncpy((char *)obj->rodata->targ_comm, env.name, TASK_COMM_LEN - 1);

    err = opensnoop_bpf__load(obj);
    if (err) {
        fprintf(stderr, "failed to load BPF object: %d\n", err);
        goto cleanup;
    }
    err = opensnoop_bpf__attach(obj);
    if (err) {
        fprintf(stderr, "failed to attach BPF programs: %d\n", err);
        goto cleanup;
    }
    buf = bpf_buffer__open(obj->maps.events, handle_event, NULL);
    if (!buf) {
        err = -errno;
        fprintf(stderr, "failed to open perf buffer: %d\n", err);
        goto cleanup;
    }

    /* A perf buffer only receives records once its per-CPU buffers exist, which the host
     * creates at the first poll: poll once (without waiting) before announcing that we
     * are tracing. */
    err = bpf_buffer__poll(buf, 0);
    if (err < 0) {
        fprintf(stderr, "error polling perf buffer: %s\n", strerror(-err));
        goto cleanup;
    }

    if (env.print_uid)
        printf("%-7s ", "UID");
    printf("%-6s %-16s %3s %3s %s\n", "PID", "COMM", "FD", "ERR", "PATH");
    fflush(stdout);
    for (;;) {
        err = bpf_buffer__poll(buf, 100);
        if (err == -EINTR) { /* Ctrl-C */
            err = 0;
            break;
        }
        if (err < 0) {
            fprintf(stderr, "error polling perf buffer: %s\n", strerror(-err));
            break;
        }
    }

cleanup:
    bpf_buffer__free(buf);
    opensnoop_bpf__destroy(obj);
    return err < 0 ? 1 : 0;
}
