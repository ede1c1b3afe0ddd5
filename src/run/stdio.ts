/** The CLI's stdio for a guest: the process's own streams. */

import type { InputSource, OutputSink } from "../wasi/host_hooks.ts";

/** Writes every byte of `bytes` (writeSync may take fewer); throws what the writer throws. */
export function writeAllSync(
  writer: { writeSync(p: Uint8Array): number },
  bytes: Uint8Array,
): void {
  let off = 0;
  while (off < bytes.length) off += writer.writeSync(bytes.subarray(off));
}

/** A synchronous sink over Deno.stdout or Deno.stderr that writes every byte. A write that finds
 * no reader calls `onBrokenPipe` (Deno ignores SIGPIPE), then fails as it would have (EPIPE). */
export function stdioSink(
  stream: typeof Deno.stdout | typeof Deno.stderr,
  onBrokenPipe?: () => void,
): OutputSink {
  return {
    isTerminal: stream.isTerminal(),
    write(bytes: Uint8Array): void {
      try {
        writeAllSync(stream, bytes);
      } catch (e) {
        if (e instanceof Deno.errors.BrokenPipe) onBrokenPipe?.();
        throw e;
      }
    },
  };
}

/** The process's stdin, read asynchronously so that a waiting guest can still be stopped. */
export function stdinSource(): InputSource {
  return {
    isTerminal: Deno.stdin.isTerminal(),
    read: (buf) => Deno.stdin.read(buf),
  };
}
