// Host-ABI test guest: attaches a program, prints "ready", then sleep(100) (poll_oneoff). After
// SIGINT/SIGTERM the sleep must end at once with EINTR; the guest prints and returns 0.
#include <unistd.h>
#include "../_common/host_abi.h"
#include "stop.bpf.bytes.h"

int main(void) {
  int64_t h = wasm_load_bpf_object(P(stop_bpf_o), (int32_t)stop_bpf_o_len);
  int a = wasm_attach_bpf_program(h, P("stop_probe"), 0);
  if (h <= 0 || a < 0) {
    printf("FAIL setup h=%lld attach=%d\n", (long long)h, a);
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  unsigned left = sleep(100);
  printf("sleep returned %u\n", left);
  fflush(stdout);
  return 0;
}
