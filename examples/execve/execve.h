/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The record execve.bpf.c sends through its ring buffer, in its natural 64-bit layout
 * (a `long`, an enum, implicit padding).  Only the BPF side includes this header: the
 * guest uses the layout-exact copy that the skeleton defines (`// skel: --types event`). */
#ifndef __EXECVE_H
#define __EXECVE_H

#define TASK_COMM_LEN 16
#define MAX_FILENAME_LEN 128

enum event_kind {
    EVENT_CALL = 0, /* execve() entered (tracepoint syscalls/sys_enter_execve) */
    EVENT_EXEC = 1, /* the new program runs (raw tracepoint sched_process_exec) */
};

struct event {
    enum event_kind kind;
    int pid;
    int ppid;
    unsigned int uid;
    _Bool root;           /* uid == 0 (followed by 7 bytes of padding) */
    unsigned long ts_ns;  /* 8 bytes in BPF, 4 in wasm32: the skeleton says uint64_t */
    char comm[TASK_COMM_LEN];
    char filename[MAX_FILENAME_LEN];
};

#endif /* __EXECVE_H */
