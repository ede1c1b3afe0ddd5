// Library-API test guest: prints "ready", then computes forever without calling the host.
#include <stdio.h>

volatile unsigned long long counter;

int main(void) {
  printf("ready\n");
  fflush(stdout);
  for (;;) counter++;
}
