// Host-ABI test guest: callbacks that block, as code at top level may. Usage:
//   blocking.wasm <tgid> <mode> [count]
// The guest prints "ready" once attached; the test then makes the records (count of them,
// default 3: sched_get_priority_max(arg), see blocking.bpf.c). Modes:
//   sleep      ring_a's callback sleeps 20 ms (usleep: poll_oneoff) per record
//   perf-sleep the same for the perf buffer
//   sleep-long ring_a's callback prints "sleeping" and sleeps 100 s (the test stops the run)
//   stdin      ring_a's callback reads a line from stdin per record
//   nested     ring_a's callback polls ring_b (whose callback sleeps 1 ms), waiting up to 100 ms
//   reenter    ring_a's callback for the first record polls ring_a itself: the others arrive
//              there, once each, in order
//   mapop      ring_a's callback stores each record's seq in map `seen` and reads it back
//   close      ring_a's callback closes the object at the first record: that poll returns
//              -EINVAL and delivers nothing more
//   badcb      polls with callbacks that cannot be called: every poll must return -EINVAL
//   flood      ring_a's callback writes 4 MiB to stdout per record, as 64 KiB blocks of lines
//              "%015d\n" of a block counter, reporting "wrote <bytes>" on stderr after each:
//              with a slow library reader the writes wait inside the callback
// Per record: "<tag> seq=.. arg=.. depth=..". At the end: "done got=.. order_bad=.. ..." and
// status 0 when every check held.
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "../_common/host_abi.h"
#include "../_common/syscall_tp.h"
#include "blocking.bpf.bytes.h"

static int64_t h;
static int fd_a, fd_b, fd_perf, fd_seen;
static const char *mode = "";
static int got_a, got_b, got_perf, order_bad, depth, slept_short, map_bad, inner_polls;
static unsigned char buf_a[64], buf_b[64], buf_perf[64];

static int is(const char *m) { return strcmp(mode, m) == 0; }

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Sleeps ms milliseconds; counts a sleep that came back early. */
static void nap(int ms) {
  long long t0 = now_ms();
  usleep(ms * 1000);
  if (now_ms() - t0 < ms - 1) slept_short++;
}

static void show(const struct test_event *e) {
  printf("%.8s seq=%u arg=%llu depth=%d\n", e->tag, e->seq, (unsigned long long)e->arg, depth);
  fflush(stdout);
}

#define FLOOD_BLOCK 65536
static char flood_block[FLOOD_BLOCK + 1]; // + 1: the NUL after the last line
static long flood_blocks, flood_failed;

/* Writes 4 MiB to stdout (see "flood" above). */
static void flood(void) {
  for (int b = 0; b < 64 && !flood_failed; b++, flood_blocks++) {
    for (int line = 0; line < FLOOD_BLOCK / 16; line++) {
      snprintf(flood_block + line * 16, 17, "%015ld\n", flood_blocks);
    }
    for (size_t off = 0; off < FLOOD_BLOCK;) {
      ssize_t n = write(1, flood_block + off, FLOOD_BLOCK - off);
      if (n < 0) {
        fprintf(stderr, "write failed: %s\n", strerror(errno));
        flood_failed++;
        break;
      }
      off += (size_t)n;
    }
    fprintf(stderr, "wrote %ld\n", (flood_blocks + 1) * FLOOD_BLOCK);
  }
}

static int on_b(void *ctx, void *data, int size) {
  struct test_event *e = data;
  show(e);
  if (e->seq != (unsigned)got_b) order_bad++;
  got_b++;
  nap(1);
  return 0;
}

static int on_a(void *ctx, void *data, int size) {
  struct test_event e;
  memcpy(&e, data, sizeof e);
  if (is("flood")) { // stdout carries only the blocks
    if (e.seq != (unsigned)got_a) order_bad++;
    got_a++;
    flood();
    return 0;
  }
  show(&e);
  if (e.seq != (unsigned)got_a) order_bad++;
  got_a++;
  depth++;
  if (is("sleep")) nap(20);
  if (is("sleep-long")) {
    printf("sleeping\n");
    fflush(stdout);
    sleep(100);
    printf("sleep returned\n");
  }
  if (is("stdin")) {
    char line[64];
    if (!fgets(line, sizeof line, stdin)) line[0] = 0;
    printf("read %s", line);
  }
  if (is("nested")) {
    int r = wasm_bpf_buffer_poll(h, fd_b, (int)(uintptr_t)&on_b, 0, P(buf_b), sizeof buf_b, 100);
    printf("inner poll=%d\n", r);
    inner_polls++;
  }
  if (is("reenter") && e.seq == 0) {
    int r = wasm_bpf_buffer_poll(h, fd_a, (int)(uintptr_t)&on_a, 0, P(buf_a), sizeof buf_a, 0);
    printf("inner poll=%d\n", r);
    inner_polls++;
  }
  if (is("mapop")) {
    uint32_t key = e.seq;
    uint64_t val = e.arg, back = 0;
    int u = wasm_bpf_map_operate(fd_seen, CMD_UPDATE, P(&key), P(&val), 0, 0);
    int l = wasm_bpf_map_operate(fd_seen, CMD_LOOKUP, P(&key), P(&back), 0, 0);
    printf("map update=%d lookup=%d back=%llu\n", u, l, (unsigned long long)back);
    if (u != 0 || l != 0 || back != val) map_bad++;
  }
  if (is("close")) {
    printf("close in callback=%d\n", wasm_close_bpf_object(h));
    h = 0;
  }
  depth--;
  fflush(stdout);
  return 0;
}

