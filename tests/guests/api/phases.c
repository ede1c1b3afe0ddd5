// Library-API test guest for the signal tests: cycles through the phases a stop can land in:
// computing (a busy loop with no host call), printing (many small writes), sleeping. A stop
// during the sleep makes it print "interrupted", compute for linger_ms more (a guest cleaning
// up outside any wait), and return 0.
// Usage: phases.wasm [compute_ms] [lines] [sleep_ms] [linger_ms]   (defaults 5, 200, 5, 0)
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

volatile unsigned long long sink;

// Roughly `ms` of work on these machines; no clock, so the loop makes no host call at all.
static void compute(int ms) {
  for (unsigned long long i = 0; i < (unsigned long long)ms * 400000ULL; i++) sink += i;
}

int main(int argc, char **argv) {
  int compute_ms = argc > 1 ? atoi(argv[1]) : 5;
  int lines = argc > 2 ? atoi(argv[2]) : 200;
  int sleep_ms = argc > 3 ? atoi(argv[3]) : 5;
  int linger_ms = argc > 4 ? atoi(argv[4]) : 0;
  struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};
  printf("ready\n");
  fflush(stdout);
  for (unsigned round = 0;; round++) {
    compute(compute_ms);
    for (int i = 0; i < lines; i++) printf("round %u line %d\n", round, i);
    fflush(stdout);
    if (nanosleep(&ts, NULL) != 0) {
      printf("interrupted\n");
      fflush(stdout);
      compute(linger_ms);
      return 0;
    }
  }
}
