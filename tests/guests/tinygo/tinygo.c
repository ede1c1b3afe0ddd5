// build-no-table
// Host-ABI test guest in the shape of a TinyGo module: no exported table; buffer_poll comes from
// module "callback-wrapper" without the sample_func argument, and the host calls the exported
// "go-callback" per record. tinygo_custom.c rebuilds this with other names (-m / -c).
// Usage: tinygo.wasm <tgid-to-trace> <records> [sleep]; the test calls getpgid(3000+i) after
// "ready". With "sleep", the callback sleeps 20 ms per record (usleep: it must be able to block).
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#define NO_TABLE_POLL
#include "../_common/host_abi.h"
#include "../_common/syscall_tp.h"
#include "tinygo.bpf.bytes.h"

#ifndef WRAPPER_MODULE
#define WRAPPER_MODULE "callback-wrapper"
#endif
#ifndef CALLBACK_EXPORT
#define CALLBACK_EXPORT "go-callback"
#endif

__attribute__((import_module(WRAPPER_MODULE), import_name("wasm_bpf_buffer_poll")))
int32_t go_buffer_poll(int64_t handle, int32_t fd, uint32_t ctx, uint32_t data, int32_t max_size,
                       int32_t timeout_ms);

static unsigned char buf[64];
static int got, bad_order, sleeps, slept_short;
static const uint32_t CTX_MAGIC = 0x60;

__attribute__((export_name(CALLBACK_EXPORT))) int32_t go_callback(uint32_t ctx, uint32_t data,
                                                                  uint32_t size) {
  struct test_event e;
  memset(&e, 0, sizeof e);
  memcpy(&e, (void *)(uintptr_t)data, size < sizeof e ? size : sizeof e);
  printf("record seq=%u arg=%llu tag=%.8s n=%u ctx=%u at=%s\n", e.seq, (unsigned long long)e.arg,
         e.tag, size, ctx, data == P(buf) ? "ok" : "bad");
  if (e.seq != (uint32_t)got) bad_order++;
  got++;
  if (sleeps) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    usleep(20000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long us = (t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000;
    if (us < 19000) slept_short++;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    printf("usage: tinygo.wasm <tgid> <count>\n");
    return 2;
  }
  uint32_t tgid = (uint32_t)atoi(argv[1]);
  int count = atoi(argv[2]);
  sleeps = argc > 3 && strcmp(argv[3], "sleep") == 0;
  int64_t h = wasm_load_bpf_object(P(tinygo_bpf_o), (int32_t)tinygo_bpf_o_len);
  if (h <= 0) {
    printf("FAIL load %lld\n", (long long)h);
    return 1;
  }
  uint32_t k0 = 0;
  int r = wasm_bpf_map_operate(wasm_bpf_map_fd_by_name(h, P("config")), CMD_UPDATE, P(&k0),
                               P(&tgid), 0, 0);
  int a = wasm_attach_bpf_program(h, P("on_getpgid"), 0);
  int fd = wasm_bpf_map_fd_by_name(h, P("events"));
  if (r != 0 || a < 0 || fd <= 0) {
    printf("FAIL setup update=%d attach=%d fd=%d\n", r, a, fd);
    return 1;
  }
  printf("first poll=%d\n", go_buffer_poll(h, fd, CTX_MAGIC, P(buf), sizeof buf, 0));
  printf("ready\n");
  fflush(stdout);
  int returned = 0, errors = 0;
  for (int i = 0; i < 1000 && got < count; i++) {
    r = go_buffer_poll(h, fd, CTX_MAGIC, P(buf), sizeof buf, 20);
    if (r < 0) {
      printf("poll error %d\n", r);
      errors++;
    } else {
      returned += r;
    }
    fflush(stdout);
  }
  int c = wasm_close_bpf_object(h);
  printf("done got=%d returned=%d errors=%d order_bad=%d close=%d\n", got, returned, errors,
         bad_order, c);
  if (sleeps) printf("slept_short=%d\n", slept_short);
  fflush(stdout);
  return (got == count && returned == count && !errors && !bad_order && !slept_short && c == 0)
             ? 0
             : 1;
}
