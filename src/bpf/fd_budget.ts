/**
 * File descriptors the host keeps for itself. Every map, program, link and buffer poller of a
 * guest is an fd of the host process; a guest that loads objects until EMFILE leaves Deno none
 * for its own needs (signal handling, pipes, module reads) and the next one it needs panics the
 * runtime. So a load is refused while what the object needs would eat into a reserve.
 *
 * Deno raises the soft RLIMIT_NOFILE to the hard limit at start (measured with Deno 2.9: soft
 * 1024 under hard 20000 became 20000), so the soft limit read here is what the process has.
 */

import { MapType, numPossibleCpus } from "./bpf_objects.ts";
import { getLibbpf } from "../ffi/libbpf_ffi.ts";

/** fds kept for the host itself: Deno's runtime, stdio, pipes to a process-isolated child,
 * module and directory reads. Deno uses about 20 at rest; the rest is headroom. */
export const HOST_FD_RESERVE = 256;
/** fds kept for the guest's WASI files: the default cap on a guest's open WASI fds. */
export const WASI_FD_RESERVE = 256;

/** The soft RLIMIT_NOFILE of this process (Infinity when unlimited or unreadable). */
export function softFdLimit(): number {
  try {
    const line = Deno.readTextFileSync("/proc/self/limits").split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    return soft === undefined || soft === "unlimited" ? Infinity : Number(soft);
  } catch {
    return Infinity;
  }
}

/** How many fds this process has open (0 when /proc/self/fd cannot be read). */
export function openFdCount(): number {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n;
  } catch {
    return 0;
  }
}

/** About how many fds an opened (not yet loaded) object will hold at most: one per map and
 * for its BTF, three per program (its fd, a link, and a perf event for kprobes and uprobes),
 * and the fds of its buffer pollers (an epoll fd per ring buffer; a perf event per
 * CPU plus an epoll fd per perf buffer). */
export function fdsNeededBy(obj: Deno.PointerObject): number {
  const lib = getLibbpf();
  let n = 1; // BTF
  for (let m = lib.bpf_object__next_map(obj, null); m; m = lib.bpf_object__next_map(obj, m)) {
    const type = lib.bpf_map__type(m);
    n += 1;
    if (type === MapType.RINGBUF) n += 1;
    if (type === MapType.PERF_EVENT_ARRAY) n += numPossibleCpus() + 1;
  }
  for (
    let p = lib.bpf_object__next_program(obj, null);
    p !== null;
    p = lib.bpf_object__next_program(obj, p)
  ) n += 3;
  return n;
}

/** Null when the process can spare `needed` more fds and keep its reserve; otherwise why not
 * (for an EMFILE log line). */
export function fdBudgetRefusal(needed: number): string | null {
  const limit = softFdLimit();
  const open = openFdCount();
  const reserve = HOST_FD_RESERVE + WASI_FD_RESERVE;
  if (open + needed + reserve <= limit) return null;
  return `EMFILE: the object needs up to ${needed} file descriptors, ${open} of the ` +
    `${limit} this process may open (RLIMIT_NOFILE) are in use, and the host keeps ${reserve} ` +
    `for itself and the guest's files; close objects first, or raise the limit (ulimit -Hn)`;
}
