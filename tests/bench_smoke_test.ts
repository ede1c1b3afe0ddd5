// `deno task bench` with small counts: it runs end to end, and its --json line has exactly the
// documented shape with positive numbers: every metric against native, and every events metric
// also against native+copy (`<metric>_native_copy`). No timing assertion: the numbers of a smoke
// run mean nothing (bench/bench.ts).
import assert from "node:assert/strict";
import { kernelTest, repoRoot } from "./helpers/kernel.ts";

const KEYS = [
  "startup_ms",
  "ringbuf_16b_events_per_s",
  "ringbuf_256b_events_per_s",
  "perfbuf_16b_events_per_s",
  "perfbuf_256b_events_per_s",
  "ringbuf_16b_events_per_s_native_copy",
  "ringbuf_256b_events_per_s_native_copy",
  "perfbuf_16b_events_per_s_native_copy",
  "perfbuf_256b_events_per_s_native_copy",
  "map_lookup_per_s",
  "map_update_per_s",
  "map_next_key_per_s",
  "peak_rss_mb",
];

kernelTest("bench: smoke run prints the JSON line with every metric", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${repoRoot}bench/bench.ts`, "--smoke", "--json"],
    cwd: repoRoot,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const td = new TextDecoder();
  const stdout = td.decode(out.stdout);
  const why = `status ${out.code}\n--- stdout ---\n${stdout}--- stderr ---\n${
    td.decode(out.stderr)
  }`;
  assert.equal(out.code, 0, why);
  const last = stdout.trimEnd().split("\n").at(-1)!;
  const json = JSON.parse(last) as Record<string, { ours: unknown; native: unknown }>;
  assert.deepEqual(Object.keys(json).sort(), [...KEYS].sort(), why);
  for (const key of KEYS) {
    assert.deepEqual(Object.keys(json[key]).sort(), ["native", "ours"], `${key}\n${why}`);
    for (const side of ["ours", "native"] as const) {
      const v = json[key][side];
      assert.ok(
        typeof v === "number" && Number.isFinite(v) && v > 0,
        `${key}.${side} = ${v}\n${why}`,
      );
    }
  }
  // the table came first, then the targets
  assert.match(stdout, /^ringbuf_16b_events_per_s /m, why);
  for (const target of ["ring 16 B", "ring 256 B", "perf 16 B", "perf 256 B"]) {
    assert.match(stdout, new RegExp(`^${target} +\\d+\\.\\d+  >= `, "m"), why);
  }
});
