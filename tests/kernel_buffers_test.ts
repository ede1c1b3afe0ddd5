// wasm_bpf_buffer_poll on a perf event array AND a ring buffer of one object, with table-index
// callbacks (guest: tests/guests/perfbuf/perfbuf.c; contract: docs/abi.md §2).
import assert from "node:assert/strict";
import { describeRun, guest, kernelTest, runCli } from "./helpers/kernel.ts";
import { readRest, readUntil } from "./helpers/stdout.ts";
import { WasmBpfCommand } from "../mod.ts";
import { getpgid, getsid, onOneCpu } from "./helpers/syscalls.ts";

const COUNT = 8;

// Both consumers: in place (the default) and copying (the fallback when the in-place
// self-check fails, forced here by WASM_BPF_COPY_BUFFERS=1).
for (const consumer of ["inplace", "copy"] as const) {
  kernelTest(
    `buffers (${consumer}): perf buffer and ring buffer in one guest, every record in order`,
    async () => {
      const r = await runCli(
        ["-v", guest("perfbuf/perfbuf.wasm"), String(Deno.pid), String(COUNT)],
        {
          env: consumer === "copy" ? { WASM_BPF_COPY_BUFFERS: "1" } : {},
          onStdout: [{
            text: "ready\n",
            action: () => {
              // one CPU: perf buffers are per CPU, and only records of one CPU keep their order
              onOneCpu(() => {
                for (let i = 0; i < COUNT; i++) {
                  getsid(1000 + i);
                  getpgid(2000 + i);
                }
              });
            },
          }],
          timeoutMs: 60_000,
        },
      );
      const lines = r.stdout.split("\n");
      assert.ok(lines.includes("first polls perf=0 ring=0"), describeRun(r));
      const perf = lines.filter((l) => l.startsWith("perf "));
      const ring = lines.filter((l) => l.startsWith("ring "));
      assert.equal(perf.length, COUNT, `perf records\n${describeRun(r)}`);
      assert.equal(ring.length, COUNT, `ring records\n${describeRun(r)}`);
      for (let i = 0; i < COUNT; i++) {
        // perf: the raw sample is 24 bytes of data padded by the kernel to 28; max_size 64 > n
        assert.match(
          perf[i],
          new RegExp(
            `^perf seq=${i} tgid=${Deno.pid} arg=${1000 + i} tag=perf-ev n=(2[4-9]|3[0-2]) ` +
              `ctx=perf at=ok tail=ok$`,
          ),
          `perf record ${i}\n${describeRun(r)}`,
        );
        // ring: 24-byte records polled with max_size 20: n = min(24, 20), tag cut to 4 bytes,
        // nothing written past n
        assert.equal(
          ring[i],
          `ring seq=${i} tgid=${Deno.pid} arg=${2000 + i} tag=ring n=20 ctx=ring at=ok tail=ok`,
          `ring record ${i}\n${describeRun(r)}`,
        );
      }
      // the ring callback returned -42 for seq 2: that poll returned -42, later polls went on
      assert.match(
        r.stdout,
        new RegExp(
          `^done perf=${COUNT} ring=${COUNT} perf_returned=${COUNT} ring_returned=\\d+ neg42=1 ` +
            `errors=0 perf_order_bad=0 ring_order_bad=0$`,
          "m",
        ),
        describeRun(r),
      );
      assert.match(r.stdout, /^close=0$/m, describeRun(r));
      assert.equal(r.code, 0, describeRun(r));
      for (const kind of ["perfbuf", "ringbuf"]) {
        assert.match(r.stderr, new RegExp(`: ${kind}-${consumer} consumer`), describeRun(r));
      }
    },
  );
}

