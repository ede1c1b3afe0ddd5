// The ring buffer consumer's edge cases on the real kernel: a full ring, discarded records,
// records crossing the end of the ring, the per-poll budget, a negative guest return. The
// consumer: src/bpf/events/ringbuf_reader.ts stages records, the wasm pump (src/bpf/events/pump.ts) delivers.
// Guest: tests/guests/ringbuf/ringbuf.c.
import assert from "node:assert/strict";
import { describeRun, guest, kernelTest, runCli } from "./helpers/kernel.ts";

// Syscalls no other test fires (test files may run concurrently in one process): the guest's
// programs trace getpriority(PRIO_PROCESS, arg) and sched_get_priority_min(arg).
const libc = Deno.dlopen(
  "libc.so.6",
  {
    getpriority: { parameters: ["i32", "u32"], result: "i32" },
    sched_get_priority_min: { parameters: ["i32"], result: "i32" },
  } as const,
).symbols;
const emitRing = (arg: number) => void libc.getpriority(0, arg);
const emitBig = (count: number) => void libc.sched_get_priority_min(count);
import { RECORD_BUDGET } from "../src/bpf/events/buffer_poller.ts";

/** 40-byte records (48 with the header) in a 16 KiB ring: 341 fit. */
const RING_FIT = Math.floor(16384 / 48);
const BIG = 70_000;
const DISCARD = 1 << 20;

// Both consumers: in place (the default) and copying (the fallback when the in-place
// self-check fails, forced here by WASM_BPF_COPY_BUFFERS=1).
for (const consumer of ["inplace", "copy"] as const) {
  kernelTest(
    `ringbuf (${consumer}): full ring, discards, wrap, budget, negative return`,
    async () => {
      const actions = [
        { text: "ready full\n", action: () => emitRing(1000) },
        ...Array.from({ length: 10 }, (_, b) => ({
          text: `batch ${b}\n`,
          action: () => emitRing(DISCARD | 100),
        })),
        { text: "ready budget\n", action: () => emitBig(BIG) },
        { text: "ready neg\n", action: () => emitRing(10) },
      ];
      const r = await runCli(["-v", guest("ringbuf/ringbuf.wasm"), String(Deno.pid)], {
        onStdout: actions,
        env: consumer === "copy" ? { WASM_BPF_COPY_BUFFERS: "1" } : {},
        timeoutMs: 60_000,
      });
      const out = r.stdout;
      assert.equal(r.code, 0, describeRun(r));
      assert.match(
        r.stderr,
        new RegExp(`buffer ring: ringbuf-${consumer} consumer`),
        `consumer in use\n${describeRun(r)}`,
      );
      // full: the first RING_FIT records, in order and intact; the rest dropped by the producer
      assert.match(
        out,
        new RegExp(
          `^full got=${RING_FIT} first=0 last=${RING_FIT - 1} order_bad=0 payload_bad=0 ` +
            `dropped=${1000 - RING_FIT}$`,
          "m",
        ),
        describeRun(r),
      );
      // the ring is now at 341 * 48 = 16368: the next record crosses its end, and so do others;
      // every odd sequence number was discarded, and no discarded record reached the guest
      assert.match(out, /^wrap got=500 order_bad=0 payload_bad=0 odd=0$/m, describeRun(r));
      // a producer faster than the consumer cannot keep a poll from returning
      assert.match(
        out,
        new RegExp(
          `^budget first=${RECORD_BUDGET} second=${BIG - RECORD_BUDGET} order_bad=0$`,
          "m",
        ),
        describeRun(r),
      );
      // -7 from the 4th record stops the poll; that record is consumed, the next poll goes on
      assert.match(out, /^neg first=-7 second=6 got=10 order_bad=0$/m, describeRun(r));
      assert.doesNotMatch(out, /poll error|FAIL/, describeRun(r));
    },
  );
}
