// Host-ABI test guest for the ring buffer consumer's edge cases (tests/kernel_ringbuf_test.ts).
// Usage: ringbuf.wasm <tgid>. Phases, each announced on stdout for the test to trigger records:
//  "ready full": sleeps 300 ms while the test emits 1000 40-byte records into the 16 KiB ring
//     (only 341 fit), then drains: "full got=.. first=.. last=.. order_bad=.. payload_bad=..
//     dropped=..".
//  "batch N" (N = 0..9): the test emits 100 records, every odd one discarded; the guest polls
//     until it has the 50 submitted ones (records now cross the end of the ring), then
//     "wrap got=.. order_bad=.. payload_bad=.. odd=..".
//  "ready budget": sleeps 300 ms while the test emits 70000 records into the 4 MiB ring, then
//     polls twice with timeout 0: "budget first=.. second=.. order_bad=..".
//  "ready neg": sleeps 300 ms while the test emits 10 records; the callback returns -7 for the
//     4th: "neg first=.. second=.. order_bad=..".
#include <stdlib.h>
#include <unistd.h>
#include "../_common/host_abi.h"
#include "ringbuf.bpf.bytes.h"

struct rec {
  uint32_t seq;
  uint32_t pad;
  uint8_t payload[32];
};

static struct {
  int got, order_bad, payload_bad, odd, stop_at;
  int64_t first, last;
} st;

static unsigned char buf[64];

static void reset(void) {
  memset(&st, 0, sizeof st);
  st.first = -1;
  st.last = -1;
  st.stop_at = -1;
}

static int on_rec(void *ctx, void *data, int size) {
  struct rec r;
  if (size != (int)sizeof r) st.payload_bad++;
  memcpy(&r, data, sizeof r);
  if (st.first < 0) st.first = r.seq;
  if (st.last >= 0 && r.seq <= (uint32_t)st.last) st.order_bad++;
  if (r.seq & 1) st.odd++;
  for (int j = 0; j < 32; j++)
    if (r.payload[j] != (uint8_t)(r.seq * 7 + j)) {
      st.payload_bad++;
      break;
    }
  st.last = r.seq;
  st.got++;
  if (st.got == st.stop_at) return -7;
  return 0;
}

static int on_big(void *ctx, void *data, int size) {
  uint64_t seq;
  memcpy(&seq, data, sizeof seq);
  if (size != 8 || (st.last >= 0 && seq != (uint64_t)st.last + 1)) st.order_bad++;
  st.last = (int64_t)seq;
  st.got++;
  return 0;
}

static void say(const char *s) {
  printf("%s\n", s);
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  uint32_t tgid = (uint32_t)atoi(argv[1]);
  int64_t h = wasm_load_bpf_object(P(ringbuf_bpf_o), (int32_t)ringbuf_bpf_o_len);
  uint32_t k0 = 0;
  int fd_cfg = wasm_bpf_map_fd_by_name(h, P("config"));
  if (h <= 0 || wasm_bpf_map_operate(fd_cfg, CMD_UPDATE, P(&k0), P(&tgid), 0, 0) != 0 ||
      wasm_attach_bpf_program(h, P("on_getpriority"), 0) < 0 ||
      wasm_attach_bpf_program(h, P("on_prio_min"), 0) < 0) {
    say("FAIL setup");
    return 1;
  }
  int ring = wasm_bpf_map_fd_by_name(h, P("ring"));
  int big = wasm_bpf_map_fd_by_name(h, P("big"));
  int cb = (int)(uintptr_t)&on_rec, cb_big = (int)(uintptr_t)&on_big;

  /* a full ring */
  reset();
  say("ready full");
  usleep(300000);
  while (wasm_bpf_buffer_poll(h, ring, cb, 0, P(buf), sizeof buf, 0) > 0) {
  }
  uint64_t dropped = 0;
  wasm_bpf_map_operate(wasm_bpf_map_fd_by_name(h, P("stats")), CMD_LOOKUP, P(&k0), P(&dropped),
                       0, 0);
  printf("full got=%d first=%lld last=%lld order_bad=%d payload_bad=%d dropped=%llu\n", st.got,
         (long long)st.first, (long long)st.last, st.order_bad, st.payload_bad,
         (unsigned long long)dropped);

  /* discarded records, records crossing the end of the ring */
  reset();
  for (int b = 0; b < 10; b++) {
    printf("batch %d\n", b);
    fflush(stdout);
    int idle = 0;
    while (st.got < 50 * (b + 1) && idle < 20) {
      int r = wasm_bpf_buffer_poll(h, ring, cb, 0, P(buf), sizeof buf, 100);
      if (r < 0) printf("poll error %d\n", r);
      if (r == 0) idle++;
    }
  }
  printf("wrap got=%d order_bad=%d payload_bad=%d odd=%d\n", st.got, st.order_bad,
         st.payload_bad, st.odd);

  /* the per-poll budget */
  reset();
  say("ready budget");
  usleep(300000);
  int first = wasm_bpf_buffer_poll(h, big, cb_big, 0, P(buf), sizeof buf, 0);
  int second = wasm_bpf_buffer_poll(h, big, cb_big, 0, P(buf), sizeof buf, 0);
  printf("budget first=%d second=%d order_bad=%d\n", first, second, st.order_bad);

  /* a negative return stops the poll; that record is consumed */
  reset();
  st.stop_at = 4;
  say("ready neg");
  usleep(300000);
  first = wasm_bpf_buffer_poll(h, ring, cb, 0, P(buf), sizeof buf, 0);
  second = wasm_bpf_buffer_poll(h, ring, cb, 0, P(buf), sizeof buf, 0);
  printf("neg first=%d second=%d got=%d order_bad=%d\n", first, second, st.got, st.order_bad);
  fflush(stdout);
  return wasm_close_bpf_object(h) == 0 ? 0 : 1;
}
