// Test guest: runs the wasm_bpf calls its arguments name, one per argument, and prints each
// result on a line of its own. Used by the policy and broken-input tests.
//   load:FILE            read FILE (under a --dir preopen) and load it  -> "load H"
//   loadn:FILE:N         load FILE N times, keeping the handles         -> "load H" each
//   attach:H:PROG[:TGT]  attach program PROG of handle H (to TGT)       -> "attach R"
//   lookup|update|delete:H:MAP   key 0, value 7, on map MAP             -> "update R"
//   close:H                                                             -> "close R"
//   malloc:MIB           malloc MIB MiB, touch it                       -> "malloc ok|null"
//   grow:PAGES           memory.grow(PAGES)                             -> "grow R"
#include <stdlib.h>
#include <stdio.h>
#include "../_common/host_abi.h"

static void *volatile keep;

static unsigned char *read_file(const char *path, long *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  *len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(*len > 0 ? *len : 1);
  if (buf && fread(buf, 1, *len, f) != (size_t)*len) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

static char *field(char **s) {
  char *start = *s;
  if (!start) return NULL;
  char *c = strchr(start, ':');
  if (c) {
    *c = 0;
    *s = c + 1;
  } else {
    *s = NULL;
  }
  return start;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    char *rest = argv[i];
    char *op = field(&rest);
    if (strcmp(op, "load") == 0 || strcmp(op, "loadn") == 0) {
      char *path = field(&rest);
      int n = strcmp(op, "loadn") == 0 && rest ? atoi(rest) : 1;
      long len = 0;
      unsigned char *buf = read_file(path, &len);
      if (!buf) {
        printf("cannot read %s\n", path);
        return 3;
      }
      for (int j = 0; j < n; j++) {
        printf("load %lld\n", (long long)wasm_load_bpf_object(P(buf), (int32_t)len));
      }
      free(buf);
    } else if (strcmp(op, "attach") == 0) {
      int64_t h = atoll(field(&rest));
      char *prog = field(&rest);
      char *target = rest; /* the rest, colons included */
      printf("attach %d\n", wasm_attach_bpf_program(h, P(prog), target ? P(target) : 0));
    } else if (strcmp(op, "lookup") == 0 || strcmp(op, "update") == 0 ||
               strcmp(op, "delete") == 0) {
      int64_t h = atoll(field(&rest));
      int fd = wasm_bpf_map_fd_by_name(h, P(field(&rest)));
      uint32_t key = 0;
      uint64_t value = 7;
      int cmd = op[0] == 'l' ? CMD_LOOKUP : op[0] == 'u' ? CMD_UPDATE : CMD_DELETE;
      int r = fd < 0 ? fd : wasm_bpf_map_operate(fd, cmd, P(&key), P(&value), 0, 0);
      printf("%s %d\n", op, r);
    } else if (strcmp(op, "close") == 0) {
      printf("close %d\n", wasm_close_bpf_object(atoll(field(&rest))));
    } else if (strcmp(op, "malloc") == 0) {
      size_t bytes = (size_t)atoi(field(&rest)) << 20;
      /* volatile: the compiler may not drop an allocation whose result is only tested */
      unsigned char *volatile p = malloc(bytes);
      if (p) {
        memset(p, 1, bytes);
        keep = p; /* never freed */
      }
      printf("malloc %s\n", p ? "ok" : "null");
    } else if (strcmp(op, "grow") == 0) {
      printf("grow %d\n", (int)__builtin_wasm_memory_grow(0, atoi(field(&rest))));
    } else {
      printf("unknown command %s\n", op);
      return 2;
    }
    fflush(stdout);
  }
  return 0;
}
