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

import { HostContext, type HostLog } from "../src/host/context.ts";
import { GuestMemory } from "../src/host/guest_memory.ts";
import { makeAttach, makeAttachFd } from "../src/host/imports/attach.ts";
import { makeBufferPollDispatcher } from "../src/host/imports/buffer_poll.ts";
import { makeClose } from "../src/host/imports/close.ts";
import { makeMapFdByName } from "../src/host/imports/fd_by_name.ts";
import { makeLoad } from "../src/host/imports/load.ts";
import { makeMapOperate } from "../src/host/imports/map_operate.ts";
import type { GuestPolicy } from "../src/host/policy.ts";
import { RunStop } from "../src/host/stop.ts";
import { getLibbpf } from "../src/libbpf_ffi.ts";
import { promising } from "../src/jspi.ts";

const REPO = new URL("..", import.meta.url).pathname;
const OBJECT = `${REPO}tests/guests/fuzz/fuzz.bpf.o`;
const OTHER_OBJECT = `${REPO}tests/guests/policy/tponly.bpf.o`;

const EINVAL = -22;
const EFAULT = -14;
const EBADF = -9;
const ENOENT = -2;
const EPERM = -1;
/** The guest fd at which the harness "preopened" the test cgroup (fd-form attach). */
const PREOPEN_FD = 3;

const PAGE = 65536;
const INITIAL_PAGES = 4;
const MAX_PAGES = 24;

// Guest memory layout.
const STRINGS = 0x1000;
const BUFFERS = 0x4000; // key/value buffers, 0x4000 bytes of random data
const OBJ_AT = 0x10000; // the good object
const OTHER_AT = 0x18000; // another good object
const SCRATCH_AT = 0x20000; // mutated copies

const MAP_NAMES = ["hash", "array", "pcpu", "lru", "queue", "ring", "perf"];
const PROG_NAMES = ["on_getppid", "xdp_pass", "skb_egress", "sockops_prog"];

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  seed: number;
  calls: number;
  /** A policy to fuzz under (default: none). */
  policy?: GuestPolicy;
  /** Called every 10,000 calls. */
  progress?: (done: number) => void;
}

/** What {@link runFuzz} did and found. */
export interface FuzzReport {
  seed: number;
  calls: number;
  byImport: Record<string, number>;
  /** Results by class: 0, > 0 (a handle or an fd), < 0 (an errno). */
  results: { zero: number; positive: number; errno: number };
  /** Objects loaded and programs attached for real. */
  loaded: number;
  attached: number;
  /** Checks that failed (empty when the run passed), with the call that failed them. */
  failures: string[];
  /** Open fds of this process before and after (after everything is closed). */
  fds: { before: number; after: number };
  /** BPF programs, maps and links held by this process before and after. */
  bpf: { before: number; after: number };
  /** System-wide `bpftool prog list` / `map list` counts before and after (informational:
   * other processes may load programs meanwhile). */
  system: { progsBefore: number; progsAfter: number; mapsBefore: number; mapsAfter: number };
  ms: number;
}

// --- a seeded PRNG (sfc32 seeded by splitmix32) ------------------------------------------------

function makeRandom(seed: number): () => number {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
}

// --- the tiny module: memory, table [_, cb], cb(ctx, data, size) = ctx -----------------------

function harnessModuleBytes(): Uint8Array<ArrayBuffer> {
  const name = (s: string) => [s.length, ...new TextEncoder().encode(s)];
  const section = (id: number, body: number[]) => [id, body.length, ...body];
  const exports = [
    3,
    ...name("memory"),
    2,
    0,
    ...name("__indirect_function_table"),
    1,
    0,
    ...name("cb"),
    0,
    0,
  ];
  return new Uint8Array([
    0,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f]), // (i32, i32, i32) -> i32
    ...section(3, [1, 0]),
    ...section(4, [1, 0x70, 0, 2]), // funcref table, 2 entries
    ...section(5, [1, 1, INITIAL_PAGES, MAX_PAGES]),
    ...section(7, exports),
    ...section(9, [1, 0, 0x41, 1, 0x0b, 1, 0]), // table[1] = cb
    ...section(10, [1, 4, 0, 0x20, 0, 0x0b]), // cb: local.get 0
  ]);
}

// --- the process's fds and BPF objects ----------------------------------------------------------

