// Event producers for `deno task bench`: one getppid() by the bench driver emits `count` records
// through bpf_loop, into a ring buffer or a perf buffer, 16 or 256 bytes each, so the consumer,
// not the trigger, is what gets measured. The consumer (our wasm guest or the native C reference)
// writes the config; records carry a sequence number that the consumer checks.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MODE_RING16 1
#define MODE_RING256 2
#define MODE_PERF16 3
#define MODE_PERF256 4

struct bench_config {
  __u32 tgid;  /* the driver process that triggers */
  __u32 count; /* records per trigger */
  __u32 mode;
  __u32 pad;
};

struct rec16 {
  __u64 seq;
  __u64 pad;
};

struct rec256 {
  __u64 seq;
  __u64 pad[31];
};

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4 * 1024 * 1024);
} ring SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct bench_config);
} config SEC(".maps");

/* [0] records emitted, [1] records dropped (ring or perf buffer full) */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} stats SEC(".maps");

/* Source of the 256-byte perf records (too big for the BPF stack of a loop callback). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct rec256);
} scratch SEC(".maps");

__u64 next_seq;

struct loop_ctx {
  void *tp_ctx;
  __u64 emitted;
  __u64 dropped;
  __u32 mode;
};

static long emit_one(__u32 i, void *data) {
  struct loop_ctx *c = data;
  __u64 seq = next_seq++;
  if (c->mode == MODE_RING16) {
    struct rec16 *r = bpf_ringbuf_reserve(&ring, sizeof(*r), 0);
    if (!r) {
      c->dropped++;
      return 0;
    }
    r->seq = seq;
    r->pad = 0;
    bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
  } else if (c->mode == MODE_RING256) {
    struct rec256 *r = bpf_ringbuf_reserve(&ring, sizeof(*r), 0);
    if (!r) {
      c->dropped++;
      return 0;
    }
    r->seq = seq;
    bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
  } else {
    __u32 k = 0;
    struct rec256 *r = bpf_map_lookup_elem(&scratch, &k);
    if (!r) return 1;
    r->seq = seq;
    long err = bpf_perf_event_output(c->tp_ctx, &perf, BPF_F_CURRENT_CPU, r,
                                     c->mode == MODE_PERF16 ? 16 : sizeof(*r));
    if (err) {
      c->dropped++;
      return 0;
    }
  }
  c->emitted++;
  return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int bench_trigger(void *ctx) {
  __u32 k = 0;
  struct bench_config *cfg = bpf_map_lookup_elem(&config, &k);
  if (!cfg || !cfg->tgid || cfg->tgid != (bpf_get_current_pid_tgid() >> 32)) return 0;
  struct loop_ctx c = {.tp_ctx = ctx, .mode = cfg->mode};
  bpf_loop(cfg->count, emit_one, &c, 0);
  if (cfg->mode == MODE_RING16 || cfg->mode == MODE_RING256) {
    /* one wakeup for the whole batch (each record was submitted with BPF_RB_NO_WAKEUP) */
    struct rec16 *r = bpf_ringbuf_reserve(&ring, sizeof(*r), 0);
    if (r) bpf_ringbuf_discard(r, BPF_RB_FORCE_WAKEUP);
  }
  __u64 *v = bpf_map_lookup_elem(&stats, &k);
  if (v) *v += c.emitted;
  k = 1;
  v = bpf_map_lookup_elem(&stats, &k);
  if (v) *v += c.dropped;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
