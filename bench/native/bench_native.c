// The native reference of `deno task bench`: the same work as the wasm guests under
// bench/guests/, done by a C program linked with the system libbpf, on the same BPF objects.
// Built by bench/bench.ts with `gcc -O2 -o bench/out/bench_native bench_native.c -lbpf`.
//
//   bench_native events|events-copy <evbench.bpf.o> <ring16|ring256|perf16|perf256> <tgid>
//                <rounds> <n> [<triggers>]
//   bench_native maps <mapbench.bpf.o> <ops> <walks>
//
// `events` hands the callback the record libbpf gives it, in place. `events-copy` ("native+copy")
// first copies the record into a buffer, then calls the callback through a function pointer the
// compiler cannot see through: the least work any wasm host must do per record (the guest's
// callback reads a copy in its own memory and is reached by an indirect call).
//
// Output and stdio protocol: exactly those of evbench.wasm / mapbench.wasm.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PERF_BUFFER_PAGES 64 /* the runtime's per-CPU perf buffer size (docs/abi.md §2.1) */
#define ENTRIES 10000u
#define IDLE_ROUNDS 8

struct bench_config {
  uint32_t tgid, count, mode, pad;
};

static uint64_t expected, got, seq_sum, jumps;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* What the guest's callback does (evbench.c), on the record libbpf hands us (the guest gets a
 * copy of it in its own memory first; that copy is part of what the runtime costs). Records
 * carry a global sequence number: a jump is a record that does not follow the previous one (none
 * with one producer CPU; with several, their perf buffers are read one after another), and the
 * sum of every sequence number checks that each arrived exactly once. */
static inline int on_record(void *ctx, void *data, int size) {
  uint64_t seq;
  memcpy(&seq, data, sizeof seq);
  if (seq != expected) jumps++;
  expected = seq + 1;
  seq_sum += seq;
  got++;
  return 0;
}

/* native+copy: the record copied into a buffer of the guest's size, then an indirect call */
static unsigned char copy_buf[256];
static int (*volatile deliver)(void *ctx, void *data, int size) = on_record;

static inline void copy_deliver(void *data, size_t size) {
  size_t n = size < sizeof copy_buf ? size : sizeof copy_buf;
  memcpy(copy_buf, data, n);
  deliver(NULL, copy_buf, (int)n);
}

static int ring_cb(void *ctx, void *data, size_t size) { return on_record(ctx, data, (int)size); }

static void perf_cb(void *ctx, int cpu, void *data, __u32 size) { on_record(ctx, data, (int)size); }

static int ring_copy_cb(void *ctx, void *data, size_t size) {
  copy_deliver(data, size);
  return 0;
}

static void perf_copy_cb(void *ctx, int cpu, void *data, __u32 size) { copy_deliver(data, size); }

static void perf_lost(void *ctx, int cpu, __u64 cnt) {
  fprintf(stderr, "lost %llu on CPU %d\n", (unsigned long long)cnt, cpu);
}

static struct bpf_object *open_load(const char *path) {
  struct bpf_object *obj = bpf_object__open_file(path, NULL);
  if (!obj || libbpf_get_error(obj)) {
    fprintf(stderr, "open %s failed\n", path);
    exit(1);
  }
  if (bpf_object__load(obj)) {
    fprintf(stderr, "load %s failed\n", path);
    exit(1);
  }
  return obj;
}

