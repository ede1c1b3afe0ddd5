// Host-ABI test guest: maps pinned by name (LIBBPF_PIN_BY_NAME).
// Usage: pin.wasm reuse [wait]  load pin.bpf.o; print "pinned <value at key 0>" (or "pinned
//                               <errno>" when key 0 is absent), write wbpf_pin_new[0] = 7;
//                               with "wait", then sleep until stopped
//        pin.wasm escape   load escape.bpf.o with its map renamed "../wbpf_pin_test"; print
//                          "escape handle <h>", then the value at key 0 when it loaded
#include <stdlib.h>
#include <unistd.h>
#include "../_common/host_abi.h"
#include "escape.bpf.bytes.h"
#include "pin.bpf.bytes.h"

static void print_key0(int64_t h, const char *map, const char *label) {
  uint32_t k0 = 0;
  uint64_t v = 0;
  int fd = wasm_bpf_map_fd_by_name(h, P(map));
  int r = wasm_bpf_map_operate(fd, CMD_LOOKUP, P(&k0), P(&v), 0, 0);
  if (r == 0) printf("%s %llu\n", label, (unsigned long long)v);
  else printf("%s %d\n", label, r);
}

/* Rewrites every "wbpf_escape_name" in the object (BTF and ELF string tables). */
static void rename_map(unsigned char *obj, unsigned len) {
  static const char from[] = "wbpf_escape_name", to[] = "../wbpf_pin_test";
  _Static_assert(sizeof from == sizeof to, "same length");
  for (unsigned i = 0; i + sizeof from <= len; i++)
    if (memcmp(obj + i, from, sizeof from) == 0) memcpy(obj + i, to, sizeof to);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    printf("usage: pin.wasm reuse | escape\n");
    return 2;
  }
  if (strcmp(argv[1], "escape") == 0) {
    rename_map(escape_bpf_o, escape_bpf_o_len);
    int64_t h = wasm_load_bpf_object(P(escape_bpf_o), (int32_t)escape_bpf_o_len);
    printf("escape handle %lld\n", (long long)h);
    if (h > 0) print_key0(h, "../wbpf_pin_test", "escaped");
    return 0;
  }
  int64_t h = wasm_load_bpf_object(P(pin_bpf_o), (int32_t)pin_bpf_o_len);
  printf("handle %lld\n", (long long)h);
  if (h <= 0) return 1;
  print_key0(h, "wbpf_pin_test", "pinned");
  uint32_t k0 = 0;
  uint64_t seven = 7;
  int fd = wasm_bpf_map_fd_by_name(h, P("wbpf_pin_new"));
  printf("new update %d\n", wasm_bpf_map_operate(fd, CMD_UPDATE, P(&k0), P(&seven), 0, 0));
  fflush(stdout);
  if (argc > 2 && strcmp(argv[2], "wait") == 0)
    for (;;) sleep(1);
  return 0;
}
