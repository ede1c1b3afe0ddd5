// Host-ABI test guest: fds inside map keys and values. The kernel reads them as fds of the
// host process, so the host must accept only fds of this guest's own maps, programs and links.
// Usage: mapfds.wasm victim          load the object, print "victim fd=<inner map fd>", sleep
//        mapfds.wasm attack [fd...]  check that own fds are accepted and that fds 0, 1, 2 and
//                                    every fd given are refused with EBADF in every map type
//                                    whose key or value is an fd
// Prints "ok <check>" or "FAIL <check> got=... want=..." per check; exits 1 on any failure.
#include <stdlib.h>
#include <unistd.h>
#include "../_common/host_abi.h"
#include "mapfds.bpf.bytes.h"

struct devmap_val { /* struct bpf_devmap_val and bpf_cpumap_val: a u32, then a program fd */
  uint32_t first;
  int32_t prog_fd;
};

static int64_t h;

static int fd_of(int64_t handle, const char *name) {
  return wasm_bpf_map_fd_by_name(handle, P(name));
}
static int update(const char *map, const void *key, const void *val) {
  return wasm_bpf_map_operate(fd_of(h, map), CMD_UPDATE, P(key), P(val), 0, 0);
}
static int lookup(const char *map, const void *key, void *val) {
  return wasm_bpf_map_operate(fd_of(h, map), CMD_LOOKUP, P(key), P(val), 0, 0);
}
static int delete(const char *map, const void *key) {
  return wasm_bpf_map_operate(fd_of(h, map), CMD_DELETE, P(key), 0, 0, 0);
}

static char name[128], check_name[160];
static const char *named(const char *what, int fd) {
  snprintf(check_name, sizeof check_name, "%s.fd_%d", what, fd);
  return check_name;
}

/* Every way of handing the kernel `fd` through a map: each must be refused with EBADF. */
static void refused_everywhere(int fd) {
  uint32_t k0 = 0, v32 = (uint32_t)fd;
  uint64_t v64 = (uint64_t)(uint32_t)fd, out = 0;
  static const char *u32_value_maps[] = {"outer_hash", "outer_array", "prog_array",
                                          "perf_array", "cgroup_array", "sock_map",
                                          "sock_hash", "reuseport_array", "xsk_map"};
  for (unsigned i = 0; i < sizeof u32_value_maps / sizeof u32_value_maps[0]; i++) {
    snprintf(name, sizeof name, "%s.update", u32_value_maps[i]);
    check_eq(named(name, fd), update(u32_value_maps[i], &k0, &v32), E_BADF);
  }
  check_eq(named("sock_map64.update", fd), update("sock_map64", &k0, &v64), E_BADF);
  if (fd > 0) { /* the kernel reads a devmap/cpumap program fd only when it is > 0 */
    struct devmap_val dv = {1, fd}, cv = {192, fd};
    check_eq(named("dev_map.update_prog", fd), update("dev_map", &k0, &dv), E_BADF);
    check_eq(named("dev_map_hash.update_prog", fd), update("dev_map_hash", &k0, &dv), E_BADF);
    check_eq(named("cpu_map.update_prog", fd), update("cpu_map", &k0, &cv), E_BADF);
  }
  int key = fd;
  static const char *fd_key_maps[] = {"sk_storage", "task_storage", "cgrp_storage"};
  for (unsigned i = 0; i < sizeof fd_key_maps / sizeof fd_key_maps[0]; i++) {
    snprintf(name, sizeof name, "%s.lookup", fd_key_maps[i]);
    check_eq(named(name, fd), lookup(fd_key_maps[i], &key, &out), E_BADF);
    snprintf(name, sizeof name, "%s.update", fd_key_maps[i]);
    check_eq(named(name, fd), update(fd_key_maps[i], &key, &out), E_BADF);
    snprintf(name, sizeof name, "%s.delete", fd_key_maps[i]);
    check_eq(named(name, fd), delete(fd_key_maps[i], &key), E_BADF);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    printf("usage: mapfds.wasm victim | attack [fd...]\n");
    return 2;
  }
  h = wasm_load_bpf_object(P(mapfds_bpf_o), (int32_t)mapfds_bpf_o_len);
  check_true("load", h > 0, h);
  if (h <= 0) return finish();
  int inner = fd_of(h, "inner");
  if (strcmp(argv[1], "victim") == 0) {
    printf("victim fd=%d\n", inner);
    fflush(stdout);
    for (;;) sleep(1);
  }

  /* --- own fds are accepted: maps of this object and of another object of this guest --- */
  int64_t h2 = wasm_load_bpf_object(P(mapfds_bpf_o), (int32_t)mapfds_bpf_o_len);
  check_true("load.second", h2 > 0, h2);
  uint32_t k0 = 0, k1 = 1, own = (uint32_t)inner, own2 = (uint32_t)fd_of(h2, "inner");
  check_eq("own.outer_hash", update("outer_hash", &k0, &own), 0);
  check_eq("own.outer_hash_other_object", update("outer_hash", &k1, &own2), 0);
  check_eq("own.outer_array", update("outer_array", &k0, &own), 0);
  /* fields that hold no fd are not checked */
  struct devmap_val no_prog = {1, -1}, no_prog0 = {1, 0};
  uint32_t ifindex = 1;
  check_true("nofd.dev_map_prog_minus_1", update("dev_map", &k0, &no_prog) != E_BADF, 0);
  check_true("nofd.dev_map_prog_0", update("dev_map", &k0, &no_prog0) != E_BADF, 0);
  check_true("nofd.dev_map_plain", update("dev_map_plain", &k0, &ifindex) != E_BADF, 0);
  /* of every fd number, prog_array takes exactly two: the programs of this guest's two
   * objects (the host refuses the fds of other programs of the process; maps are not
   * programs, so the kernel refuses those) */
  int accepted = 0;
  for (uint32_t fd = 0; fd < 1024; fd++)
    if (update("prog_array", &k0, &fd) == 0) accepted++;
  check_eq("own.prog_array_takes_only_own_programs", accepted, 2);
  /* a u64 fd is a u64: own fd + 2^32 is not an fd this guest owns */
  uint64_t own_high = ((uint64_t)1 << 32) | own;
  check_eq("u64.own_fd_plus_2_pow_32", update("sock_map64", &k0, &own_high), E_BADF);

  /* --- the host's fds and every fd given on the command line are refused --- */
  for (int fd = 0; fd <= 2; fd++) refused_everywhere(fd);
  for (int i = 2; i < argc; i++) refused_everywhere(atoi(argv[i]));
  return finish();
}
