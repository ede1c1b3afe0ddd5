// Fuzzes the wasm_bpf import layer: `deno task fuzz [--seed N] [--calls N]` (root; real kernel).
//
// A host-side harness: the six import functions are built over a HostContext whose memory is a
// real WebAssembly.Memory (of a tiny hand-assembled module that also exports the function table
// and a record callback), and called with random and edge-case arguments, seeded, against real
// loaded objects (tests/guests/fuzz/fuzz.bpf.o: hash, array, per-CPU, LRU, queue, ring buffer and
// perf buffer maps; tracepoint, XDP, cgroup_skb and sockops programs): every pointer and length
// edge, handles of closed objects, fds of other objects and of the host, huge and negative
// sizes, every cmd, strings without a NUL, truncated and bit-flipped objects, memory growing
// between calls. Every result is checked (a bigint handle for load: 0 or the next handle; for
// the others 0, a positive fd where one is valid, or a negative errno, and the exact errno
// where the ABI fixes it), and at the end no fd and no BPF object of this process is left.
//
// The CI runs a short version (tests/fuzz_imports_test.ts). Reproduce a run with its seed.
//
// The parts: random.ts (the seeded draws), harness.ts (the imports over a stand-in guest),
// arguments.ts and calls.ts (one checked call per import), model.ts (what the host must hold),
// report.ts (the checks and the report), process_state.ts (the leak counts), all in fuzz/.

import type { GuestPolicy } from "../src/guest/policy.ts";
import { getLibbpf } from "../src/ffi/libbpf_ffi.ts";
import { Calls } from "./fuzz/calls.ts";
import { Harness, OBJ_AT, OBJECT, OTHER_AT } from "./fuzz/harness.ts";
import { Model } from "./fuzz/model.ts";
import { bpftoolCount, fdCount, fdList, heldBpfObjects } from "./fuzz/process_state.ts";
import { Rng } from "./fuzz/random.ts";
import { Checks, emptyReport, formatReport, type FuzzReport } from "./fuzz/report.ts";
import { flagValue } from "./flags.ts";

export { formatReport, type FuzzReport };

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  seed: number;
  calls: number;
  /** A policy to fuzz under (default: none). */
  policy?: GuestPolicy;
  /** Called every 10,000 calls. */
  progress?: (done: number) => void;
}

/** Runs the fuzzer; needs root and the real kernel. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const rng = new Rng(opts.seed);
  const harness = new Harness(rng, opts.policy);
  const model = new Model();
  await loadOnce(harness, model);
  // (the first subprocess spawn opens long-lived fds: count after it)
  const [progsBefore, mapsBefore] = [await bpftoolCount("prog"), await bpftoolCount("map")];
  const report = emptyReport(opts.seed);
  report.system.progsBefore = progsBefore;
  report.system.mapsBefore = mapsBefore;
  const checks = new Checks(report);
  const calls = new Calls(rng, harness, model, checks, opts.policy);
  harness.fillNonul();

  // A warm-up round first, not counted: libbpf, Deno and V8 open a few fds once, the first
  // time a path is taken (V8 keeps a socket pair after some memory.grow), and keep them.
  const warmUp = Math.min(3000, opts.calls);
  let fdsBefore = new Map<number, string>();
  for (let i = 0; i < warmUp + opts.calls; i++) {
    if (i === warmUp) {
      await harness.ctx.objects.closeAll();
      model.closedAll();
      checks.resetCounts();
      await new Promise((r) => setTimeout(r, 100));
      report.fds.before = fdCount();
      fdsBefore = fdList();
      report.bpf.before = heldBpfObjects();
    }
    await oneCall(rng, calls, model, opts.policy);
    if (report.calls % 10_000 === 0) opts.progress?.(report.calls);
  }

  // Everything closed: the host's end-of-run cleanup.
  await harness.close();
  await checkNothingLeaked(report, fdsBefore);
  // (after the fd count: a subprocess spawn leaves a socket pair behind for a while)
  report.system.progsAfter = await bpftoolCount("prog");
  report.system.mapsAfter = await bpftoolCount("map");
  report.ms = performance.now() - started;
  return report;
}

/** Loads, attaches and closes the object once before the run, so that a host that cannot
 * load it at all fails at once, with the host's reason. */