static int events(int argc, char **argv, int copy) {
  if (argc < 7) return 2;
  const char *m = argv[3];
  uint32_t mode = !strcmp(m, "ring16") ? 1 : !strcmp(m, "ring256") ? 2 : !strcmp(m, "perf16") ? 3
                : !strcmp(m, "perf256") ? 4 : 0;
  if (!mode) return 2;
  struct bench_config cfg = {(uint32_t)atoi(argv[4]), (uint32_t)atoi(argv[6]), mode, 0};
  int rounds = atoi(argv[5]);
  uint64_t per_round = (uint64_t)cfg.count * (uint64_t)(argc > 7 ? atoi(argv[7]) : 1);
  struct bpf_object *obj = open_load(argv[2]);
  uint32_t k0 = 0, k1 = 1;
  if (bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "config"), &k0, &cfg, 0)) {
    fprintf(stderr, "config failed\n");
    return 1;
  }
  struct bpf_link *link =
      bpf_program__attach(bpf_object__find_program_by_name(obj, "bench_trigger"));
  if (!link || libbpf_get_error(link)) {
    fprintf(stderr, "attach failed\n");
    return 1;
  }
  struct ring_buffer *rb = NULL;
  struct perf_buffer *pb = NULL;
  if (mode <= 2)
    rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "ring"),
                          copy ? ring_copy_cb : ring_cb, NULL, NULL);
  else
    pb = perf_buffer__new(bpf_object__find_map_fd_by_name(obj, "perf"), PERF_BUFFER_PAGES,
                          copy ? perf_copy_cb : perf_cb, perf_lost, NULL, NULL);
  if (!rb && !pb) {
    fprintf(stderr, "buffer failed\n");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  char line[64];
  uint64_t timed = 0, total_ns = 0;
  for (int r = 0; r < rounds; r++) {
    if (!fgets(line, sizeof line, stdin)) return 1;
    uint64_t target = got + per_round;
    int idle = 0;
    uint64_t t0 = now_ns();
    while (got < target && idle < 3) {
      int n = rb ? ring_buffer__poll(rb, 1000) : perf_buffer__poll(pb, 1000);
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
  /* idle rounds: see evbench.c */
  for (int r = 0; r < IDLE_ROUNDS; r++) {
    if (!fgets(line, sizeof line, stdin)) return 1;
    if (rb) ring_buffer__consume(rb);
    else perf_buffer__consume(pb);
    printf("next\n");
    fflush(stdout);
  }
  uint64_t emitted = 0, dropped = 0;
  int fd_stats = bpf_object__find_map_fd_by_name(obj, "stats");
  bpf_map_lookup_elem(fd_stats, &k0, &emitted);
  bpf_map_lookup_elem(fd_stats, &k1, &dropped);
  int bad = seq_sum != (got ? got * (got - 1) / 2 : 0);
  printf("done records=%llu timed=%llu ns=%llu bad=%d jumps=%llu emitted=%llu dropped=%llu\n",
         (unsigned long long)got, (unsigned long long)timed, (unsigned long long)total_ns, bad,
         (unsigned long long)jumps, (unsigned long long)emitted, (unsigned long long)dropped);
  fflush(stdout);
  if (!fgets(line, sizeof line, stdin)) { /* the driver closed stdin: fine */
  }
  ring_buffer__free(rb);
  perf_buffer__free(pb);
  bpf_link__destroy(link);
  bpf_object__close(obj);
  return 0;
}

static int maps(int argc, char **argv) {
  if (argc < 5) return 2;
  long ops = atol(argv[3]), walks = atol(argv[4]);
  struct bpf_object *obj = open_load(argv[2]);
  int fd = bpf_object__find_map_fd_by_name(obj, "table");
  uint32_t key, next;
  uint64_t val;
  int bad = 0;
  for (key = 0; key < ENTRIES; key++) {
    val = key;
    if (bpf_map_update_elem(fd, &key, &val, 0) != 0) bad++;
  }
  /* warm-up, untimed: the same commands as the guest's (mapbench.c) */
  for (long i = 0; i < ops / 10; i++) {
    key = (uint32_t)((i * 7919) % ENTRIES);
    val = key;
    if (bpf_map_update_elem(fd, &key, &val, 0) != 0) bad++;
    if (bpf_map_lookup_elem(fd, &key, &val) != 0) bad++;
    int r = bpf_map_get_next_key(fd, i & 1 ? NULL : &key, &next);
    if (r != 0 && r != -ENOENT) bad++; /* (ENOENT: the key was the last) */
  }
  uint64_t t0 = now_ns();
  for (long i = 0; i < ops; i++) {
    key = (uint32_t)((i * 7919) % ENTRIES);
    val = (uint64_t)i;
    if (bpf_map_update_elem(fd, &key, &val, 0) != 0) bad++;
  }
  uint64_t t1 = now_ns();
  for (long i = 0; i < ops; i++) {
    key = (uint32_t)((i * 7919) % ENTRIES);
    if (bpf_map_lookup_elem(fd, &key, &val) != 0) bad++;
  }
  uint64_t t2 = now_ns();
  long nexts = 0;
  for (long w = 0; w < walks; w++) {
    uint32_t k = 0;
    int first_key = 1;
    for (;;) {
      if (bpf_map_get_next_key(fd, first_key ? NULL : &k, &next) != 0) break;
      first_key = 0;
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
  bpf_object__close(obj);
  return 0;
}

int main(int argc, char **argv) {
  libbpf_set_print(NULL);
  if (argc > 1 && !strcmp(argv[1], "events")) return events(argc, argv, 0);
  if (argc > 1 && !strcmp(argv[1], "events-copy")) return events(argc, argv, 1);
  if (argc > 1 && !strcmp(argv[1], "maps")) return maps(argc, argv);
  fprintf(stderr, "usage: bench_native events|events-copy|maps ...\n");
  return 2;
}
