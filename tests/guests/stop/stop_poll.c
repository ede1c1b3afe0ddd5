// Host-ABI test guest: attaches a program, prints "ready", then blocks in wasm_bpf_buffer_poll
// with timeout -1 on a ring buffer that never gets a record. After SIGINT/SIGTERM the poll must
// return -EINTR; the guest then prints it and returns 0 (the host still exits 130/143).
// Usage: stop_poll.wasm [stubborn]   -- stubborn: ignore -EINTR and poll again forever (the host
// must unwind it itself).
#include "../_common/host_abi.h"
#include "stop.bpf.bytes.h"

static int on_sample(void *ctx, void *data, int size) { return 0; }

int main(int argc, char **argv) {
  int stubborn = argc > 1 && strcmp(argv[1], "stubborn") == 0;
  int64_t h = wasm_load_bpf_object(P(stop_bpf_o), (int32_t)stop_bpf_o_len);
  int a = wasm_attach_bpf_program(h, P("stop_probe"), 0);
  int fd = wasm_bpf_map_fd_by_name(h, P("quiet"));
  if (h <= 0 || a < 0 || fd <= 0) {
    printf("FAIL setup h=%lld attach=%d fd=%d\n", (long long)h, a, fd);
    return 1;
  }
  static unsigned char data[64];
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    int r = wasm_bpf_buffer_poll(h, fd, (int)(uintptr_t)&on_sample, 0, P(data), sizeof data, -1);
    printf("poll returned %d\n", r);
    fflush(stdout);
    if (!stubborn && r < 0) break;
  }
  return 0;
}
