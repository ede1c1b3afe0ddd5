// The guest policy without the kernel: flag parsing, the attach-target matcher, the memory cap
// written into module bytes (src/guest/policy.ts, src/options/policy_flags.ts,
// src/guest/memory_limit.ts).
import assert from "node:assert/strict";
import { attachRefusal, objectCountRefusal, programTypeRefusal } from "../src/guest/policy.ts";
import { capGuest, MemoryLimitError } from "../src/guest/memory_limit.ts";
import { name, section, uleb, wasmModule } from "../src/format/wasm.ts";
import { readLayout } from "../src/guest/wasm_layout.ts";
import { applyPolicyFlag, type MutablePolicy, policyToFlags } from "../src/options/policy_flags.ts";
import { compileGuest, GuestModuleError } from "../src/guest/guest_module.ts";
import { MAX_MODULE_BYTES } from "../src/module_limit.ts";
import { parseCli, UsageError } from "../src/cli/usage.ts";

/** A module with one memory (limits as given) and an exported _start. */
function moduleWithMemory(initial: number, maximum?: number): Uint8Array<ArrayBuffer> {
  const limits = maximum === undefined
    ? [0, ...uleb(initial)]
    : [1, ...uleb(initial), ...uleb(maximum)];
  return wasmModule([
    section(1, [1, 0x60, 0, 0]),
    section(3, [1, 0]),
    section(5, [1, ...limits]),
    section(7, [2, ...name("memory"), 2, 0, ...name("_start"), 0, 0]),
    section(0, [...name("custom"), 1, 2, 3]), // a custom section after: copied through
    section(10, [1, 2, 0, 0x0b]),
  ]);
}

/** The memories of `bytes` once capped at `mib`. */
function cap(bytes: Uint8Array<ArrayBuffer>, mib: number) {
  return capGuest(bytes, readLayout(bytes), mib).memories;
}

async function memoryOf(bytes: Uint8Array<ArrayBuffer>, maxMemoryMiB?: number) {
  const module = await compileGuest(bytes, { maxMemoryMiB });
  const instance = await WebAssembly.instantiate(module, {});
  return instance.exports.memory as WebAssembly.Memory;
}

Deno.test("policy flags: parsed, and bad values named", () => {
  const p: MutablePolicy = {};
  assert.equal(applyPolicyFlag(p, "--allow-program-type", "tracepoint,raw_tracepoint"), undefined);
  assert.equal(applyPolicyFlag(p, "--allow-program-type", "tracing"), undefined);
  assert.deepEqual([...p.allowProgramTypes!], ["tracepoint", "raw_tracepoint", "tracing"]);
  assert.match(applyPolicyFlag(p, "--allow-program-type", "tracepoint,bogus")!, /"bogus"/);
  assert.equal(
    applyPolicyFlag(p, "--allow-attach", "auto,xdp:lo,cgroup:/sys/fs/cgroup/x"),
    undefined,
  );
  assert.deepEqual(p.allowAttach, ["auto", "xdp:lo", "cgroup:/sys/fs/cgroup/x"]);
  assert.match(applyPolicyFlag(p, "--allow-attach", "cgroup:relative")!, /absolute/);
  assert.match(applyPolicyFlag(p, "--allow-attach", "kprobe:x")!, /expected auto/);
  assert.match(applyPolicyFlag(p, "--allow-attach", "xdp:")!, /interface/);
  assert.equal(applyPolicyFlag(p, "--allow-map-write", "false"), undefined);
  assert.equal(p.allowMapWrite, false);
  assert.match(applyPolicyFlag(p, "--allow-map-write", "no")!, /true or false/);
  assert.equal(applyPolicyFlag(p, "--max-objects", "3"), undefined);
  assert.equal(p.maxObjects, 3);
  assert.match(applyPolicyFlag(p, "--max-objects", "-1")!, /whole number/);
  assert.equal(applyPolicyFlag(p, "--max-memory", "64"), undefined);
  assert.equal(p.maxMemoryMiB, 64);
  assert.match(applyPolicyFlag(p, "--max-memory", "0")!, /whole number/);
  assert.match(applyPolicyFlag(p, "--max-memory", "5000")!, /whole number/);
});

Deno.test("policy flags through parseCli: value inline or separate; usage errors", () => {
  const parsed = parseCli([
    "--allow-program-type=tracepoint",
    "--allow-attach",
    "auto",
    "--allow-map-write=false",
    "--max-objects=2",
    "--max-memory=16",
    "g.wasm",
    "--max-objects=9", // the guest's
  ]);
  assert.equal(parsed.kind, "run");
  if (parsed.kind !== "run") return;
  const p = parsed.options.policy;
  assert.deepEqual([...p.allowProgramTypes!], ["tracepoint"]);
  assert.deepEqual(p.allowAttach, ["auto"]);
  assert.equal(p.allowMapWrite, false);
  assert.equal(p.maxObjects, 2);
  assert.equal(p.maxMemoryMiB, 16);
  assert.deepEqual(parsed.options.guestArgs, ["--max-objects=9"]);
  assert.throws(() => parseCli(["--allow-program-type=nope", "g.wasm"]), UsageError);
  // default: no policy at all (compatible with upstream)
  const plain = parseCli(["g.wasm"]);
  assert.ok(plain.kind === "run" && Object.keys(plain.options.policy).length === 0);
});

