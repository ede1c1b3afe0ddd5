/**
 * What the WASI layer needs from whoever runs the guest. The layers above implement these
 * (src/run/stdio.ts, src/guest/stop.ts, src/api/streams.ts); tests implement them with
 * in-memory fakes. Keeping them as interfaces keeps src/wasi/ free of
 * any knowledge of BPF, signals or the CLI.
 */

/** A sink for a guest's stdout or stderr. `write` is synchronous and takes all the bytes. */
export interface OutputSink {
  /** Takes all of `bytes` synchronously. The WASI layer passes a fresh copy the sink may keep. */
  write(bytes: Uint8Array): void;
  /** true when the real stream is a terminal: fd_fdstat_get then reports a character device,
   * which makes wasi-libc line-buffer stdout (as a C program on a TTY would). */
  readonly isTerminal: boolean;
  /**
   * Back-pressure, for a sink whose reader may be slower than the guest (absent: a write never
   * waits, as over a real fd, where the kernel's pipe blocks the write itself). Asked before
   * each guest write: `"open"`, the write goes ahead; `"full"`, the unread backlog is at the
   * sink's bound, and the guest waits for {@link drained} (and the BlockingGate) before it
   * asks again; `"closed"`, nobody will read any more: the guest's write fails with EPIPE.
   * The host's own `write`s are never refused.
   */
  room?(): "open" | "full" | "closed";
  /** Settles once the backlog is under the bound again, or the reader went away. */
  drained?(): Promise<void>;
}

/** A source for the guest's stdin. */
export interface InputSource {
  /** Reads up to buf.length bytes; resolves to the count, or null at end of input. */
  read(buf: Uint8Array): Promise<number | null>;
  /** true when the real stream is a terminal (fd_fdstat_get of fd 0 then reports a char device). */
  readonly isTerminal: boolean;
}

/**
 * How blocking WASI calls (poll_oneoff sleeps, stdin reads) wait, so that a stop request
 * (Ctrl-C, SIGTERM, kill() from the library API) ends them at once.
 *
 * Protocol for a blocking import:
 *   1. call `checkpoint()` first: it throws the host's unwind sentinel once a stop was requested
 *      and the guest's grace period is over (the throw unwinds the guest; never catch it);
 *   2. if `stopping` is true, return EINTR without blocking (the guest gets a chance to exit
 *      cleanly, as a libbpf-tools program does on SIGINT);
 *   3. otherwise block through `sleep` / `race`; when they report a stop, return EINTR.
 */
export interface BlockingGate {
  /** true once a stop was requested: blocking imports then return EINTR without blocking. */
  readonly stopping: boolean;
  /** Throws the host's unwind sentinel once the guest's grace period after a stop is over. */
  checkpoint(): void;
  /** Waits `ms` milliseconds (Infinity: forever) or until a stop; resolves true if stopped. */
  sleep(ms: number): Promise<boolean>;
  /** Awaits `p` unless a stop comes first. */
  race<T>(p: Promise<T>): Promise<{ value: T } | "stopped">;
}