static int on_perf(void *ctx, void *data, int size) {
  struct test_event *e = data;
  show(e);
  if (e->seq != (unsigned)got_perf) order_bad++;
  got_perf++;
  nap(20);
  return 0;
}

/* Not the callback type: (i64) -> i64. */
static int64_t wrong_type(int64_t x) { return x + 1; }

static int bad_callbacks(void) {
  /* wasm-ld leaves entry 0 of the table empty; the table is far smaller than 1 << 20 */
  int idx[] = {0, 1 << 20, -1, (int)(uintptr_t)&wrong_type};
  const char *what[] = {"null", "beyond", "minus1", "wrong_type"};
  for (unsigned i = 0; i < sizeof idx / sizeof idx[0]; i++) {
    char name[32];
    snprintf(name, sizeof name, "badcb %s", what[i]);
    check_eq(name, wasm_bpf_buffer_poll(h, fd_a, idx[i], 0, P(buf_a), sizeof buf_a, 0), E_INVAL);
  }
  /* the buffer still works with a good callback */
  check_eq("badcb then good", wasm_bpf_buffer_poll(h, fd_a, (int)(uintptr_t)&on_a, 0, P(buf_a),
                                                  sizeof buf_a, 0), 0);
  return finish();
}

int main(int argc, char **argv) {
  if (argc < 3) {
    printf("usage: blocking.wasm <tgid> <mode> [count]\n");
    return 2;
  }
  uint32_t tgid = (uint32_t)atoi(argv[1]);
  mode = argv[2];
  int count = argc > 3 ? atoi(argv[3]) : 3;
  h = wasm_load_bpf_object(P(blocking_bpf_o), (int32_t)blocking_bpf_o_len);
  if (h <= 0) {
    printf("FAIL load %lld\n", (long long)h);
    return 1;
  }
  uint32_t k0 = 0;
  int r = wasm_bpf_map_operate(wasm_bpf_map_fd_by_name(h, P("config")), CMD_UPDATE, P(&k0),
                               P(&tgid), 0, 0);
  int a = wasm_attach_bpf_program(h, P("on_prio_max"), 0);
  fd_a = wasm_bpf_map_fd_by_name(h, P("ring_a"));
  fd_b = wasm_bpf_map_fd_by_name(h, P("ring_b"));
  fd_perf = wasm_bpf_map_fd_by_name(h, P("perf"));
  fd_seen = wasm_bpf_map_fd_by_name(h, P("seen"));
  if (r != 0 || a < 0 || fd_a <= 0 || fd_b <= 0 || fd_perf <= 0 || fd_seen <= 0) {
    printf("FAIL setup update=%d attach=%d\n", r, a);
    return 1;
  }
  if (is("badcb")) return bad_callbacks();
  if (is("close")) {
    printf("ready\n");
    fflush(stdout);
    for (int i = 0; i < 100 && got_a == 0; i++) {
      r = wasm_bpf_buffer_poll(h, fd_a, (int)(uintptr_t)&on_a, 0, P(buf_a), sizeof buf_a, 100);
      if (r != 0) break;
    }
    printf("done close poll=%d got=%d\n", r, got_a);
    fflush(stdout);
    return r == E_INVAL && got_a == 1 ? 0 : 1;
  }
  printf("ready\n");
  fflush(stdout);
  int perf = is("perf-sleep");
  int want_b = is("nested") ? count : 0;
  int errors = 0, returned = 0;
  for (int i = 0; i < 1000 && (perf ? got_perf : got_a) < count; i++) {
    r = perf ? wasm_bpf_buffer_poll(h, fd_perf, (int)(uintptr_t)&on_perf, 0, P(buf_perf),
                                    sizeof buf_perf, 100)
             : wasm_bpf_buffer_poll(h, fd_a, (int)(uintptr_t)&on_a, 0, P(buf_a), sizeof buf_a,
                                    100);
    if (r < 0) {
      printf("poll error %d\n", r);
      errors++;
    } else {
      returned += r;
    }
  }
  int c = wasm_close_bpf_object(h);
  printf("done got=%d got_b=%d returned=%d errors=%d order_bad=%d slept_short=%d map_bad=%d "
         "inner_polls=%d close=%d\n",
         perf ? got_perf : got_a, got_b, returned, errors, order_bad, slept_short, map_bad,
         inner_polls, c);
  fflush(stdout);
  int ok = (perf ? got_perf : got_a) == count && got_b == want_b && !errors && !order_bad &&
           !slept_short && !map_bad && c == 0;
  return ok ? 0 : 1;
}
