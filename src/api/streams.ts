/**
 * Guest stdio for library runs: sinks that feed ReadableStreams, and a WritableStream that
 * feeds the guest's stdin.
 */

import { concatBytes } from "../bytes.ts";
import type { InputSource, OutputSink } from "../wasi/host_hooks.ts";

/** How much unread output a piped stream holds before the guest's writes wait for the
 * reader. */
export const PIPED_OUTPUT_BOUND = 1 << 20;

/**
 * A sink whose bytes come out of `readable`, with back-pressure: once `bound` bytes are queued
 * unread, the guest's next write waits (suspended, JSPI) until the reader has taken enough, as
 * a process writing to a full pipe does. The queue holds at most `bound` plus one write. A
 * reader that cancels the stream is a pipe with no reader: the guest's writes fail with EPIPE
 * (without a SIGPIPE), and the host's own lines are dropped.
 */
export function pipedSink(bound: number = PIPED_OUTPUT_BOUND): {
  sink: OutputSink;
  readable: ReadableStream<Uint8Array>;
  /** The bytes queued and not read yet. */
  backlog(): number;
  close(): void;
} {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let cancelled = false;
  let waiting: PromiseWithResolvers<void> | undefined;
  const wake = () => {
    waiting?.resolve();
    waiting = undefined;
  };
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    // The stream calls pull whenever its queue is under the high-water mark and the reader
    // took a chunk: there is room.
    pull: wake,
    cancel() {
      cancelled = true;
      wake();
    },
  }, { highWaterMark: bound, size: (chunk) => chunk.byteLength });
  const backlog = () => closed || cancelled ? 0 : bound - (controller.desiredSize ?? bound);
  return {
    readable,
    backlog,
    sink: {
      isTerminal: false,
      write(bytes) {
        // The bytes are a fresh copy (OutputSink.write): no need to copy again.
        if (!closed && !cancelled) controller.enqueue(bytes);
      },
      room: () => cancelled ? "closed" : backlog() < bound ? "open" : "full",
      drained: () => (waiting ??= Promise.withResolvers()).promise,
    },
    close() {
      if (!closed && !cancelled) controller.close();
      closed = true;
      wake();
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
