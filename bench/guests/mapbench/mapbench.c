// Map-operation benchmark guest (`deno task bench`); bench/native/bench_native.c does the same
// natively. Usage: mapbench.wasm <ops> <walks>
// Fills a 10k-entry hash map, then times `ops` updates of existing keys, `ops` lookups, and
// `walks` full get_next_key walks, each through wasm_bpf_map_operate, and prints
// "result update_ns=.. updates=.. lookup_ns=.. lookups=.. next_ns=.. nexts=.. bad=..".
#include <stdlib.h>
#include <time.h>
#include "../../../tests/guests/_common/host_abi.h"
#include "mapbench.bpf.bytes.h"

#define ENTRIES 10000u

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: mapbench.wasm <ops> <walks>\n");
    return 2;
  }
  long ops = atol(argv[1]), walks = atol(argv[2]);
  int64_t h = wasm_load_bpf_object(P(mapbench_bpf_o), (int32_t)mapbench_bpf_o_len);
  if (h <= 0) {
    fprintf(stderr, "load failed\n");
    return 1;
  }
  int fd = wasm_bpf_map_fd_by_name(h, P("table"));
  uint32_t key, next;
  uint64_t val;
  int bad = 0;
  for (key = 0; key < ENTRIES; key++) {
    val = key;
    if (wasm_bpf_map_operate(fd, CMD_UPDATE, P(&key), P(&val), 0, 0) != 0) bad++;
  }
  /* warm-up, untimed: each command the timed phases run (the JIT compiles what it first sees
   * run; the first timed phase must not pay for all of it) */
  for (long i = 0; i < ops / 10; i++) {
    key = (uint32_t)((i * 7919) % ENTRIES);
    val = key;
    if (wasm_bpf_map_operate(fd, CMD_UPDATE, P(&key), P(&val), 0, 0) != 0) bad++;
    if (wasm_bpf_map_operate(fd, CMD_LOOKUP, P(&key), P(&val), 0, 0) != 0) bad++;
    int r = wasm_bpf_map_operate(fd, CMD_NEXT_KEY, i & 1 ? 0 : P(&key), 0, P(&next), 0);
    if (r != 0 && r != -2) bad++; /* -2: Linux ENOENT, the key was the last */
  }
  uint64_t t0 = now_ns();
  for (long i = 0; i < ops; i++) {
    key = (uint32_t)((i * 7919) % ENTRIES);
    val = (uint64_t)i;
    if (wasm_bpf_map_operate(fd, CMD_UPDATE, P(&key), P(&val), 0, 0) != 0) bad++;
  }
  uint64_t t1 = now_ns();
  for (long i = 0; i < ops; i++) {
    key = (uint32_t)((i * 7919) % ENTRIES);
    if (wasm_bpf_map_operate(fd, CMD_LOOKUP, P(&key), P(&val), 0, 0) != 0) bad++;
  }
  uint64_t t2 = now_ns();
  long nexts = 0;
  for (long w = 0; w < walks; w++) {
    uint32_t k = 0;
    int first = 1;
    for (;;) {
      int r = wasm_bpf_map_operate(fd, CMD_NEXT_KEY, first ? 0 : P(&k), 0, P(&next), 0);
      if (r != 0) break;
      first = 0;
      k = next;
      nexts++;
    }
  }
  uint64_t t3 = now_ns();
  if (nexts != walks * (long)ENTRIES) bad++;
  printf("result update_ns=%llu updates=%ld lookup_ns=%llu lookups=%ld next_ns=%llu nexts=%ld "
         "bad=%d\n",
         (unsigned long long)(t1 - t0), ops, (unsigned long long)(t2 - t1), ops,
         (unsigned long long)(t3 - t2), nexts, bad);
  fflush(stdout);
  wasm_close_bpf_object(h);
  return 0;
}
