// Library-API test guest: prints "tick N" every INTERVAL ms (default 100), COUNT times
// (default: forever), flushing each line so a reader sees ticks live.
// Usage: tick.wasm [interval_ms] [count]
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  int interval = argc > 1 ? atoi(argv[1]) : 100;
  int count = argc > 2 ? atoi(argv[2]) : -1;
  struct timespec ts = {interval / 1000, (interval % 1000) * 1000000L};
  for (int i = 0; count < 0 || i < count; i++) {
    printf("tick %d\n", i);
    fflush(stdout);
    if (nanosleep(&ts, NULL) != 0) {
      printf("interrupted\n"); // a stop: clean up and leave, as libbpf-tools do on SIGINT
      return 0;
    }
  }
  return 0;
}