/** Open fds of this process, anonymous sockets excepted: Deno's runtime opens and closes
 * socket pairs on its own schedule (after subprocess spawns, the first nonblocking FFI
 * calls), and no import opens a socket that outlives the call (if_nametoindex closes its). */
function fdCount(): number {
  return [...fdList().values()].filter((what) => !what.startsWith("socket:")).length;
}

/** fd -> what it is, for the leak report. */
function fdList(): Map<number, string> {
  const fds = new Map<number, string>();
  for (const f of Deno.readDirSync("/proc/self/fd")) {
    try {
      fds.set(Number(f.name), Deno.readLinkSync(`/proc/self/fd/${f.name}`));
    } catch { /* closed meanwhile */ }
  }
  return fds;
}

/** The BPF programs, maps and links this process holds fds on. */
function heldBpfObjects(): number {
  let n = 0;
  for (const f of Deno.readDirSync("/proc/self/fdinfo")) {
    try {
      const info = Deno.readTextFileSync(`/proc/self/fdinfo/${f.name}`);
      if (/^(prog_id|map_id|link_id):/m.test(info)) n++;
    } catch { /* closed meanwhile */ }
  }
  return n;
}

async function bpftoolCount(what: "prog" | "map"): Promise<number> {
  try {
    const o = await new Deno.Command("bpftool", { args: ["-j", what, "list"], stdout: "piped" })
      .output();
    return (JSON.parse(new TextDecoder().decode(o.stdout) || "[]") as unknown[]).length;
  } catch {
    return -1;
  }
}

// --- the run ------------------------------------------------------------------------------------

