// wasm_bpf_map_operate on real HASH / ARRAY / PERCPU_ARRAY / PERCPU_HASH maps
// (guest: tests/guests/maps/maps.c; contract: docs/abi.md §1.4).
import assert from "node:assert/strict";
import { describeRun, guest, kernelTest, possibleCpus, runCli } from "./helpers/kernel.ts";

/** Number of checks maps.c makes (one "ok <check>" line each when all pass). */
const MAPS_CHECKS = 81;

function okLines(stdout: string): string[] {
  return stdout.split("\n").filter((l) => l.startsWith("ok "));
}

kernelTest("maps: map_operate on hash, array, per-CPU maps (guest checks)", async () => {
  const ncpu = possibleCpus();
  const r = await runCli([guest("maps/maps.wasm"), String(ncpu)]);
  const fails = r.stdout.split("\n").filter((l) => l.startsWith("FAIL"));
  assert.deepEqual(fails, [], `guest checks failed:\n${fails.join("\n")}\n${describeRun(r)}`);
  assert.equal(r.code, 0, describeRun(r));
  assert.match(r.stdout, new RegExp(`^info ncpu=${ncpu}$`, "m"));
  assert.equal(okLines(r.stdout).length, MAPS_CHECKS, describeRun(r));
  assert.match(r.stdout, new RegExp(`^summary ok=${MAPS_CHECKS} fail=0$`, "m"));
});

kernelTest("maps: GET_NEXT_KEY with a NULL key returns element 0 of an array", async () => {
  // called out separately: upstream hosts read the key from address 0 and skip element 0
  const r = await runCli([guest("maps/maps.wasm"), String(possibleCpus())]);
  assert.match(r.stdout, /^ok array\.next_key_null_is_first_key_0$/m, describeRun(r));
  assert.match(r.stdout, /^ok array\.walk_order_0_1_2_3$/m, describeRun(r));
});

kernelTest("maps: per-CPU value size is round_up(value_size, 8) x possible CPUs", async () => {
  const r = await runCli([guest("maps/maps.wasm"), String(possibleCpus())]);
  for (
    const check of [
      "pcpu_array.value_ends_at_memory_end",
      "pcpu_array.value_one_byte_short",
      "pcpu_array.no_write_past_value",
      "pcpu_hash.value_ends_at_memory_end",
      "pcpu_hash.value_one_byte_short",
      "pcpu_hash.no_write_past_value",
      "pcpu_hash.lookup_values_per_cpu",
    ]
  ) {
    assert.match(r.stdout, new RegExp(`^ok ${check.replaceAll(".", "\\.")}$`, "m"), describeRun(r));
  }
});
