// Host-ABI test guest: polls a perf buffer AND a ring buffer of one object (upstream hosts
// support one poller per object) with wasm_bpf_buffer_poll and table-index callbacks.
// Usage: perfbuf.wasm <tgid-to-trace> <records-per-buffer> [trap|exit|late]
// Prints "ready" once attached; the test then calls getsid(1000+i) and getpgid(2000+i).
// Each record: "perf seq=.. tgid=.. arg=.. tag=.. n=.. ctx=.. at=ok|bad tail=ok|bad"; the ring
// buffer is polled with max_size 20 < 24, so its records arrive truncated to 20 bytes. The ring
// callback returns -42 for seq 2: that poll must return -42 and the next poll go on with seq 3.
#include <stdlib.h>
#include "../_common/host_abi.h"
#include "../_common/syscall_tp.h"
#include "perfbuf.bpf.bytes.h"

#define BUF_SZ 64
#define RING_MAX 20
#define SENTINEL 0xcc

struct poll_ctx {
  const char *name;
  unsigned char *buf;
  int max_size;
  int got;
  int bad;
};

static unsigned char perf_buf[BUF_SZ], ring_buf[BUF_SZ];
static struct poll_ctx perf_ctx = {"perf", perf_buf, BUF_SZ, 0, 0};
static struct poll_ctx ring_ctx = {"ring", ring_buf, RING_MAX, 0, 0};

/* Optional third argument: "trap" or "exit" at the ring record with seq 1, to check that a
 * trap or exit() inside a callback ends the run as such (not swallowed by FFI). */
static const char *end_in_callback = "";

static int on_sample(void *vctx, void *data, int size) {
  struct poll_ctx *c = vctx;
  if (c == &ring_ctx && c->got == 1) {
    if (strcmp(end_in_callback, "trap") == 0) __builtin_trap();
    if (strcmp(end_in_callback, "exit") == 0) {
      printf("exiting from the callback\n");
      exit(5);
    }
  }
  struct test_event e;
  memset(&e, 0, sizeof e);
  memcpy(&e, data, size < (int)sizeof e ? size : (int)sizeof e);
  char tag[9] = {0};
  int taglen = size - 16;
  if (taglen > 8) taglen = 8;
  if (taglen > 0) memcpy(tag, e.tag, taglen);
  int tail_ok = size < BUF_SZ && c->buf[size] == SENTINEL;
  printf("%s seq=%u tgid=%u arg=%llu tag=%s n=%d ctx=%s at=%s tail=%s\n", c->name, e.seq,
         e.tgid, (unsigned long long)e.arg, tag, size, c == &perf_ctx ? "perf" : "ring",
         data == c->buf ? "ok" : "bad", tail_ok ? "ok" : "bad");
  if (e.seq != (unsigned)c->got) c->bad++;
  c->got++;
  if (c == &ring_ctx && e.seq == 2) return -42;
  return 0;
}

static int cb_index(int (*f)(void *, void *, int)) { return (int)(uintptr_t)f; }

int main(int argc, char **argv) {
  if (argc < 3) {
    printf("usage: perfbuf.wasm <tgid> <count>\n");
    return 2;
  }
  uint32_t tgid = (uint32_t)atoi(argv[1]);
  int count = atoi(argv[2]);
  if (argc > 3) end_in_callback = argv[3];
  int64_t h = wasm_load_bpf_object(P(perfbuf_bpf_o), (int32_t)perfbuf_bpf_o_len);
  if (h <= 0) {
    printf("FAIL load %lld\n", (long long)h);
    return 1;
  }
  int fd_cfg = wasm_bpf_map_fd_by_name(h, P("config"));
  uint32_t k0 = 0;
  int r = wasm_bpf_map_operate(fd_cfg, CMD_UPDATE, P(&k0), P(&tgid), 0, 0);
  if (r != 0) {
    printf("FAIL config update %d\n", r);
    return 1;
  }
  int a1 = wasm_attach_bpf_program(h, P("on_getsid"), 0);
  int a2 = wasm_attach_bpf_program(h, P("on_getpgid"), P(""));
  if (a1 < 0 || a2 < 0) {
    printf("FAIL attach %d %d\n", a1, a2);
    return 1;
  }
  int fd_perf = wasm_bpf_map_fd_by_name(h, P("perf_events"));
  int fd_ring = wasm_bpf_map_fd_by_name(h, P("ring"));
  /* Create both pollers before the test starts triggering (a perf buffer only sees records
   * written after it is opened). Nothing is pending yet: both return 0 at once. */
  /* With "late", the first poll comes only after the test has triggered every record: the
   * host must have opened the perf buffer when the guest asked for its fd. */
  if (strcmp(end_in_callback, "late") != 0) {
    int p0 = wasm_bpf_buffer_poll(h, fd_perf, cb_index(on_sample), P(&perf_ctx), P(perf_buf),
                                  BUF_SZ, 0);
    int r0 = wasm_bpf_buffer_poll(h, fd_ring, cb_index(on_sample), P(&ring_ctx), P(ring_buf),
                                  RING_MAX, 0);
    printf("first polls perf=%d ring=%d\n", p0, r0);
  }
  printf("ready\n");
  fflush(stdout);
  if (strcmp(end_in_callback, "late") == 0) {
    /* wait for the test's "go" on stdin: by then every record has been sent */
    char go[8];
    if (!fgets(go, sizeof go, stdin)) return 1;
  }

  int perf_returned = 0, ring_returned = 0, neg42 = 0, errors = 0;
  for (int i = 0; i < 800 && (perf_ctx.got < count || ring_ctx.got < count); i++) {
    memset(perf_buf, SENTINEL, BUF_SZ);
    r = wasm_bpf_buffer_poll(h, fd_perf, cb_index(on_sample), P(&perf_ctx), P(perf_buf), BUF_SZ,
                             10);
    if (r >= 0) perf_returned += r;
    else {
      printf("perf poll error %d\n", r);
      errors++;
    }
    memset(ring_buf, SENTINEL, BUF_SZ);
    r = wasm_bpf_buffer_poll(h, fd_ring, cb_index(on_sample), P(&ring_ctx), P(ring_buf),
                             RING_MAX, 10);
    if (r == -42) neg42++;
    else if (r >= 0) ring_returned += r;
    else {
      printf("ring poll error %d\n", r);
      errors++;
    }
    fflush(stdout);
  }
  printf("done perf=%d ring=%d perf_returned=%d ring_returned=%d neg42=%d errors=%d "
         "perf_order_bad=%d ring_order_bad=%d\n",
         perf_ctx.got, ring_ctx.got, perf_returned, ring_returned, neg42, errors, perf_ctx.bad,
         ring_ctx.bad);
  int c = wasm_close_bpf_object(h);
  printf("close=%d\n", c);
  fflush(stdout);
  return (perf_ctx.got == count && ring_ctx.got == count && !errors && c == 0) ? 0 : 1;
}
