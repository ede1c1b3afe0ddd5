// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* runqlat: summarize run queue (scheduler) latency as a histogram.
 * A wasm-bpf guest port of libbpf-tools' runqlat (after Brendan Gregg's BCC
 * tool); same options (except -c) and the same output. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "runqlat.h"
#include "runqlat.skel.h"

static struct env {
    long interval;
    long times;
    int pid;
    bool milliseconds;
    bool per_process;
    bool per_thread;
    bool per_pidns;
    bool timestamp;
    bool verbose;
} env = {
    .interval = 99999999,
    .times = 99999999,
};

static const char doc[] =
    "Summarize run queue (scheduler) latency as a histogram.\n"
    "\n"
    "USAGE: runqlat [--help] [-T] [-m] [--pidnss] [-L] [-P] [-p PID] [interval]\n"
    "[count]\n"
    "\n"
    "EXAMPLES:\n"
    "    runqlat         # summarize run queue latency as a histogram\n"
    "    runqlat 1 10    # print 1 second summaries, 10 times\n"
    "    runqlat -mT 1   # 1s summaries, milliseconds, and timestamps\n"
    "    runqlat -P      # show each PID separately\n"
    "    runqlat -p 185  # trace PID 185 only\n"
    "\n"
    "  -L, --tids                 Print a histogram per thread ID\n"
    "  -m, --milliseconds         Millisecond histogram\n"
    "      --pidnss               Print a histogram per PID namespace\n"
    "  -p, --pid=PID              Trace this PID only\n"
    "  -P, --pids                 Print a histogram per process ID\n"
    "  -T, --timestamp            Include timestamp on output\n"
    "  -v, --verbose              Verbose debug output\n"
    "  -h, -?, --help             Give this help list\n"
    "  -V, --version              Print program version\n";

static int parse_long(const char *s, long min, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min)
        return -1;
    *out = v;
    return 0;
}

/* 1: exit 0 (help), -1: error, 0: go */
static int parse_args(int argc, char **argv)
{
    int pos = 0;

    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        long v;

        if (a[0] == '-' && a[1] == '-' && a[2]) {
            char *val = strchr(a, '=');
            if (!strcmp(a, "--help")) {
                printf("Usage: runqlat [OPTION...]\n%s", doc);
                return 1;
            } else if (!strcmp(a, "--version")) {
                printf("runqlat 0.1\n");
                return 1;
            } else if (!strcmp(a, "--timestamp")) {
                env.timestamp = true;
            } else if (!strcmp(a, "--milliseconds")) {
                env.milliseconds = true;
            } else if (!strcmp(a, "--pids")) {
                env.per_process = true;
            } else if (!strcmp(a, "--tids")) {
                env.per_thread = true;
            } else if (!strcmp(a, "--pidnss")) {
                env.per_pidns = true;
            } else if (!strcmp(a, "--verbose")) {
                env.verbose = true;
            } else if (!strncmp(a, "--pid", 5) && (a[5] == '=' || !a[5])) {
                const char *s = val ? val + 1 : (i + 1 < argc ? argv[++i] : NULL);
                if (!s || parse_long(s, 1, &v) || v > INT_MAX) {
                    fprintf(stderr, "Invalid PID: %s\n", s ? s : "(none)");
                    return -1;
                }
                env.pid = (int)v;
            } else {
                fprintf(stderr, "runqlat: unrecognized option '%s'\n", a);
                fprintf(stderr, "Try `runqlat --help' for more information.\n");
                return -1;
            }
            continue;
        }
        if (a[0] == '-' && a[1]) {
            /* bundled short options: -mT, -p185, -p 185 */
            for (char *c = a + 1; *c; c++) {
                switch (*c) {
                case 'h':
                case '?':
                    printf("Usage: runqlat [OPTION...]\n%s", doc);
                    return 1;
                case 'V':
                    printf("runqlat 0.1\n");
                    return 1;
                case 'T': env.timestamp = true; break;
                case 'm': env.milliseconds = true; break;
                case 'P': env.per_process = true; break;
                case 'L': env.per_thread = true; break;
                case 'v': env.verbose = true; break;
                case 'p': {
                    const char *s = c[1] ? c + 1 : (i + 1 < argc ? argv[++i] : NULL);
                    if (!s || parse_long(s, 1, &v) || v > INT_MAX) {
                        fprintf(stderr, "Invalid PID: %s\n", s ? s : "(none)");
                        return -1;
                    }
                    env.pid = (int)v;
                    c += strlen(c) - 1; /* rest of this argument was the value */
                    break;
                }
                case 'c':
                    fprintf(stderr, "runqlat: -c (cgroup filter) is not supported "
                                    "in the wasm port\n");
                    return -1;
                default:
                    fprintf(stderr, "runqlat: invalid option -- '%c'\n", *c);
                    fprintf(stderr, "Try `runqlat --help' for more information.\n");
                    return -1;
                }
            }
            continue;
        }
        /* positional: interval, then count */
        if (pos == 0) {
            if (parse_long(a, 1, &v)) {
                fprintf(stderr, "invalid internal\n");
                return -1;
            }
            env.interval = v;
        } else if (pos == 1) {
            if (parse_long(a, 1, &v)) {
                fprintf(stderr, "invalid times\n");
                return -1;
            }
            env.times = v;
        } else {
            fprintf(stderr, "unrecognized positional argument: %s\n", a);
            return -1;
        }
        pos++;
    }

    if ((env.per_thread && (env.per_process || env.per_pidns)) ||
        (env.per_process && env.per_pidns)) {
        fprintf(stderr, "pidnss, pids, tids cann't be used together.\n");
        return -1;
    }
    return 0;
}

