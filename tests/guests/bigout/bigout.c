// Writes MIB MiB (default 100) to stdout in 64 KiB writes, then "done" on stderr.
// Usage: bigout.wasm [MIB]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char chunk[65536];

int main(int argc, char **argv) {
  long mib = argc > 1 ? atol(argv[1]) : 100;
  for (size_t i = 0; i < sizeof chunk; i++) chunk[i] = (i % 64 == 63) ? '\n' : 'a' + i % 26;
  for (long i = 0; i < mib * 16; i++) {
    if (fwrite(chunk, 1, sizeof chunk, stdout) != sizeof chunk) {
      fprintf(stderr, "write failed at chunk %ld\n", i);
      return 3;
    }
  }
  fflush(stdout);
  fprintf(stderr, "done\n");
  return 0;
}
