// Library-API test guest: writes MIB MiB (default 64) to stdout in 64 KiB write()s. Block i
// is 4096 lines "%015d\n" of i, so a reader can check every byte and its order. After each
// block it reports the bytes written so far on stderr ("wrote N"), so a test can compare what
// the guest wrote with what it read: the difference is what the host holds. A failed write:
// "write failed at block i: <strerror>" on stderr, exit 3.
// Usage: output.wasm [mib]
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 65536

static char block[BLOCK + 1]; // + 1: the NUL after the last line

int main(int argc, char **argv) {
  long blocks = (argc > 1 ? atol(argv[1]) : 64) * (1 << 20) / BLOCK;
  for (long i = 0; i < blocks; i++) {
    for (int line = 0; line < BLOCK / 16; line++) {
      snprintf(block + line * 16, 17, "%015ld\n", i);
    }
    for (size_t off = 0; off < BLOCK;) {
      ssize_t n = write(1, block + off, BLOCK - off);
      if (n < 0) {
        fprintf(stderr, "write failed at block %ld: %s\n", i, strerror(errno));
        return 3;
      }
      off += (size_t)n;
    }
    fprintf(stderr, "wrote %ld\n", (i + 1) * BLOCK);
  }
  fprintf(stderr, "done\n");
  return 0;
}
