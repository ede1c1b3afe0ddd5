// A chain of 70 typedefs under one global variable: deeper than the object check's bound of
// type references (64), so it is refused (tests/broken_objects_test.ts). Only the host opens it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define T1(a, b) typedef a b;
#define T10(p, q)                                                                          \
  T1(p, q##0) T1(q##0, q##1) T1(q##1, q##2) T1(q##2, q##3) T1(q##3, q##4) T1(q##4, q##5)  \
  T1(q##5, q##6) T1(q##6, q##7) T1(q##7, q##8) T1(q##8, q##9)
T10(int, a)
T10(a9, b)
T10(b9, c)
T10(c9, d)
T10(d9, e)
T10(e9, f)
T10(f9, g)

g9 deepest;

char LICENSE[] SEC("license") = "GPL";