Deno.test("policy: program types and attach targets", () => {
  const policy = { allowProgramTypes: new Set(["tracepoint"]) };
  assert.equal(programTypeRefusal(policy, "p", "tp/x/y", "tracepoint"), null);
  assert.match(
    programTypeRefusal(policy, "xdp_pass", "xdp", "xdp")!,
    /program "xdp_pass" \(section xdp\) of type xdp/,
  );
  assert.equal(programTypeRefusal({}, "p", "xdp", "xdp"), null);

  const rules = { allowAttach: ["xdp:lo", "cgroup:/sys/fs/cgroup/unified/a"] };
  const ok = (k: Parameters<typeof attachRefusal>[3]) => attachRefusal(rules, "p", "s", k) === null;
  assert.ok(ok({ kind: "xdp", ifname: "lo" }));
  assert.ok(!ok({ kind: "xdp", ifname: "eth0" }));
  assert.ok(!ok({ kind: "auto" }));
  assert.ok(ok({ kind: "cgroup", path: "/sys/fs/cgroup/unified/a" }));
  assert.ok(ok({ kind: "cgroup", path: "/sys/fs/cgroup/unified/a/b/c" }));
  assert.ok(!ok({ kind: "cgroup", path: "/sys/fs/cgroup/unified/ab" }));
  assert.ok(!ok({ kind: "cgroup", path: "/sys/fs/cgroup/unified" }));
  assert.equal(attachRefusal({ allowAttach: ["auto"] }, "p", "s", { kind: "auto" }), null);
  assert.equal(attachRefusal({}, "p", "s", { kind: "auto" }), null);
});

Deno.test("memory cap: the maximum is set, lowered, or kept; growth past it fails", async () => {
  // no maximum: set to the cap (1 MiB: 16 pages)
  assert.deepEqual(cap(moduleWithMemory(2), 1), [{ initial: 2, maximum: 16 }]);
  // a larger maximum: lowered; a smaller one: kept
  assert.deepEqual(cap(moduleWithMemory(2, 60000), 1), [{ initial: 2, maximum: 16 }]);
  assert.deepEqual(cap(moduleWithMemory(2, 8), 1), [{ initial: 2, maximum: 8 }]);
  // multi-byte LEB128 sizes survive the rewrite
  assert.deepEqual(cap(moduleWithMemory(300), 1024), [{ initial: 300, maximum: 16384 }]);
  assert.throws(() => cap(moduleWithMemory(32), 1), MemoryLimitError);

  const mem = await memoryOf(moduleWithMemory(1), 1); // 1 MiB = 16 pages
  assert.equal(mem.grow(15), 1);
  assert.throws(() => mem.grow(1), RangeError); // from JS it throws; in wasm memory.grow is -1
  // the default: 1 GiB
  const big = await memoryOf(moduleWithMemory(1));
  assert.throws(() => big.grow(16384), RangeError);
  assert.equal(big.grow(100), 1);
});

Deno.test("memory cap: initial memory over the cap, and malformed modules, are refused", async () => {
  await assert.rejects(
    () => compileGuest(moduleWithMemory(2000), { maxMemoryMiB: 64 }),
    (e: Error) =>
      e instanceof GuestModuleError && /starts at 125 MiB/.test(e.message) &&
      /64 MiB allowed/.test(e.message),
  );
  const truncated = moduleWithMemory(1).slice(0, 20);
  await assert.rejects(() => compileGuest(truncated), /invalid WebAssembly module/);
});

Deno.test("module size: over 64 MiB refused before compiling", async () => {
  const big = new Uint8Array(MAX_MODULE_BYTES + 1);
  big.set([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const t0 = performance.now();
  await assert.rejects(() => compileGuest(big), /over the 64 MiB this host accepts/);
  assert.ok(performance.now() - t0 < 1000);
});

Deno.test("policy: --pin-root takes an absolute directory and reaches a process child", () => {
  const p: MutablePolicy = {};
  assert.match(applyPolicyFlag(p, "--pin-root", "relative/dir")!, /absolute directory/);
  assert.equal(p.pinRoot, undefined);
  assert.equal(applyPolicyFlag(p, "--pin-root", "/sys/fs/bpf/a/../shared/"), undefined);
  assert.equal(p.pinRoot, "/sys/fs/bpf/shared");
  assert.deepEqual(policyToFlags({ pinRoot: "/sys/fs/bpf/x:y" }), ["--pin-root=/sys/fs/bpf/x:y"]);
  const parsed = parseCli(["--pin-root=/sys/fs/bpf/x:y", "m.wasm"]);
  assert.equal(parsed.kind === "run" && parsed.options.policy.pinRoot, "/sys/fs/bpf/x:y");
});

Deno.test("policy: objects are capped at 64 by default, and --max-objects raises it", () => {
  assert.equal(objectCountRefusal({}, 63), null);
  assert.match(objectCountRefusal({}, 64)!, /--max-objects=64 \(the default/);
  assert.equal(objectCountRefusal({ maxObjects: 1000 }, 64), null);
});
