/**
 * Guest stdio for library runs: sinks that feed ReadableStreams, and a WritableStream that
 * feeds the guest's stdin.
 */

import { concatBytes } from "../bytes.ts";
import type { InputSource, OutputSink } from "../wasi/host_hooks.ts";

/** A sink whose bytes come out of `readable`. Writes never block the guest: chunks queue up
 * until the reader takes them (the guest runs on the caller's thread, so back-pressure would
 * be a deadlock). */
export function pipedSink(): {
  sink: OutputSink;
  readable: ReadableStream<Uint8Array>;
  close(): void;
} {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let cancelled = false;
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      cancelled = true;
    },
  });
  return {
    readable,
    sink: {
      isTerminal: false,
      write(bytes) {
        // Copy: the caller may reuse its buffer. A cancelled reader makes writes vanish, as
        // writing to a pipe nobody reads would (without the SIGPIPE).
        if (!closed && !cancelled) controller.enqueue(bytes.slice());
      },
    },
    close() {
      if (!closed && !cancelled) controller.close();
      closed = true;
    },
  };
}

/** A sink that discards everything ("null"). */
export const nullSink: OutputSink = { isTerminal: false, write() {} };

/** An input that is at its end at once ("null"). */
export const nullSource: InputSource = { isTerminal: false, read: () => Promise.resolve(null) };

/** A guest stdin fed by a WritableStream ("piped"). */
export function pipedSource(): { source: InputSource; writable: WritableStream<Uint8Array> } {
  const queue: Uint8Array[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      queue.push(chunk.slice());
      notify();
    },
    close() {
      ended = true;
      notify();
    },
    abort() {
      ended = true;
      notify();
    },
  });
  const source: InputSource = {
    isTerminal: false,
    async read(buf) {
      while (queue.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
      const head = queue[0];
      if (!head) return null;
      const n = Math.min(buf.length, head.length);
      buf.set(head.subarray(0, n));
      if (n === head.length) queue.shift();
      else queue[0] = head.subarray(n);
      return n;
    },
  };
  return { source, writable };
}

/** Reads a stream to its end. */
export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return concatBytes(chunks);
}
