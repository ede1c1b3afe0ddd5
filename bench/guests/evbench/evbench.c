// Event-delivery benchmark guest (`deno task bench`); bench/native/bench_native.c does the same
// natively. Usage: evbench.wasm <ring16|ring256|perf16|perf256> <driver-tgid> <rounds> <per-trigger>
// [<triggers>]
// Protocol on stdio, per round: the driver triggers `per-trigger` records `triggers` times (one
// getppid() each, on as many CPUs), writes a line; we drain them, timing only the drain, and print
// "next ns=T". Then IDLE_ROUNDS rounds with nothing to drain ("next"). At the end: "done
// records=N timed=R ns=T bad=B jumps=J emitted=E dropped=D", then we wait for one more line (the
// driver reads our peak RSS meanwhile) and exit.
#include <stdlib.h>
#include <time.h>
#include "../../../tests/guests/_common/host_abi.h"
#include "evbench.bpf.bytes.h"

#define IDLE_ROUNDS 8

struct bench_config {
  uint32_t tgid, count, mode, pad;
};

static uint64_t expected, got, seq_sum, jumps;
static unsigned char buf[256];

/* A jump: a record that does not follow the previous one (none with one producer CPU). The sum
 * of the sequence numbers checks that each record arrived exactly once. */
static int on_record(void *ctx, void *data, int size) {
  uint64_t seq;
  memcpy(&seq, data, sizeof seq);
  if (seq != expected) jumps++;
  expected = seq + 1;
  seq_sum += seq;
  got++;
  return 0;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr,
            "usage: evbench.wasm <ring16|ring256|perf16|perf256> <tgid> <rounds> <n> [triggers]\n");
    return 2;
  }
  const char *m = argv[1];
  uint32_t mode = !strcmp(m, "ring16") ? 1 : !strcmp(m, "ring256") ? 2 : !strcmp(m, "perf16") ? 3
                : !strcmp(m, "perf256") ? 4 : 0;
  if (!mode) {
    fprintf(stderr, "unknown mode %s\n", m);
    return 2;
  }
  struct bench_config cfg = {(uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[4]), mode, 0};
  int rounds = atoi(argv[3]);
  uint64_t per_round = (uint64_t)cfg.count * (uint64_t)(argc > 5 ? atoi(argv[5]) : 1);
  int64_t h = wasm_load_bpf_object(P(evbench_bpf_o), (int32_t)evbench_bpf_o_len);
  if (h <= 0) {
    fprintf(stderr, "load failed\n");
    return 1;
  }
  uint32_t k0 = 0;
  int fd_cfg = wasm_bpf_map_fd_by_name(h, P("config"));
  if (wasm_bpf_map_operate(fd_cfg, CMD_UPDATE, P(&k0), P(&cfg), 0, 0) != 0 ||
      wasm_attach_bpf_program(h, P("bench_trigger"), 0) < 0) {
    fprintf(stderr, "setup failed\n");
    return 1;
  }
  int fd = wasm_bpf_map_fd_by_name(h, P(mode <= 2 ? "ring" : "perf"));
  int cb = (int)(uintptr_t)&on_record;
  /* creates the poller (a perf buffer only sees records written after it is opened) */
  wasm_bpf_buffer_poll(h, fd, cb, 0, P(buf), sizeof buf, 0);
  printf("ready\n");
  fflush(stdout);
  char line[64];
  uint64_t timed = 0, total_ns = 0, total = 0;
  for (int r = 0; r < rounds; r++) {
    if (!fgets(line, sizeof line, stdin)) return 1;
    uint64_t target = got + per_round;
    int idle = 0;
    uint64_t t0 = now_ns();
    while (got < target && idle < 3) {
      int n = wasm_bpf_buffer_poll(h, fd, cb, 0, P(buf), sizeof buf, 1000);
      if (n < 0) {
        fprintf(stderr, "poll: %d\n", n);
        return 1;
      }
      if (n == 0) idle++;
    }
    uint64_t ns = now_ns() - t0;
    if (r > 0) { /* round 0 warms up (JIT tiers, caches) and is not timed */
      total_ns += ns;
      timed += per_round;
    }
    printf("next ns=%llu\n", (unsigned long long)ns);
    fflush(stdout);
  }
  /* idle rounds: the same stdio handshake with nothing to drain, so that the driver can take
   * the handshake's CPU time out of the per-record figure */
  for (int r = 0; r < IDLE_ROUNDS; r++) {
    if (!fgets(line, sizeof line, stdin)) return 1;
    wasm_bpf_buffer_poll(h, fd, cb, 0, P(buf), sizeof buf, 0);
    printf("next\n");
    fflush(stdout);
  }
  total = got;
  uint64_t emitted = 0, dropped = 0;
  uint32_t k1 = 1;
  int fd_stats = wasm_bpf_map_fd_by_name(h, P("stats"));
  wasm_bpf_map_operate(fd_stats, CMD_LOOKUP, P(&k0), P(&emitted), 0, 0);
  wasm_bpf_map_operate(fd_stats, CMD_LOOKUP, P(&k1), P(&dropped), 0, 0);
  int bad = seq_sum != (total ? total * (total - 1) / 2 : 0);
  printf("done records=%llu timed=%llu ns=%llu bad=%d jumps=%llu emitted=%llu dropped=%llu\n",
         (unsigned long long)total, (unsigned long long)timed, (unsigned long long)total_ns, bad,
         (unsigned long long)jumps, (unsigned long long)emitted, (unsigned long long)dropped);
  fflush(stdout);
  fgets(line, sizeof line, stdin);
  wasm_close_bpf_object(h);
  return 0;
}
