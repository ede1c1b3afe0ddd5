// Library-API test guest: calls host functions the embedding script provides.
// host_func_test.plus_i32(a, b) is printed for a few pairs; with argument "block" it then calls
// host_func_test.block(), which the test never lets return (a kill must still end the run).
#include <stdio.h>
#include <string.h>

__attribute__((import_module("host_func_test"), import_name("plus_i32")))
int plus_i32(int a, int b);

__attribute__((import_module("host_func_test"), import_name("block")))
int block(void);

int main(int argc, char **argv) {
  printf("plus_i32(2, 3) = %d\n", plus_i32(2, 3));
  printf("plus_i32(-7, 7) = %d\n", plus_i32(-7, 7));
  printf("plus_i32(2147483647, 1) = %d\n", plus_i32(2147483647, 1));
  fflush(stdout);
  if (argc > 1 && strcmp(argv[1], "block") == 0) {
    printf("blocking\n");
    fflush(stdout);
    printf("block returned %d\n", block());
  }
  return 0;
}
