// Library-API test guest: ends as its argument says.
// Usage: exitcode.wasm return0|return1|exit3|trap
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  const char *how = argc > 1 ? argv[1] : "return0";
  printf("ending with %s\n", how);
  fflush(stdout);
  if (strcmp(how, "return1") == 0) return 1;
  if (strcmp(how, "exit3") == 0) exit(3);
  if (strcmp(how, "trap") == 0) __builtin_trap();
  return 0;
}
