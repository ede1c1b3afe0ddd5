/* BPF side: the context of a tp/syscalls/sys_enter_* program, without vmlinux.h
 * (see /sys/kernel/tracing/events/syscalls/sys_enter_getpgid/format), and the record the
 * test programs emit. Shared by the host-ABI test guests' .bpf.c files. */
#ifndef WASM_BPF_TEST_SYSCALL_TP_H
#define WASM_BPF_TEST_SYSCALL_TP_H

struct sys_enter_ctx {
  unsigned long long common; /* type, flags, preempt_count, pid */
  long long syscall_nr;
  unsigned long long args[6];
};

/* Shared by BPF (64-bit) and the guest (wasm32): fixed-size fields only, 24 bytes. */
struct test_event {
  unsigned int seq;
  unsigned int tgid;
  unsigned long long arg;
  char tag[8];
} __attribute__((packed));
_Static_assert(sizeof(struct test_event) == 24, "test_event layout");

#endif
