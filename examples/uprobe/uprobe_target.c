// build-skip: a native program, not a guest (gcc -O1 -o uprobe_target uprobe_target.c)
/* The program that examples/uprobe traces: calls uprobe_add(i, 10 * i) for i = 1..N
 * (N = argv[1], default 3) and prints each result. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) int uprobe_add(int a, int b)
{
    __asm__ volatile("" ::: "memory"); /* keep the call */
    return a + b;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;

    for (int i = 1; i <= n; i++)
        printf("uprobe_add(%d, %d) = %d\n", i, 10 * i, uprobe_add(i, 10 * i));
    return 0;
}
