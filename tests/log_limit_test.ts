// The rate limit on host lines a guest can cause (src/guest/log_limit.ts), which policy
// refusals share (logRefusal). No kernel needed; the end-to-end check is in
// kernel_log_limit_test.ts.
import assert from "node:assert/strict";
import { LineLimiter, MAX_LINES_PER_KIND } from "../src/guest/log_limit.ts";
import { logRefusal, MAX_LOGGED_REFUSALS } from "../src/guest/policy.ts";
import type { GuestLog } from "../src/guest/log_limit.ts";

function collect(max?: number) {
  const lines: string[] = [];
  return { lines, limiter: new LineLimiter((l) => lines.push(l), max) };
}

Deno.test("log limit: the first lines of a kind, then one 'further' line, then a count", () => {
  const { lines, limiter } = collect();
  for (let i = 1; i <= 100_000; i++) limiter.line("load errors", `load ${i} failed`);
  assert.equal(lines.length, MAX_LINES_PER_KIND + 1);
  assert.equal(lines[0], "load 1 failed");
  assert.equal(lines[MAX_LINES_PER_KIND - 1], `load ${MAX_LINES_PER_KIND} failed`);
  assert.equal(lines[MAX_LINES_PER_KIND], "further load errors are not logged");
  assert.equal(limiter.suppressed("load errors"), 100_000 - MAX_LINES_PER_KIND);
  limiter.summarize();
  assert.equal(lines.at(-1), "99,980 further load errors were not logged");
});

Deno.test("log limit: a flood of one kind does not hide the first line of another", () => {
  const { lines, limiter } = collect(3);
  for (let i = 0; i < 50; i++) limiter.line("attach errors", "attach failed");
  limiter.line("buffer poll errors", "poll failed");
  limiter.line("map write refusals", "refused update", "policy: ");
  limiter.summarize();
  assert.deepEqual(lines, [
    "attach failed",
    "attach failed",
    "attach failed",
    "further attach errors are not logged",
    "poll failed",
    "policy: refused update",
    "47 further attach errors were not logged",
  ]);
});

Deno.test("log limit: no 'further' line nor count when no line was dropped", () => {
  const { lines, limiter } = collect(3);
  for (let i = 0; i < 3; i++) limiter.line("attach errors", `a${i}`, "policy: ");
  limiter.summarize();
  assert.deepEqual(lines, ["policy: a0", "policy: a1", "policy: a2"]);
});

Deno.test("log limit: policy refusals go through the same limiter, per kind", () => {
  const { lines, limiter } = collect();
  const log: GuestLog = {
    error: (kind, message, prefix) => limiter.line(kind, message, prefix),
    debug: () => {},
    summarize: () => limiter.summarize(),
  };
  for (let i = 0; i < 30; i++) logRefusal(log, "map write", `refused update ${i}`);
  logRefusal(log, "attach", "refused attach");
  log.summarize();
  assert.equal(MAX_LOGGED_REFUSALS, MAX_LINES_PER_KIND);
  assert.equal(lines.length, MAX_LOGGED_REFUSALS + 3);
  assert.equal(lines[0], "policy: refused update 0");
  assert.equal(lines[MAX_LOGGED_REFUSALS], "policy: further map write refusals are not logged");
  assert.equal(lines.at(-2), "policy: refused attach");
  assert.equal(lines.at(-1), "10 further map write refusals were not logged");
});
