// Library runs with piped stdout (issue 14 #12): a guest writing faster than the caller reads
// waits (its fd_write suspends) once PIPED_OUTPUT_BOUND bytes are unread, instead of queueing
// everything in host memory; also inside a ring buffer callback. kill() while it waits ends
// the run at once, and a reader that cancels makes the writes fail with EPIPE instead of
// hanging the guest. Guests: tests/guests/api/output.c, tests/guests/blocking/blocking.c.
import assert from "node:assert/strict";
import { type WasmBpfChild, WasmBpfCommand } from "../mod.ts";
import { nullSink, nullSource, PIPED_OUTPUT_BOUND, pipedSink } from "../src/api/streams.ts";
import * as abi from "../src/wasi/abi.ts";
import { WasiPreview1 } from "../src/wasi/mod.ts";
import { FakeGate } from "./helpers/wasi.ts";
import { guest, kernelTest } from "./helpers/kernel.ts";

const output = guest("api/output.wasm");
const blocking = guest("blocking/blocking.wasm");

/** The guests write 64 KiB at a time: the host holds at most the bound plus one write. */
const BLOCK = 65536;
const MAX_BACKLOG = PIPED_OUTPUT_BOUND + BLOCK;

/** Fails after `ms` with `what`: a guard against a hang, not a timing assertion. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Follows a guest's stderr: `wrote` is the last "wrote N" it reported (the bytes it has
 * written to stdout so far), `text` every other line. */
function followStderr(stderr: ReadableStream<Uint8Array>) {
  const state = { wrote: 0, text: "" };
  const waiters: Array<() => void> = [];
  const ended = (async () => {
    let pending = "";
    for await (const chunk of stderr.pipeThrough(new TextDecoderStream())) {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const m = line.match(/^wrote (\d+)$/);
        if (m) state.wrote = Number(m[1]);
        else state.text += line + "\n";
      }
      waiters.splice(0).forEach((wake) => wake());
    }
    state.text += pending;
    waiters.splice(0).forEach((wake) => wake());
  })();
  /** Resolves once the guest has reported `bytes` written. */
  const until = async (bytes: number) => {
    let over = false;
    ended.then(() => (over = true));
    while (state.wrote < bytes) {
      if (over) throw new Error(`stderr ended at wrote=${state.wrote}:\n${state.text}`);
      await within(new Promise<void>((r) => waiters.push(r)), 30_000, `wrote ${bytes}`);
    }
  };
  return { state, ended, until };
}

/** Checks a stream of blocks: block i is 4096 lines "%015d\n" of i. */
class BlockChecker {
  bytes = 0;
  #block = -1;
  #expected = new Uint8Array(BLOCK);

  feed(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++, this.bytes++) {
      const block = Math.floor(this.bytes / BLOCK);
      if (block !== this.#block) {
        this.#block = block;
        const line = new TextEncoder().encode(String(block).padStart(15, "0") + "\n");
        for (let at = 0; at < BLOCK; at += 16) this.#expected.set(line, at);
      }
      if (chunk[i] !== this.#expected[this.bytes % BLOCK]) {
        throw new Error(`byte ${this.bytes} (block ${block}) is wrong: out of order or lost`);
      }
    }
  }
}

/**
 * Reads `stdout` slowly (1 ms pause every 256 KiB), sampling what the host holds: what the
 * guest reported written minus what was read. `take` consumes the chunks; stops once `done`
 * says so (of the bytes read) or at the end.
 */
async function readSlowly(
  stdout: ReadableStream<Uint8Array>,
  stderr: ReturnType<typeof followStderr>,
  take: (chunk: Uint8Array) => void,
) {
  let read = 0;
  let maxBacklog = 0;
  for await (const chunk of stdout) {
    read += chunk.length;
    take(chunk);
    if (read % (256 << 10) < chunk.length) await new Promise((r) => setTimeout(r, 1));
    maxBacklog = Math.max(maxBacklog, stderr.state.wrote - read);
  }
  return { read, maxBacklog };
}

/** output.wasm writing 64 MiB, inline, stdout and stderr piped. */
function spawnOutput() {
  const child = new WasmBpfCommand(output, {
    args: ["64"],
    stdout: "piped",
    stderr: "piped",
    isolation: "inline",
  }).spawn();
  return { child, stderr: followStderr(child.stderr) };
}

Deno.test("api/inline: piped stdout to a slow reader holds at most the bound; every byte arrives in order", async () => {
  const { child, stderr } = spawnOutput();
  const check = new BlockChecker();
  const { read, maxBacklog } = await within(
    readSlowly(child.stdout, stderr, (c) => check.feed(c)),
    60_000,
    "reading 64 MiB",
  );
  const status = await child.status;
  await stderr.ended;
  assert.equal(status.code, 0, stderr.state.text);
  assert.equal(stderr.state.text, "done\n");
  assert.equal(read, 64 << 20);
  assert.equal(check.bytes, 64 << 20);
  assert.ok(maxBacklog <= MAX_BACKLOG, `the host held ${maxBacklog} unread bytes`);
  // the reader was slow enough that the guest had to wait: the bound was reached
  assert.ok(maxBacklog >= PIPED_OUTPUT_BOUND / 2, `max backlog ${maxBacklog}: never waited?`);
});

