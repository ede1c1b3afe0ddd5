// The Rust bindings (wasm-include/libbpf_wasm.rs) on the kernel: tests/guests/rust_maps makes
// typed map operations and error checks through them, one line per check; tests/guests/
// rust_buffers polls a perf buffer and a ring buffer with closures.
import assert from "node:assert/strict";
import { describeRun, guest, kernelTest, runCli } from "./helpers/kernel.ts";
import { getpgid, getsid, onOneCpu } from "./helpers/syscalls.ts";

/** Number of checks maps.rs makes. */
const RUST_MAPS_CHECKS = 29;

kernelTest(
  "Rust bindings: typed map operations, errors by name, attach, rodata setter",
  async () => {
    const r = await runCli([guest("rust_maps/maps.wasm")], { timeoutMs: 20_000 });
    const fails = r.stdout.split("\n").filter((l) => l.startsWith("FAIL"));
    assert.deepEqual(fails, [], `guest checks failed:\n${fails.join("\n")}\n${describeRun(r)}`);
    assert.equal(r.code, 0, describeRun(r));
    const oks = r.stdout.split("\n").filter((l) => l.startsWith("ok "));
    assert.equal(oks.length, RUST_MAPS_CHECKS, describeRun(r));
    for (
      const check of [
        "hash.update_noexist_present_is_EEXIST",
        "hash.keys",
        "array.lookup_struct",
        "attach.unknown_is_ENOENT",
        "rodata.setter_seen_by_kernel",
        "map.after_close_is_error",
      ]
    ) assert.ok(oks.includes(`ok ${check}`), `${check}\n${describeRun(r)}`);
    assert.match(r.stdout, new RegExp(`^summary ok=${RUST_MAPS_CHECKS} fail=0$`, "m"));
  },
);

kernelTest(
  "Rust bindings: Buffer::poll on perf and ring buffers calls the closure per record",
  async () => {
    const COUNT = 5;
    const r = await runCli([guest("rust_buffers/buffers.wasm"), String(Deno.pid), String(COUNT)], {
      onStdout: [{
        text: "ready\n",
        action: () =>
          onOneCpu(() => {
            for (let i = 0; i < COUNT; i++) {
              getsid(1000 + i);
              getpgid(2000 + i);
            }
          }),
      }, { text: "more\n", action: () => void getpgid(3000) }],
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, describeRun(r));
    const lines = r.stdout.split("\n");
    for (let i = 0; i < COUNT; i++) {
      assert.ok(
        lines.includes(`perf seq=${i} tgid=${Deno.pid} arg=${1000 + i} tag=perf-ev`),
        describeRun(r),
      );
      assert.ok(
        lines.includes(`ring seq=${i} tgid=${Deno.pid} arg=${2000 + i} tag=ring-ev`),
        describeRun(r),
      );
    }
    // the closure's -7 stopped the poll and came back as the error (errno 7: E2BIG)
    assert.ok(lines.includes("stopped E2BIG (-7) after 1"), describeRun(r));
  },
);
