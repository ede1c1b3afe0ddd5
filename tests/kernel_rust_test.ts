// The Rust bindings (wasm-include/libbpf_wasm.rs) on real maps: the guest
// tests/guests/rust_maps/maps.rs makes typed map operations and error checks through them and
// prints one line per check.
import assert from "node:assert/strict";
import { describeRun, guest, kernelTest, runCli } from "./helpers/kernel.ts";

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