/* ---- log2 histogram, same format as libbpf-tools' print_log2_hist ---- */

static void print_bar(unsigned int val, unsigned int val_max, int width)
{
    unsigned int shown = val < val_max ? val : val_max;
    int stars = val_max ? (int)((unsigned long long)shown * width / val_max) : 0;

    for (int i = 0; i < width; i++)
        putchar(i < stars ? '*' : ' ');
    if (val > val_max)
        putchar('+');
}

static void print_log2_hist(const unsigned int *vals, int n, const char *unit)
{
    unsigned int val_max = 0;
    int last = -1;

    for (int i = 0; i < n; i++) {
        if (vals[i])
            last = i;
        if (vals[i] > val_max)
            val_max = vals[i];
    }
    if (last < 0)
        return;

    bool wide = last > 32;
    int col = wide ? 20 : 10;
    printf("%*s%-*s : count    distribution\n", wide ? 15 : 5, "", wide ? 29 : 19, unit);
    for (int i = 0; i <= last; i++) {
        unsigned long long lo = (1ULL << (i + 1)) >> 1;
        unsigned long long hi = (1ULL << (i + 1)) - 1;
        if (lo == hi)
            lo--;
        printf("%*llu -> %-*llu : %-8u |", col, lo, col, hi, vals[i]);
        print_bar(vals[i], val_max, wide ? 20 : 40);
        printf("|\n");
    }
}

static int print_hists(struct bpf_map *hists)
{
    const char *units = env.milliseconds ? "msecs" : "usecs";
    int fd = bpf_map__fd(hists);
    unsigned int key, next;
    struct hist hist;
    int err;

    if (fd < 0) {
        fprintf(stderr, "failed to get hists map fd: %d\n", fd);
        return fd;
    }

    /* print every histogram (NULL key: start from the first one) */
    for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
         err = bpf_map_get_next_key(fd, &key, &next)) {
        err = bpf_map_lookup_elem(fd, &next, &hist);
        if (err < 0) {
            fprintf(stderr, "failed to lookup hist: %d\n", err);
            return -1;
        }
        if (env.per_process)
            printf("\npid = %d %.*s\n", (int)next, TASK_COMM_LEN, hist.comm);
        else if (env.per_thread)
            printf("\ntid = %d %.*s\n", (int)next, TASK_COMM_LEN, hist.comm);
        else if (env.per_pidns)
            printf("\npidns = %u %.*s\n", next, TASK_COMM_LEN, hist.comm);
        print_log2_hist(hist.slots, MAX_SLOTS, units);
        key = next;
    }

    /* then clear them: always delete the first key until the map is empty */
    while (!bpf_map_get_next_key(fd, NULL, &next)) {
        err = bpf_map_delete_elem(fd, &next);
        if (err < 0 && err != -ENOENT) {
            fprintf(stderr, "failed to cleanup hist : %d\n", err);
            return -1;
        }
    }
    return 0;
}

/* Sleep for `seconds`; false when the sleep was cut short (Ctrl-C).
 * wasi-libc reports any failure of the underlying poll_oneoff as ENOTSUP,
 * not EINTR, so any failure counts as an interruption. */
static bool sleep_seconds(long seconds)
{
    struct timespec ts = { .tv_sec = seconds, .tv_nsec = 0 };

    return nanosleep(&ts, NULL) == 0;
}

int main(int argc, char **argv)
{
    struct runqlat_bpf *obj;
    bool exiting = false;
    char ts[32];
    struct tm *tm;
    time_t t;
    int err;

    err = parse_args(argc, argv);
    if (err)
        return err > 0 ? 0 : 1;

    obj = runqlat_bpf__open();
    if (!obj) {
        fprintf(stderr, "failed to open BPF object\n");
        return 1;
    }

    /* filtering options, patched into .rodata before load */
    obj->rodata->targ_per_process = env.per_process;
    obj->rodata->targ_per_thread = env.per_thread;
    obj->rodata->targ_per_pidns = env.per_pidns;
    obj->rodata->targ_ms = env.milliseconds;
    obj->rodata->targ_tgid = env.pid;

    err = runqlat_bpf__load(obj);
    if (err) {
        fprintf(stderr, "failed to load BPF object: %d\n", err);
        goto cleanup;
    }

    err = runqlat_bpf__attach(obj);
    if (err) {
        fprintf(stderr, "failed to attach BPF programs\n");
        goto cleanup;
    }

    printf("Tracing run queue latency... Hit Ctrl-C to end.\n");
    fflush(stdout);

    for (;;) {
        if (!sleep_seconds(env.interval))
            exiting = true;
        printf("\n");

        if (env.timestamp) {
            time(&t);
            tm = localtime(&t);
            strftime(ts, sizeof(ts), "%H:%M:%S", tm);
            printf("%-8s\n", ts);
        }

        err = print_hists(obj->maps.hists);
        fflush(stdout);
        if (err)
            break;
        if (exiting || --env.times == 0)
            break;
    }

cleanup:
    runqlat_bpf__destroy(obj);
    return err != 0;
}
