/**
 * The few libc functions the host needs next to libbpf: errno, printf-style formatting of
 * libbpf's log messages, and the eventfd/epoll plumbing that lets a stop request wake a wait.
 * Opened lazily, like libbpf.
 */

import { lazySymbols } from "./lazy_symbols.ts";

const libcSymbols = {
  /** int *__errno_location(void) */
  __errno_location: { parameters: [], result: "pointer" },
  /** int vsnprintf(char *str, size_t size, const char *format, va_list ap) */
  vsnprintf: { parameters: ["buffer", "usize", "pointer", "pointer"], result: "i32" },
  /** int eventfd(unsigned int initval, int flags) */
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  /** int epoll_create1(int flags) */
  epoll_create1: { parameters: ["i32"], result: "i32" },
  /** int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event) */
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  /** int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout): on a
   * worker thread, so the event loop runs (signals, timers) while a guest waits for events. */
  epoll_wait_async: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  /** ssize_t write(int fd, const void *buf, size_t count) */
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /** ssize_t read(int fd, void *buf, size_t count) */
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /** int close(int fd) */
  close: { parameters: ["i32"], result: "i32" },
  /** int open(const char *pathname, int flags, ...) */
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  /** int fstatfs(int fd, struct statfs *buf): which filesystem an attach target lies on. */
  fstatfs: { parameters: ["i32", "buffer"], result: "i32" },
  /** ssize_t readlink(const char *path, char *buf, size_t size): /proc/self/fd/N, which Deno
   * refuses to read without --allow-all (the process-isolation child has less). */
  readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  /** unsigned int if_nametoindex(const char *ifname) */
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  /** void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset): maps a
   * ring buffer map's pages for the pure-TypeScript consumer. Returns MAP_FAILED ((void *)-1). */
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  /** int munmap(void *addr, size_t length) */
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  /** int sigaction(int signum, const struct sigaction *act, struct sigaction *oldact): the
   * CLI switches SIGINT/SIGTERM between Deno's handler (during waits) and the default action. */
  sigaction: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  /** long syscall(SYS_bpf, int cmd, union bpf_attr *attr, unsigned int size): the map
   * operations' hot path (map_operate.ts). 0 or -1 with errno for the commands it issues. */
  syscall_bpf: { name: "syscall", parameters: ["i64", "i32", "u64", "u32"], result: "i32" },
  /** long sysconf(int name) */
  sysconf: { parameters: ["i32"], result: "i64" },
  /** int malloc_trim(size_t pad) (glibc) */
  malloc_trim: { parameters: ["usize"], result: "i32", optional: true },
} as const satisfies Deno.ForeignLibraryInterface;

export type Libc = Deno.DynamicLibrary<typeof libcSymbols>["symbols"];

let libc: Libc | undefined;
let errnoView: Deno.UnsafePointerView | undefined;

/** libc's symbols, each bound on its first use (lazy_symbols.ts). */
export function getLibc(): Libc {
  if (!libc) {
    libc = lazySymbols("libc.so.6", libcSymbols, ["__errno_location"]);
    // Now, not at the first lastErrno(): that may come right after a failed call.
    const p = libc.__errno_location();
    if (p !== null) errnoView = new Deno.UnsafePointerView(p);
  }
  return libc;
}

/** The calling thread's errno; read it right after the failing call, before anything else. */
export function lastErrno(): number {
  if (!errnoView) {
    const p = getLibc().__errno_location();
    if (p === null) return 0;
    errnoView = new Deno.UnsafePointerView(p);
  }
  return errnoView.getInt32();
}

/** A NUL-terminated copy of a JS string, for `buffer` parameters. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Gives the heap pages free() kept back to the kernel. libbpf parses the kernel's BTF (some
 * MB) to load an object and frees it after; glibc keeps most of those pages, ~0.5-1 MB of a
 * run's resident memory for as long as it runs. Costs well under a millisecond. */
export function releaseFreedHeap(): void {
  getLibc().malloc_trim?.(0n);
}

/** bpf(2)'s syscall number on this machine's architecture (undefined where not known here). */
export const SYS_BPF: bigint | undefined = ({ x86_64: 321n, aarch64: 280n } as Record<
  string,
  bigint
>)[Deno.build.arch];

/** The calling thread's errno as a one-element view, for hot paths that read it after every
 * call (a typed-array read, where `lastErrno` is a slower FFI view call). */
export function errnoCell(): Int32Array {
  const p = getLibc().__errno_location();
  if (p === null) throw new Error("__errno_location returned NULL");
  return new Int32Array(Deno.UnsafePointerView.getArrayBuffer(p, 4));
}
