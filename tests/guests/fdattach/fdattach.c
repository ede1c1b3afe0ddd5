// Test guest of the fd-based attach (tests/fd_attach_test.ts), built against
// wasm-include/libbpf-wasm.h as upstream's current C SDK builds guests.
//   fdattach GUEST_DIR MODE [SECONDS]
// It finds the preopen GUEST_DIR by walking fd_prestat_get / fd_prestat_dir_name from fd 3, as
// upstream's guests do ("preopen FD"), then by MODE:
//   refusals  try every descriptor the host must refuse ("refused WHAT R", R the raw result),
//             then attach as `attach` does;
//   sealed    try to open, create and list beneath GUEST_DIR ("WHAT ERRNO"), then attach;
//   attach    attach both cgroup_skb programs through the preopen's fd (skeleton);
//   reuse     close the preopen, open /tmp (a --dir too) at the same number, try it, exit;
//   auto      attach only the tracepoint, with fd -1 (auto-attach from its section).
// After attaching it prints "attached", then waits (up to SECONDS, default 20) until the
// counters show 3 packets in and 3 out (cgroup modes) or one bpf() call (auto), prints them and
// exits 0 (3 if they never did; 0 at once with SECONDS 0).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>
#include "libbpf-wasm.h"
#include "fdattach.skel.h"

#define UNOPENED_FD 999999

static int find_preopen(const char *guest_path)
{
    char name[256];
    for (__wasi_fd_t fd = 3;; fd++) {
        __wasi_prestat_t st;
        if (__wasi_fd_prestat_get(fd, &st) != 0)
            return -1; /* EBADF: the end of the preopens */
        size_t len = st.u.dir.pr_name_len;
        if (st.tag != __WASI_PREOPENTYPE_DIR || len >= sizeof(name))
            continue;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, len) != 0)
            continue;
        name[len] = 0;
        if (strcmp(name, guest_path) == 0)
            return (int)fd;
    }
}

static const char *errname(int e)
{
    return e == ENOTCAPABLE ? "ENOTCAPABLE" : strerror(e);
}

static void refused(struct fdattach_bpf *skel, const char *what, int fd)
{
    printf("refused %s %d\n", what, wasm_attach_bpf_program_fd(skel->skeleton->obj, "count_egress", fd));
}

static void try_refusals(struct fdattach_bpf *skel, const char *dir)
{
    char path[512];
    refused(skel, "unopened", UNOPENED_FD);
    refused(skel, "stdin", 0);
    refused(skel, "stdout", 1);
    refused(skel, "stderr", 2);
    snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
    int file = open(path, O_RDONLY);
    printf("opened file %s\n", file >= 0 ? "yes" : errname(errno));
    refused(skel, "file", file);
    /* the very same cgroup, opened by the guest itself: not the host's preopen */
    int own = open(dir, O_RDONLY | O_DIRECTORY);
    printf("opened dir %s\n", own >= 0 ? "yes" : errname(errno));
    refused(skel, "own-dir", own);
    printf("refused xdp %d\n", wasm_attach_bpf_program_fd(skel->skeleton->obj, "xdp_pass", find_preopen(dir)));
    fflush(stdout);
}

static void try_sealed(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
    printf("open %s\n", open(path, O_RDONLY) >= 0 ? "ok" : errname(errno));
    printf("open-dir %s\n", open(dir, O_RDONLY | O_DIRECTORY) >= 0 ? "ok" : errname(errno));
    snprintf(path, sizeof(path), "%s/made-by-guest", dir);
    printf("mkdir %s\n", mkdir(path, 0755) == 0 ? "ok" : errname(errno));
    snprintf(path, sizeof(path), "%s/new-file", dir);
    printf("create %s\n", open(path, O_WRONLY | O_CREAT, 0644) >= 0 ? "ok" : errname(errno));
    DIR *d = opendir(dir);
    printf("readdir %s\n", d ? "ok" : errname(errno));
    fflush(stdout);
}

static unsigned long long count(int map, uint32_t key)
{
    unsigned long long n = 0;
    bpf_map_lookup_elem(map, &key, &n);
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: fdattach GUEST_DIR refusals|sealed|attach|auto [SECONDS]\n");
        return 2;
    }
    const char *dir = argv[1], *mode = argv[2];
    int cgfd = find_preopen(dir);
    printf("preopen %d\n", cgfd);
    if (strcmp(mode, "sealed") == 0)
        try_sealed(dir);

    struct fdattach_bpf *skel = fdattach_bpf__open_and_load();
    if (!skel) {
        fprintf(stderr, "cannot load the object\n");
        return 1;
    }
    if (strcmp(mode, "refusals") == 0)
        try_refusals(skel, dir);
    if (strcmp(mode, "reuse") == 0) {
        /* the number of the preopen, now naming a directory the guest opened itself */
        close(cgfd);
        int again = open("/tmp", O_RDONLY | O_DIRECTORY);
        printf("reopened %s\n", again == cgfd ? "same" : "other");
        refused(skel, "reused", again);
        fdattach_bpf__destroy(skel);
        return 0;
    }
    bpf_program__set_autoattach(skel->progs.xdp_pass, false);
    bool autoattach = strcmp(mode, "auto") == 0;
    if (autoattach) {
        bpf_program__set_autoattach(skel->progs.count_ingress, false);
        bpf_program__set_autoattach(skel->progs.count_egress, false);
        bpf_set_prog_attach_target_fd(skel->progs.count_bpf, -1);
    } else {
        bpf_program__set_autoattach(skel->progs.count_bpf, false);
        bpf_set_prog_attach_target_fd(skel->progs.count_ingress, cgfd);
        bpf_set_prog_attach_target_fd(skel->progs.count_egress, cgfd);
    }
    int err = fdattach_bpf__attach(skel);
    if (err) {
        printf("attach failed: %s\n", errname(-err));
        fdattach_bpf__destroy(skel);
        return 1;
    }
    printf("attached\n");
    fflush(stdout);

    int map = bpf_map__fd(skel->maps.counts);
    int tenths = argc == 4 ? atoi(argv[3]) * 10 : 200;
    int ok = tenths == 0;
    for (int i = 0; i < tenths && !ok; i++) {
        ok = autoattach ? count(map, 2) >= 1 : count(map, 0) >= 3 && count(map, 1) >= 3;
        if (!ok)
            usleep(100 * 1000);
    }
    printf("counts in %llu out %llu bpf %s\n", count(map, 0), count(map, 1),
           count(map, 2) ? "yes" : "no");
    fdattach_bpf__destroy(skel);
    return ok ? 0 : 3;
}
