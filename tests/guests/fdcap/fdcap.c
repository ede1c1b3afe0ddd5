// Host-ABI test guest: fd exhaustion. Loads objects until the host refuses one, then polls a
// ring buffer (the host must still have the fds a poll needs) and exits 0.
// Usage: fdcap.wasm loop [wait]  load fdcap.bpf.o until the handle is 0
//        fdcap.wasm many         load manymaps.bpf.o (300 maps) once, then fdcap.bpf.o
// Prints "loaded <n>" and "poll <ret>"; with "wait", then polls until stopped.
#include <stdlib.h>
#include "../_common/host_abi.h"
#include "fdcap.bpf.bytes.h"
#include "manymaps.bpf.bytes.h"

static int on_sample(void *ctx, void *data, int size) { return 0; }

int main(int argc, char **argv) {
  if (argc < 2) {
    printf("usage: fdcap.wasm loop | many\n");
    return 2;
  }
  int64_t first = 0, h;
  int n = 0;
  if (strcmp(argv[1], "many") == 0) {
    h = wasm_load_bpf_object(P(manymaps_bpf_o), (int32_t)manymaps_bpf_o_len);
    printf("manymaps handle %lld\n", (long long)h);
  }
  while ((h = wasm_load_bpf_object(P(fdcap_bpf_o), (int32_t)fdcap_bpf_o_len)) > 0) {
    if (!first) first = h;
    n++;
    if (strcmp(argv[1], "many") == 0) break;
  }
  printf("loaded %d\n", n);
  fflush(stdout);
  if (!first) return 1;
  static char buf[256];
  int rb = wasm_bpf_map_fd_by_name(first, P("events"));
  int r = wasm_bpf_buffer_poll(first, rb, (int32_t)(uintptr_t)on_sample, 0, P(buf), sizeof buf,
                               10);
  printf("poll %d\n", r);
  fflush(stdout);
  if (argc > 2 && strcmp(argv[2], "wait") == 0) {
    while (r >= 0) r = wasm_bpf_buffer_poll(first, rb, (int32_t)(uintptr_t)on_sample, 0, P(buf),
                                            sizeof buf, 100);
    printf("poll ended %d\n", r);
  }
  return r < 0 ? 1 : 0;
}
