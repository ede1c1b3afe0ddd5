// Soak-test guest: polls a ring buffer fed by every syscall (of one process, or of all when
// tgid is 0) as fast as it comes; every RELOAD seconds it closes its object and loads it again
// (so object lifecycles are soaked too), and every second prints
// "stats t=<s> events=<n> polls=<n> reloads=<n> keys=<n>". Runs SECONDS seconds (0: forever).
// Usage: flood.wasm [tgid] [seconds] [reload-seconds]
#include <stdlib.h>
#include <time.h>
#include "../_common/host_abi.h"
#include "flood.bpf.bytes.h"

static unsigned long long events;
static unsigned char buf[64];

static int on_event(void *ctx, void *data, int size) {
  events++;
  return 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t open_flood(uint32_t tgid, int *ring, int *counts) {
  int64_t h = wasm_load_bpf_object(P(flood_bpf_o), (int32_t)flood_bpf_o_len);
  if (h <= 0) return 0;
  uint32_t k = 0;
  wasm_bpf_map_operate(wasm_bpf_map_fd_by_name(h, P("config")), CMD_UPDATE, P(&k), P(&tgid), 0, 0);
  if (wasm_attach_bpf_program(h, P("on_sys_enter"), 0) != 0) return 0;
  *ring = wasm_bpf_map_fd_by_name(h, P("events"));
  *counts = wasm_bpf_map_fd_by_name(h, P("counts"));
  return h;
}

int main(int argc, char **argv) {
  uint32_t tgid = argc > 1 ? (uint32_t)atoi(argv[1]) : 0;
  double seconds = argc > 2 ? atof(argv[2]) : 0;
  double reload = argc > 3 ? atof(argv[3]) : 10;
  int ring, counts;
  int64_t h = open_flood(tgid, &ring, &counts);
  if (!h) {
    printf("FAIL load/attach\n");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  double start = now(), last_print = start, last_reload = start;
  unsigned long long polls = 0, reloads = 0;
  int cb = (int)(uintptr_t)&on_event;
  for (;;) {
    int r = wasm_bpf_buffer_poll(h, ring, cb, 0, P(buf), sizeof buf, 100);
    polls++;
    if (r == E_INTR) break;
    if (r < 0) {
      printf("FAIL poll %d\n", r);
      return 1;
    }
    double t = now();
    if (t - last_print >= 1) {
      /* walk the counter map: GET_NEXT_KEY from NULL, LOOKUP each */
      uint32_t key, next;
      uint64_t value;
      int keys = 0, more = wasm_bpf_map_operate(counts, CMD_NEXT_KEY, 0, 0, P(&next), 0) == 0;
      while (more && keys < 2048) {
        key = next;
        wasm_bpf_map_operate(counts, CMD_LOOKUP, P(&key), P(&value), 0, 0);
        keys++;
        more = wasm_bpf_map_operate(counts, CMD_NEXT_KEY, P(&key), 0, P(&next), 0) == 0;
      }
      printf("stats t=%.0f events=%llu polls=%llu reloads=%llu keys=%d\n", t - start, events,
             polls, reloads, keys);
      fflush(stdout);
      last_print = t;
    }
    if (reload > 0 && t - last_reload >= reload) {
      wasm_close_bpf_object(h);
      h = open_flood(tgid, &ring, &counts);
      if (!h) {
        printf("FAIL reload\n");
        return 1;
      }
      reloads++;
      last_reload = t;
    }
    if (seconds > 0 && t - start >= seconds) break;
  }
  wasm_close_bpf_object(h);
  printf("done events=%llu reloads=%llu\n", events, reloads);
  return 0;
}