async function loadOnce(harness: Harness, model: Model): Promise<void> {
  const { imports } = harness;
  let h = imports.load(OBJ_AT, harness.objectBytes.length);
  if (h === 0n) h = imports.load(OTHER_AT, harness.otherBytes.length); // under a policy
  if (h <= 0n) {
    await harness.cgroup.remove();
    throw new Error(`cannot load ${OBJECT}: ${harness.errors.join("\n")}`);
  }
  imports.attach(h, harness.stringAt.get("on_getppid")!, 0);
  await imports.close(h);
  harness.errors.length = 0;
  model.lastHandle = h;
  model.everHandles.push(h);
}

/** One call of an import drawn by weight. */
async function oneCall(
  rng: Rng,
  calls: Calls,
  model: Model,
  policy: GuestPolicy | undefined,
): Promise<void> {
  // per mille: map_operate 500, fd_by_name 150, poll 120, attach 60, load 20 (40 when few
  // objects are live), close 15 (45 when many are), memory.grow 1, the rest map_operate
  const w = rng.below(1000);
  const loadEnd = 850 + (model.live.size < 3 ? 20 : 0);
  const closeEnd = loadEnd + 15 + (model.live.size > 6 || policy ? 30 : 0);
  if (w < 500) calls.mapOperate();
  else if (w < 650) calls.fdByName();
  else if (w < 770) await calls.poll();
  else if (w < 830) calls.attach();
  else if (w < loadEnd) calls.load();
  else if (w < closeEnd) await calls.close();
  else if (w < closeEnd + 1) calls.grow();
  else calls.mapOperate();
}

/** Fails the report if the process holds more fds or BPF objects than before the run. */
async function checkNothingLeaked(
  report: FuzzReport,
  fdsBefore: Map<number, string>,
): Promise<void> {
  // The kernel releases objects asynchronously; give it a moment.
  for (let tries = 0; tries < 40; tries++) {
    report.fds.after = fdCount();
    report.bpf.after = heldBpfObjects();
    if (report.fds.after <= report.fds.before && report.bpf.after <= report.bpf.before) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (report.fds.after > report.fds.before) {
    const now = fdList();
    const extra = [...now].filter(([fd, what]) => fdsBefore.get(fd) !== what);
    report.failures.push(
      `fds: ${report.fds.before} before, ${report.fds.after} after ` +
        `(new: ${extra.map(([fd, what]) => `${fd} -> ${what}`).join(", ")})`,
    );
  }
  if (report.bpf.after > report.bpf.before) {
    report.failures.push(
      `BPF objects held: ${report.bpf.before} before, ${report.bpf.after} after`,
    );
  }
}

if (import.meta.main && Deno.args.includes("--objects")) {
  // the object fuzzer (scripts/fuzz_objects.ts)
  const { objectFuzzMain } = await import("./fuzz_objects.ts");
  Deno.exit(await objectFuzzMain(Deno.args));
}

if (import.meta.main) {
  const args = [...Deno.args];
  const value = (flag: string) => flagValue(args, flag);
  if (args.includes("-h") || args.includes("--help")) {
    console.log(
      "usage: deno task fuzz [--seed N] [--calls N] [--restrictive]\n" +
        "  (default: a random seed, 1000000 calls, no policy; --restrictive: under a policy)\n" +
        "   or: deno task fuzz --objects --help (the object fuzzer)",
    );
    Deno.exit(0);
  }
  const seed = Number(value("--seed") ?? crypto.getRandomValues(new Uint32Array(1))[0]);
  const calls = Number(value("--calls") ?? 1_000_000);
  // --restrictive: fuzz under a policy that refuses most things
  const policy: GuestPolicy | undefined = args.includes("--restrictive")
    ? {
      allowProgramTypes: new Set(["tracepoint"]),
      allowAttach: ["auto"],
      allowMapWrite: false,
      maxObjects: 2,
    }
    : undefined;
  getLibbpf();
  console.log(
    `fuzzing the wasm_bpf imports: seed ${seed} (reproduce: --seed ${seed}), ${calls} calls`,
  );
  const r = await runFuzz({
    seed,
    calls,
    policy,
    progress: (n) => n % 100_000 === 0 && console.log(`  ${n} calls`),
  });
  console.log(formatReport(r));
  Deno.exit(r.failures.length ? 1 : 0);
}