/** Runs the fuzzer; needs root and the real kernel. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const rnd = makeRandom(opts.seed);
  const below = (n: number) => rnd() % n;
  const chance = (p: number) => rnd() / 2 ** 32 < p;
  const pick = <T>(xs: readonly T[]): T => xs[below(xs.length)];

  const libc = Deno.dlopen("libc.so.6", {
    getppid: { parameters: [], result: "i32" },
    open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  const cgroupDir = `/sys/fs/cgroup/unified/wasm-bpf-fuzz-${Deno.pid}`;
  let cgroupMade = false;
  try {
    Deno.mkdirSync(cgroupDir);
    cgroupMade = true;
  } catch { /* no cgroup v2 here: cgroup attaches just fail */ }
  const removeCgroup = async () => {
    for (let tries = 0; cgroupMade; tries++) {
      try {
        Deno.removeSync(cgroupDir);
        cgroupMade = false;
      } catch (e) {
        if (tries > 50) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  // (a run that throws still removes its cgroup)
  globalThis.addEventListener("unload", () => {
    try {
      if (cgroupMade) Deno.removeSync(cgroupDir);
    } catch { /* still busy: nothing more to do */ }
  });
  // an fd of the host the guest must not reach
  const unrelated = libc.symbols.open(new TextEncoder().encode("/dev/null\0"), 0, 0);

  const objectBytes = Deno.readFileSync(OBJECT);
  const otherBytes = Deno.readFileSync(OTHER_OBJECT);

  const errors: string[] = [];
  const log: HostLog = { error: (m) => errors.push(m), debug: () => {} };
  const stop = new RunStop(false);
  const ctx = new HostContext(stop, log, opts.policy ?? {});
  // the test cgroup, preopened at PREOPEN_FD for the fd-form attach (O_RDONLY | O_DIRECTORY)
  const cgroupFd = cgroupMade
    ? libc.symbols.open(new TextEncoder().encode(`${cgroupDir}\0`), 0o200000, 0)
    : -1;
  ctx.preopenedDirFd = (g) => g === PREOPEN_FD && cgroupFd >= 0 ? cgroupFd : undefined;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(harnessModuleBytes()));
  const memory = instance.exports.memory as WebAssembly.Memory;
  ctx.bind(new GuestMemory(memory), instance.exports);
  const bytes = () => new Uint8Array(memory.buffer);

  // Strings: every name, a cgroup path, interfaces, and paths that must not work.
  const strings: number[] = [];
  const stringAt = new Map<string, number>();
  {
    let at = STRINGS;
    for (
      const s of [
        ...MAP_NAMES,
        ...PROG_NAMES,
        "",
        "nope",
        ".rodata",
        "lo",
        "no-such-if0",
        cgroupDir,
        "/no/such/cgroup",
        "/sys/fs/cgroup/unified/../../../etc",
        "/etc/passwd",
        "x".repeat(300),
      ]
    ) {
      const enc = new TextEncoder().encode(s);
      bytes().set(enc, at);
      bytes()[at + enc.length] = 0;
      strings.push(at);
      stringAt.set(s, at);
      at += enc.length + 1;
    }
  }
  for (let i = 0; i < 0x4000; i++) bytes()[BUFFERS + i] = below(256);
  bytes().set(objectBytes, OBJ_AT);
  bytes().set(otherBytes, OTHER_AT);

  const imports = {
    load: makeLoad(ctx),
    close: makeClose(ctx),
    attach: makeAttach(ctx),
    attachFd: makeAttachFd(ctx),
    // a wasm function (pump.ts), entered as a guest's _start is, so that its wait may suspend
    poll: promising(makeBufferPollDispatcher(ctx, "go-callback").poll) as (
      ...args: [bigint, number, number, number, number, number, number]
    ) => Promise<number>,
    fdByName: makeMapFdByName(ctx),
    mapOperate: makeMapOperate(ctx),
  };

  const live = new Map<bigint, Map<string, number>>();
  const everHandles: bigint[] = [];
  let lastHandle = 0n;

  {
    let h = imports.load(OBJ_AT, objectBytes.length);
    if (h === 0n) h = imports.load(OTHER_AT, otherBytes.length); // under a policy
    if (h <= 0n) {
      await removeCgroup();
      throw new Error(`cannot load ${OBJECT}: ${errors.join("\n")}`);
    }
    imports.attach(h, stringAt.get("on_getppid")!, 0);
    await imports.close(h);
    errors.length = 0;
    lastHandle = h;
    everHandles.push(h);
  }
  // (the first subprocess spawn opens long-lived fds: count after it)
  const [progsBefore, mapsBefore] = [await bpftoolCount("prog"), await bpftoolCount("map")];
  let fdsBefore = 0;
  let fdsListBefore = new Map<number, string>();
  let bpfBefore = 0;

  // The model: live handles, every handle ever returned, map fds by name per live object.
  const deadFds: number[] = [];
  const report: FuzzReport = {
    seed: opts.seed,
    calls: 0,
    byImport: {},
    results: { zero: 0, positive: 0, errno: 0 },
    loaded: 0,
    attached: 0,
    failures: [],
    fds: { before: 0, after: 0 },
    bpf: { before: 0, after: 0 },
    system: { progsBefore, progsAfter: 0, mapsBefore, mapsAfter: 0 },
    ms: 0,
  };
  const ownedFds = () => new Set([...live.values()].flatMap((m) => [...m.values()]));

  const memSize = () => memory.buffer.byteLength;
  const nonul = () => memSize() - 16; // 16 'A's up to the end of memory, no NUL
  const fillNonul = () => bytes().fill(0x41, nonul());
  fillNonul();

  const i32 = (n: number) => n | 0;
  const ptr = (): number =>
    i32(
      pick([
        () => 0,
        () => BUFFERS + below(0x4000),
        () => BUFFERS + below(64),
        () => memSize() - below(33),
        () => memSize(),
        () => memSize() + 1 + below(PAGE),
        () => 0xffffffff,
        () => 0xfffffff0,
        () => 0x7fffffff,
        () => 0x80000000,
        () => rnd(),
        () => pick(strings),
        () => nonul(),
        () => OBJ_AT + below(objectBytes.length),
      ])(),
    );
  const stringPtr = (): number => chance(0.6) ? pick(strings) : chance(0.5) ? nonul() : ptr();
  const len = (good: number): number =>
    i32(
      pick([
        () => good,
        () => good,
        () => good - 1 - below(good),
        () => good + 1,
        () => 0,
        () => -1,
        () => 0x80000000,
        () => 0x7fffffff,
        () => memSize(),
        () => rnd(),
      ])(),
    );
  const handle = (): bigint =>
    pick([
      () => [...live.keys()][below(Math.max(1, live.size))] ?? 1n,
      () => [...live.keys()][below(Math.max(1, live.size))] ?? 1n,
      () => everHandles.length ? pick(everHandles) : 1n,
      () => 0n,
      () => -1n,
      () => lastHandle + 1n,
      () => (1n << 32n) + (lastHandle || 1n),
      () => BigInt.asIntN(64, BigInt(rnd()) << 32n | BigInt(rnd())),
      () => -(1n << 63n),
    ])();
  const fd = (): number => {
    const owned = [...ownedFds()];
    return i32(
      pick([
        () => owned.length ? pick(owned) : 3,
        () => owned.length ? pick(owned) : 3,
        () => owned.length ? pick(owned) : 3,
        () => deadFds.length ? pick(deadFds) : 0,
        () => pick([0, 1, 2]),
        () => unrelated,
        () => -1,
        () => below(1024),
        () => 0x7fffffff,
        () => rnd(),
      ])(),
    );
  };

  const fail = (call: string, got: unknown, why: string) => {
    if (report.failures.length < 50) {
      report.failures.push(`call ${report.calls} ${call} -> ${String(got)}: ${why}`);
    }
  };
  /** The checks every i32 result passes; `expect` pins the exact value when the ABI fixes it. */
  const checkResult = (call: string, r: unknown, expect?: number) => {
    if (typeof r !== "number" || !Number.isInteger(r)) return fail(call, r, "not an integer");
    if (r === 0) report.results.zero++;
    else if (r > 0) report.results.positive++;
    else report.results.errno++;
    if (r < -4095) fail(call, r, "below the errno range");
    if (expect !== undefined && r !== expect) fail(call, r, `expected ${expect}`);
  };
  const count = (name: string) => {
    report.calls++;
    report.byImport[name] = (report.byImport[name] ?? 0) + 1;
  };

  const doLoad = () => {
    count("load");
    let at = OBJ_AT, size = objectBytes.length;
    const kind = below(10);
    if (kind === 0) {
      at = OTHER_AT;
      size = otherBytes.length;
    } else if (kind <= 3) {
      // a mutated copy: bit flips, special values, a truncation
      const src = below(2) ? objectBytes : otherBytes;
      const copy = src.slice();
      for (let k = 1 + below(6); k > 0; k--) {
        const off = below(copy.length);
        if (chance(0.5)) copy[off] ^= 1 << below(8);
        else copy[off] = pick([0, 0xff, 0x7f, 0x80]);
      }
      size = chance(0.3) ? below(copy.length) : copy.length;
      bytes().set(copy, SCRATCH_AT);
      at = SCRATCH_AT;
    } else if (kind === 4) {
      at = ptr();
      size = len(objectBytes.length);
    }
    const call = `load(${at >>> 0}, ${size})`;
    const h = imports.load(at, size);
    if (typeof h !== "bigint") return fail(call, h, "not a bigint");
    const inBounds = size > 0 && (at >>> 0) + size <= memSize();
    if (!inBounds && h !== 0n) return fail(call, h, "loaded from a bad buffer");
    if (h === 0n) {
      report.results.zero++;
      return;
    }
    report.results.positive++;
    if (h !== lastHandle + 1n) fail(call, h, `expected the next handle ${lastHandle + 1n}`);
    lastHandle = h;
    everHandles.push(h);
    report.loaded++;
    const maps = new Map<string, number>();
    for (const m of ctx.objects.get(h)?.maps ?? []) maps.set(m.name, m.fd);
    live.set(h, maps);
  };

  const doClose = async () => {
    count("close");
    const h = live.size && chance(0.7) ? [...live.keys()][below(live.size)] : handle();
    const expect = live.has(h) ? 0 : EINVAL;
    const r = await imports.close(h);
    checkResult(`close(${h})`, r, expect);
    const maps = live.get(h);
    if (maps) {
      deadFds.push(...maps.values());
      if (deadFds.length > 64) deadFds.splice(0, deadFds.length - 64);
      live.delete(h);
    }
  };

  const doFdByName = () => {
    count("fd_by_name");
    const h = handle();
    const p = stringPtr();
    const r = imports.fdByName(h, p);
    const call = `fd_by_name(${h}, ${p >>> 0})`;
    const maps = live.get(h);
    if (!maps) return checkResult(call, r, EINVAL);
    const name = ctx.memory.cString(p);
    if (name === null) return checkResult(call, r, EFAULT);
    checkResult(call, r, maps.get(name) ?? (name === ".rodata" ? undefined : ENOENT));
  };

  const doMapOperate = () => {
    count("map_operate");
    const f = fd();
    const cmd = chance(0.85) ? 1 + below(4) : i32(pick([0, 5, -1, 1000, rnd()]));
    const buf = () => chance(0.6) ? BUFFERS + below(0x3000) : ptr();
    const [k, v, n] = [buf(), buf(), chance(0.3) ? 0 : buf()];
    const flags = pick([
      0n,
      0n,
      1n,
      2n,
      4n,
      -1n,
      BigInt.asIntN(64, BigInt(rnd()) << 32n | BigInt(rnd())),
    ]);
    const call = `map_operate(${f}, ${cmd}, ${k >>> 0}, ${v >>> 0}, ${n >>> 0}, ${flags})`;
    const r = imports.mapOperate(f, cmd, k, v, n, flags);
    if (!ownedFds().has(f)) return checkResult(call, r, EBADF);
    if (cmd < 1 || cmd > 4) return checkResult(call, r, opts.policy ? undefined : EINVAL);
    checkResult(call, r);
    if (typeof r === "number" && r > 0) fail(call, r, "map_operate returned > 0");
  };

  const doAttach = () => {
    count("attach");
    const h = handle();
    const name = chance(0.8) ? stringAt.get(pick(PROG_NAMES))! : stringPtr();
    if (chance(0.4)) return doAttachFd(h, name);
    const target = pick([
      () => 0,
      () => 0,
      () => stringAt.get(cgroupDir)!,
      () => stringAt.get("lo")!,
      () => stringAt.get("no-such-if0")!,
      () => stringAt.get("/no/such/cgroup")!,
      () => stringAt.get("/sys/fs/cgroup/unified/../../../etc")!,
      () => stringAt.get("/etc/passwd")!,
      () => stringPtr(),
    ])();
    const call = `attach(${h}, ${name >>> 0}, ${target >>> 0})`;
    const r = imports.attach(h, name, target);
    if (!live.has(h)) return checkResult(call, r, EINVAL);
    if (ctx.memory.cString(name) === null) return checkResult(call, r, EFAULT);
    if (target !== 0 && ctx.memory.cString(target) === null) return checkResult(call, r, EFAULT);
    checkResult(call, r);
    if (r === 0) report.attached++;
    if (typeof r === "number" && r > 0) fail(call, r, "attach returned > 0");
  };

  const doAttachFd = (h: bigint, name: number) => {
    const target = pick([() => -1, () => PREOPEN_FD, () => PREOPEN_FD, fd])();
    const call = `attach_fd(${h}, ${name >>> 0}, ${target})`;
    const r = imports.attachFd(h, name, target);
    if (!live.has(h)) return checkResult(call, r, EINVAL);
    const prog = ctx.memory.cString(name);
    if (prog === null) return checkResult(call, r, EFAULT);
    // the fd form refuses XDP, and every descriptor but the preopen for a cgroup program
    // (ENOENT: an object without that program)
    const refused = prog === "xdp_pass" ||
      (["skb_egress", "sockops_prog"].includes(prog) && target >= 0 && target !== PREOPEN_FD);
    checkResult(call, r);
    if (refused && r !== EPERM && r !== ENOENT) fail(call, r, `expected ${EPERM}`);
    if (r === 0) report.attached++;
    if (typeof r === "number" && r > 0) fail(call, r, "attach_fd returned > 0");
  };

  const doPoll = async () => {
    count("poll");
    const h = handle();
    const maps = live.get(h);
    const f = maps && chance(0.7) ? pick([maps.get("ring")!, maps.get("perf")!]) : fd();
    const cb = pick([1, 1, 1, 0, 2, -1, i32(rnd())]);
    const cbCtx = pick([0, 0, 1, -1, -42]);
    const data = chance(0.7) ? BUFFERS + below(256) : ptr();
    const max = chance(0.7) ? 1 + below(64) : len(64);
    const timeout = chance(0.97) ? 0 : 1 + below(3);
    if (chance(0.3)) libc.symbols.getppid(); // a record for attached programs
    const call = `poll(${h}, ${f}, ${cb}, ${cbCtx}, ${data >>> 0}, ${max}, ${timeout})`;
    const r = await imports.poll(h, f, cb, cbCtx, data, max, timeout);
    if (!live.has(h) && cb === 1) return checkResult(call, r, EINVAL);
    checkResult(call, r);
  };

  const doGrow = () => {
    count("memory.grow");
    if (memory.buffer.byteLength / PAGE < MAX_PAGES) {
      memory.grow(1);
      fillNonul();
    }
  };

  // A warm-up round first, not counted: libbpf, Deno and V8 open a few fds once, the first
  // time a path is taken (V8 keeps a socket pair after some memory.grow), and keep them.
  const warmUp = Math.min(3000, opts.calls);
  for (let i = 0; i < warmUp + opts.calls; i++) {
    if (i === warmUp) {
      await ctx.objects.closeAll();
      for (const maps of live.values()) deadFds.push(...maps.values());
      live.clear();
      report.calls = 0;
      report.byImport = {};
      report.results = { zero: 0, positive: 0, errno: 0 };
      report.loaded = report.attached = 0;
      await new Promise((r) => setTimeout(r, 100));
      fdsBefore = fdCount();
      fdsListBefore = fdList();
      bpfBefore = heldBpfObjects();
      report.fds.before = fdsBefore;
      report.bpf.before = bpfBefore;
    }
    // per mille: map_operate 500, fd_by_name 150, poll 120, attach 60, load 20 (40 when few
    // objects are live), close 15 (45 when many are), memory.grow 1, the rest map_operate
    const w = below(1000);
    const loadEnd = 850 + (live.size < 3 ? 20 : 0);
    const closeEnd = loadEnd + 15 + (live.size > 6 || opts.policy ? 30 : 0);
    if (w < 500) doMapOperate();
    else if (w < 650) doFdByName();
    else if (w < 770) await doPoll();
    else if (w < 830) doAttach();
    else if (w < loadEnd) doLoad();
    else if (w < closeEnd) await doClose();
    else if (w < closeEnd + 1) doGrow();
    else doMapOperate();
    if (report.calls % 10_000 === 0) opts.progress?.(report.calls);
  }

  // Everything closed: the host's end-of-run cleanup.
  await ctx.objects.closeAll();
  stop.close();
  live.clear();
  libc.symbols.close(unrelated);
  if (cgroupFd >= 0) libc.symbols.close(cgroupFd);
  libc.close();
  await removeCgroup();
  // The kernel releases objects asynchronously; give it a moment.
  for (let tries = 0; tries < 40; tries++) {
    report.fds.after = fdCount();
    report.bpf.after = heldBpfObjects();
    if (report.fds.after <= report.fds.before && report.bpf.after <= report.bpf.before) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (report.fds.after > report.fds.before) {
    const now = fdList();
    const extra = [...now].filter(([fd, what]) => fdsListBefore.get(fd) !== what);
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
  // (after the fd count: a subprocess spawn leaves a socket pair behind for a while)
  report.system.progsAfter = await bpftoolCount("prog");
  report.system.mapsAfter = await bpftoolCount("map");
  report.ms = performance.now() - started;
  return report;
}

/** A report as text, for the terminal. */
export function formatReport(r: FuzzReport): string {
  const lines = [
    `seed ${r.seed}: ${r.calls} calls in ${(r.ms / 1000).toFixed(1)} s`,
    `  by import: ${Object.entries(r.byImport).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `  results: ${r.results.zero} zero, ${r.results.positive} handle/fd, ${r.results.errno} errno`,
    `  objects loaded ${r.loaded}, programs attached ${r.attached}`,
    `  fds ${r.fds.before} -> ${r.fds.after}; BPF objects held ${r.bpf.before} -> ${r.bpf.after}`,
    `  system-wide: progs ${r.system.progsBefore} -> ${r.system.progsAfter}, ` +
    `maps ${r.system.mapsBefore} -> ${r.system.mapsAfter}`,
    r.failures.length ? `FAILED:\n  ${r.failures.join("\n  ")}` : "PASS",
  ];
  return lines.join("\n");
}

if (import.meta.main && Deno.args.includes("--objects")) {
  // the object fuzzer (scripts/fuzz_objects.ts)
  const { objectFuzzMain } = await import("./fuzz_objects.ts");
  Deno.exit(await objectFuzzMain(Deno.args));
}

if (import.meta.main) {
  const args = [...Deno.args];
  const value = (flag: string): string | undefined => {
    const i = args.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    if (i < 0) return undefined;
    return args[i].includes("=") ? args[i].split("=")[1] : args[i + 1];
  };
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
