/**
 * Syscalls the kernel tests make from the test process to fire the test guests' tracepoints
 * (`tp/syscalls/sys_enter_getsid`, `…getpgid`, `…getppid`), through libc via FFI. A guest cannot
 * make these calls itself (WASI has no such syscalls).
 */

let lib: ReturnType<typeof open> | null = null;

function open() {
  return Deno.dlopen(
    "libc.so.6",
    {
      // pid_t getsid(pid_t pid);
      getsid: { parameters: ["i32"], result: "i32" },
      // pid_t getpgid(pid_t pid);
      getpgid: { parameters: ["i32"], result: "i32" },
      // pid_t getppid(void);
      getppid: { parameters: [], result: "i32" },
      // int sched_getaffinity(pid_t pid, size_t cpusetsize, cpu_set_t *mask);
      sched_getaffinity: { parameters: ["i32", "usize", "buffer"], result: "i32" },
      // int sched_setaffinity(pid_t pid, size_t cpusetsize, const cpu_set_t *mask);
      sched_setaffinity: { parameters: ["i32", "usize", "buffer"], result: "i32" },
    } as const,
  );
}

function libc() {
  return (lib ??= open()).symbols;
}

/** getsid(pid): fires sys_enter_getsid with args[0] = pid (the call itself may fail). */
export function getsid(pid: number): number {
  return libc().getsid(pid);
}

/** getpgid(pid): fires sys_enter_getpgid with args[0] = pid. */
export function getpgid(pid: number): number {
  return libc().getpgid(pid);
}

/** getppid(): fires sys_enter_getppid. */
export function getppid(): number {
  return libc().getppid();
}

/**
 * Runs `fn` with the calling thread pinned to one CPU, so that per-CPU perf buffer records it
 * causes all land in one CPU's buffer (and so keep their order), then restores the affinity.
 */
export function onOneCpu<T>(fn: () => T, cpu = 0): T {
  const size = 128;
  const saved = new Uint8Array(size);
  if (libc().sched_getaffinity(0, BigInt(size), saved) !== 0) {
    throw new Error("sched_getaffinity failed");
  }
  const one = new Uint8Array(size);
  one[cpu >> 3] = 1 << (cpu & 7);
  if (libc().sched_setaffinity(0, BigInt(size), one) !== 0) {
    throw new Error(`sched_setaffinity(cpu ${cpu}) failed`);
  }
  try {
    return fn();
  } finally {
    libc().sched_setaffinity(0, BigInt(size), saved);
  }
}