/** A guest that has written the bound to a stdout nobody reads: its next write waits. */
async function blockedOnOutput() {
  const { child, stderr } = spawnOutput();
  await stderr.until(PIPED_OUTPUT_BOUND);
  return { child, stderr };
}

/** Kills a guest whose next write waits on its unread stdout: the run ends at once, by
 * SIGTERM, and stops where it waited (nothing more was written). */
async function killWhileWaiting(
  { child, stderr }: { child: WasmBpfChild; stderr: ReturnType<typeof followStderr> },
) {
  const t0 = performance.now();
  child.kill();
  const status = await within(child.status, 10_000, "status after kill()");
  const ms = performance.now() - t0;
  await child.stdout.cancel();
  await stderr.ended;
  assert.equal(status.code, 143, stderr.state.text);
  assert.equal(status.signal, "SIGTERM");
  assert.ok(ms < 300, `kill took ${ms.toFixed(0)} ms`);
  assert.ok(stderr.state.wrote <= MAX_BACKLOG, `wrote ${stderr.state.wrote}`);
}

Deno.test("api/inline: kill() while the guest waits to write ends the run at once", async () => {
  await killWhileWaiting(await blockedOnOutput());
});

Deno.test("api/inline: a reader that cancels while the guest waits: its write fails with EPIPE", async () => {
  const { child, stderr } = await blockedOnOutput();
  await child.stdout.cancel();
  const status = await within(child.status, 10_000, "status after cancel()");
  await stderr.ended;
  assert.match(stderr.state.text, /^write failed at block \d+: Broken pipe\n$/);
  assert.equal(status.code, 3);
});

Deno.test("pipedSink: backlog, room, and drained on read and on cancel", async () => {
  const piped = pipedSink(100);
  const { sink } = piped;
  assert.equal(sink.room!(), "open");
  sink.write(new Uint8Array(60));
  assert.equal(sink.room!(), "open");
  sink.write(new Uint8Array(60)); // one write may overshoot the bound
  assert.equal(piped.backlog(), 120);
  assert.equal(sink.room!(), "full");
  const drained = sink.drained!();
  const reader = piped.readable.getReader();
  assert.equal((await reader.read()).value!.length, 60);
  await within(drained, 1000, "drained after a read");
  assert.equal(piped.backlog(), 60);
  assert.equal(sink.room!(), "open");
  sink.write(new Uint8Array(60));
  const drainedAgain = sink.drained!();
  await reader.cancel();
  await within(drainedAgain, 1000, "drained after cancel");
  assert.equal(sink.room!(), "closed");
  sink.write(new Uint8Array(1)); // the host's own lines: dropped, no throw
  piped.close();
});

Deno.test("fd_write to a full piped sink: waits for a read, EINTR on a stop, EAGAIN if NONBLOCK, EPIPE once cancelled", async () => {
  const piped = pipedSink(100);
  const gate = new FakeGate();
  const wasi = new WasiPreview1({
    args: ["t"],
    stdin: nullSource,
    stdout: piped.sink,
    stderr: nullSink,
    gate,
  });
  const memory = new WebAssembly.Memory({ initial: 1 });
  wasi.bindMemory(memory);
  new Uint32Array(memory.buffer).set([16, 80]); // the iovec at 0: 80 bytes at 16
  // deno-lint-ignore no-explicit-any
  const fdWrite = wasi.functions.fd_write as (...a: number[]) => any;
  const reader = piped.readable.getReader();
  assert.equal(fdWrite(1, 0, 1, 8), abi.ERRNO_SUCCESS);
  assert.equal(fdWrite(1, 0, 1, 8), abi.ERRNO_SUCCESS); // 160 bytes unread: full
  const waiting = fdWrite(1, 0, 1, 8);
  assert.ok(waiting instanceof Promise);
  assert.equal(piped.backlog(), 160); // nothing written while it waits
  assert.equal((await reader.read()).value!.length, 80);
  assert.equal(await within(waiting, 1000, "the write after a read"), abi.ERRNO_SUCCESS);
  assert.equal(piped.backlog(), 160);

  wasi.functions.fd_fdstat_set_flags(1, abi.FDFLAGS_NONBLOCK);
  assert.equal(fdWrite(1, 0, 1, 8), abi.ERRNO_AGAIN);
  wasi.functions.fd_fdstat_set_flags(1, 0);

  const stopped = fdWrite(1, 0, 1, 8);
  gate.stop();
  assert.equal(await within(stopped, 1000, "the write after a stop"), abi.ERRNO_INTR);
  assert.equal(fdWrite(1, 0, 1, 8), abi.ERRNO_INTR); // stopping: no more waits
  gate.stopping = false;

  const cancelled = fdWrite(1, 0, 1, 8);
  await reader.cancel();
  assert.equal(await within(cancelled, 1000, "the write after cancel"), abi.ERRNO_PIPE);
  assert.equal(fdWrite(1, 0, 1, 8), abi.ERRNO_PIPE);
  wasi.close();
});