for (
  const [how, code, message] of [
    ["trap", 1, /the guest trapped: unreachable\n\s+at on_sample/],
    ["exit", 5, /^$/],
  ] as const
) {
  kernelTest(
    `buffers: ${how} inside a poll callback ends the run as such (status ${code})`,
    async () => {
      const r = await runCli([guest("perfbuf/perfbuf.wasm"), String(Deno.pid), "4", how], {
        onStdout: [{
          text: "ready\n",
          action: () => {
            onOneCpu(() => {
              for (let i = 0; i < 4; i++) {
                getsid(1000 + i);
                getpgid(2000 + i);
              }
            });
          },
        }],
        timeoutMs: 60_000,
      });
      assert.equal(r.code, code, describeRun(r));
      assert.match(r.stderr.trim(), message, describeRun(r));
      if (how === "exit") {
        // exit() flushed stdio: the first ring record was delivered, the second ended the run.
        // (After a trap, stdio buffers are lost, as they are when a native program crashes.)
        assert.match(r.stdout, /^ring seq=0 /m, describeRun(r));
        assert.doesNotMatch(r.stdout, /^ring seq=1 /m, describeRun(r));
        assert.match(r.stdout, /^exiting from the callback$/m, describeRun(r));
      }
    },
  );
}

/** COUNT perf and ring records of the guest, from one CPU (perf buffers are per CPU). */
function triggerOnOneCpu(): void {
  onOneCpu(() => {
    for (let i = 0; i < COUNT; i++) {
      getsid(1000 + i);
      getpgid(2000 + i);
    }
  });
}

kernelTest("buffers: perf records sent before the first poll are not lost", async () => {
  // The guest asks for the perf map's fd, attaches, says "ready", and polls only after the
  // test has sent every record (and then "go" on stdin).
  const child = new WasmBpfCommand(guest("perfbuf/perfbuf.wasm"), {
    args: [String(Deno.pid), String(COUNT), "late"],
    stdin: "piped",
    stdout: "piped",
    isolation: "inline",
  }).spawn();
  let out = await readUntil(child.stdout, "ready\n");
  triggerOnOneCpu();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("go\n"));
  await writer.close();
  out += await readRest(child.stdout);
  const status = await child.status;
  assert.equal(status.code, 0, out);
  assert.equal(out.split("\n").filter((l) => l.startsWith("perf ")).length, COUNT, out);
  assert.match(out, new RegExp(`^done perf=${COUNT} ring=${COUNT} `, "m"));
});

/** The number of online CPUs (libbpf opens a perf buffer on each). */
function onlineCpus(): number {
  let n = 0;
  for (const range of Deno.readTextFileSync("/sys/devices/system/cpu/online").trim().split(",")) {
    const [a, b] = range.split("-").map(Number);
    n += (b ?? a) - a + 1;
  }
  return n;
}

/** The perf event fds of this process, and its mappings of perf events. */
function perfEventsHeld(): { fds: number; mappings: number } {
  let fds = 0;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${e.name}`) === "anon_inode:[perf_event]") fds++;
    } catch { /* closed meanwhile (the readDir's own fd) */ }
  }
  const maps = Deno.readTextFileSync("/proc/self/maps").split("\n");
  return { fds, mappings: maps.filter((l) => l.endsWith("anon_inode:[perf_event]")).length };
}

kernelTest(
  "buffers: perf buffers read in place; a closed object leaves no perf event held",
  async () => {
    const before = perfEventsHeld();
    const child = new WasmBpfCommand(guest("perfbuf/perfbuf.wasm"), {
      args: [String(Deno.pid), String(COUNT)],
      stdout: "piped",
      isolation: "inline",
    }).spawn();
    let out = await readUntil(child.stdout, "ready\n");
    // both pollers exist: each online CPU's perf buffer is mapped twice (libbpf's mapping and
    // the pump's in-place one)
    const during = perfEventsHeld();
    const cpus = onlineCpus();
    assert.ok(during.fds >= before.fds + cpus, `perf event fds: ${JSON.stringify(during)}`);
    assert.equal(during.mappings - before.mappings, 2 * cpus, "each CPU's buffer mapped twice");
    triggerOnOneCpu();
    out += await readRest(child.stdout);
    assert.equal((await child.status).code, 0, out);
    assert.match(out, /^close=0$/m, out);
    // closed: the fds are closed and the pump's mapping replaced at once, not at a later GC
    assert.deepEqual(perfEventsHeld(), before, out);
  },
);