Deno.test("poll_oneoff for writing to a full piped sink: ready once read, EPIPE once cancelled", async () => {
  const piped = pipedSink(100);
  const wasi = new WasiPreview1({
    args: ["t"],
    stdin: nullSource,
    stdout: piped.sink,
    stderr: nullSink,
    gate: new FakeGate(),
  });
  const memory = new WebAssembly.Memory({ initial: 1 });
  wasi.bindMemory(memory);
  const dv = new DataView(memory.buffer);
  const SUB = 1024, EV = 2048, NEVENTS = 4000;
  dv.setBigUint64(SUB + abi.SUBSCRIPTION_OFF.userdata, 7n, true);
  dv.setUint8(SUB + abi.SUBSCRIPTION_OFF.tag, abi.EVENTTYPE_FD_WRITE);
  dv.setUint32(SUB + abi.SUBSCRIPTION_OFF.fd, 1, true);
  // deno-lint-ignore no-explicit-any
  const poll = () => wasi.functions.poll_oneoff(SUB, EV, 1, NEVENTS) as any;
  const event = () => ({
    nevents: dv.getUint32(NEVENTS, true),
    userdata: dv.getBigUint64(EV + abi.EVENT_OFF.userdata, true),
    error: dv.getUint16(EV + abi.EVENT_OFF.error, true),
  });
  assert.equal(poll(), abi.ERRNO_SUCCESS); // room: ready at once
  assert.deepEqual(event(), { nevents: 1, userdata: 7n, error: 0 });
  piped.sink.write(new Uint8Array(100));
  dv.setUint32(NEVENTS, 0, true);
  const waiting = poll();
  assert.ok(waiting instanceof Promise, "full: poll waits");
  const reader = piped.readable.getReader();
  await reader.read();
  assert.equal(await within(waiting, 1000, "poll after a read"), abi.ERRNO_SUCCESS);
  assert.deepEqual(event(), { nevents: 1, userdata: 7n, error: 0 });
  piped.sink.write(new Uint8Array(100));
  const cancelled = poll();
  await reader.cancel();
  assert.equal(await within(cancelled, 1000, "poll after cancel"), abi.ERRNO_SUCCESS);
  assert.deepEqual(event(), { nevents: 1, userdata: 7n, error: abi.ERRNO_PIPE });
  wasi.close();
});

// --- a write inside a ring buffer callback waits too ----------------------------------------

const libc = Deno.dlopen(
  "libc.so.6",
  { sched_get_priority_max: { parameters: ["i32"], result: "i32" } } as const,
);

/** blocking.wasm in "flood" mode (4 MiB of output per record), inline, output piped. */
function spawnFlood(records: number) {
  const child = new WasmBpfCommand(blocking, {
    args: [String(Deno.pid), "flood", String(records)],
    stdout: "piped",
    stderr: "piped",
    isolation: "inline",
  }).spawn();
  return { child, stderr: followStderr(child.stderr) };
}

/** One record for ring_a (see blocking.bpf.c). */
const emitRecord = (seq: number) => void libc.symbols.sched_get_priority_max(0x1000 + seq);

kernelTest(
  "api/inline: a ring buffer callback writing to a slow reader waits in the callback",
  async () => {
    const records = 3; // 4 MiB each
    const { child, stderr } = spawnFlood(records);
    const check = new BlockChecker();
    let head = "";
    let tail = "";
    const { maxBacklog } = await within(
      readSlowly(child.stdout, stderr, (chunk) => {
        if (!head.endsWith("ready\n")) {
          // "ready\n" comes first, alone: then make the records
          head += new TextDecoder().decode(chunk);
          assert.equal(head, "ready\n");
          for (let i = 0; i < records; i++) emitRecord(i);
        } else if (check.bytes < records * (4 << 20)) {
          const n = Math.min(chunk.length, records * (4 << 20) - check.bytes);
          check.feed(chunk.subarray(0, n));
          tail += new TextDecoder().decode(chunk.subarray(n));
        } else {
          tail += new TextDecoder().decode(chunk);
        }
      }),
      60_000,
      "reading the callback's output",
    );
    const status = await child.status;
    await stderr.ended;
    assert.equal(stderr.state.text, "");
    assert.match(tail, /^done got=3 got_b=0 returned=3 errors=0 order_bad=0 /);
    assert.equal(status.code, 0, tail);
    assert.ok(maxBacklog <= MAX_BACKLOG, `the host held ${maxBacklog} unread bytes`);
    assert.ok(maxBacklog >= PIPED_OUTPUT_BOUND / 2, `max backlog ${maxBacklog}: never waited?`);
  },
);

kernelTest("api/inline: kill() while a ring buffer callback waits to write", async () => {
  const { child, stderr } = spawnFlood(3);
  const reader = child.stdout.getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), "ready\n");
  reader.releaseLock();
  emitRecord(0);
  await stderr.until(PIPED_OUTPUT_BOUND); // and nobody reads: the callback's next write waits
  await killWhileWaiting({ child, stderr });
});
