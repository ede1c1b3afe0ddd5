// `deno task bench [--json] [--smoke] [--reps N] [--perf-cpus N] [--only PARTS]`: this runtime against a
// native C program using the same system libbpf on the same BPF objects, in the same run.
//
// - startup: spawn -> every program of runqlat attached (the "Tracing run queue latency..."
//   banner, printed after attach; `script -qfc` gives both a pty so the line is not buffered),
//   examples/runqlat/runqlat.wasm against libbpf-tools' /usr/sbin/runqlat. Ours runs as
//   `deno task run` does: cli.ts, starting from the bundle of this tree (made first).
// - events: records per second delivered to the guest callback (to the C callback natively),
//   16- and 256-byte records, ring buffer and perf buffer. The producer (bench/guests/evbench/
//   evbench.bpf.c) emits a whole batch from one getppid() of this driver through bpf_loop, into
//   a buffer nobody is draining yet; then the consumer drains it and times only the drain. So
//   the consumer, not the trigger, is measured. This driver runs (and triggers) on CPU 1, the
//   consumer on CPU 0. The rate is the records of a round over the MEDIAN drain time of the
//   rounds (each consumer reports each round's time): one 1-5 ms preemption moves a mean of
//   total times, not a median. CPU time per record: the consumer process's CPU time (all its
//   threads, /proc/PID/task/*/schedstat) from "go" until it sleeps again after "next" of a
//   round, median over the rounds, less the median of the same stdio handshake with nothing
//   to drain (idle rounds), over the records of a round. The first round warms up (JIT tiers,
//   caches) and is not counted, natively either.
// - three consumers: ours (the guest under this runtime), native (C + libbpf, the callback
//   reads the record in place) and native+copy (the same, but each record is first copied into
//   a buffer and the callback is called through a function pointer: the least any wasm host
//   must do per record).
// - map ops: updates, lookups and get_next_key walks per second on a 10k-entry hash map, from
//   inside the guest (bench/guests/mapbench) against the same loops in C.
// - perf-buffer rounds fill the 64-page perf buffer of every CPU (up to 4; --perf-cpus N for
//   fewer): the driver triggers once on each CPU, so a round holds 7600 16-byte or 940 256-byte
//   records per CPU (a buffer holds 8192 and 963). With one CPU's buffer, a native 256-byte round
//   took 8.5 us and measured the fixed cost of a poll more than the records. 50 rounds: the
//   median of the rounds is not moved by the first ones, while the JIT still warms up.
// - memory: peak RSS (VmHWM) of the consumer during the events runs (max over the four kinds).
//
// Prints a table (min / median over repetitions, ratios of the medians), then the targets of
// issue 10 against this run's ratios. With --json the LAST line is one JSON object:
// { <metric>: { ours, native } } of the medians, and for each events metric also
// { <metric>_native_copy: { ours, native: <native+copy> } }.

import { bundle } from "../scripts/bundle.ts";

const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
const OUT = `${REPO}/bench/out`;
const NATIVE = `${OUT}/bench_native`;

interface Options {
  json: boolean;
  smoke: boolean;
  reps: number;
  perfCpus: number;
  /** --only: the parts to run (startup, ring16, ring256, perf16, perf256, maps); all if empty */
  only: Set<string>;
}

const PARTS = ["startup", "ring16", "ring256", "perf16", "perf256", "maps"];

function parseArgs(args: string[]): Options {
  const o: Options = { json: false, smoke: false, reps: 0, perfCpus: 4, only: new Set() };
  const usage = () => {
    console.error(
      `usage: deno task bench [--json] [--smoke] [--reps N] [--perf-cpus N] [--only ${
        PARTS.join(",")
      }]`,
    );
    Deno.exit(2);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") o.json = true;
    else if (a === "--smoke") o.smoke = true;
    else if (a === "--reps") o.reps = Number(args[++i]);
    else if (a === "--perf-cpus") o.perfCpus = Math.max(1, Number(args[++i]) || 1);
    else if (a === "--only") {
      for (const part of (args[++i] ?? "").split(",")) {
        if (!PARTS.includes(part)) usage();
        o.only.add(part);
      }
    } else usage();
  }
  if (o.json && o.only.size) {
    console.error("bench: --json needs every part (its keys are fixed); drop --only");
    Deno.exit(2);
  }
  if (!o.reps) o.reps = o.smoke ? 1 : 5;
  return o;
}

// ---------------------------------------------------------------------------------------------
// libc: getppid (the trigger), CPU affinity

const libc = Deno.dlopen(
  "libc.so.6",
  {
    getppid: { parameters: [], result: "i32" },
    sched_setaffinity: { parameters: ["i32", "usize", "buffer"], result: "i32" },
  } as const,
).symbols;

function pinSelf(cpu: number): void {
  const mask = new Uint8Array(128);
  mask[cpu >> 3] = 1 << (cpu & 7);
  libc.sched_setaffinity(0, BigInt(mask.length), mask);
}

const nCpus = navigator.hardwareConcurrency;
const CONSUMER_CPU = 0;
const DRIVER_CPU = nCpus > 1 ? 1 : 0;
/** The CPUs a perf-buffer round is produced on (each has its own buffer): the driver's first,
 * then the lowest others. */
function perfCpus(n: number): number[] {
  const others = Array.from({ length: nCpus }, (_, i) => i).filter((c) => c !== DRIVER_CPU);
  return [DRIVER_CPU, ...others].slice(0, Math.min(n, nCpus));
}

/** Emits one batch of records on each of `cpus` (getppid() runs the producer), then returns the
 * driver to its own CPU. */
function trigger(cpus: number[]): void {
  for (const cpu of cpus) {
    if (cpu !== DRIVER_CPU) pinSelf(cpu);
    libc.getppid();
    if (cpu !== DRIVER_CPU) pinSelf(DRIVER_CPU);
  }
}

// ---------------------------------------------------------------------------------------------
// Build: the native reference (gcc -lbpf) and the BPF objects it loads (the very bytes the
// wasm guests embed, taken from their committed .bpf.bytes.h)

async function sh(cmd: string, args: string[]): Promise<string> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const td = new TextDecoder();
  if (!o.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${td.decode(o.stderr)}`);
  }
  return td.decode(o.stdout);
}

function objectFromBytesHeader(path: string): Uint8Array {
  const text = Deno.readTextFileSync(path);
  const body = text.slice(text.indexOf("{", text.indexOf("_bpf_o[")) + 1, text.indexOf("};"));
  const bytes = body.match(/0x[0-9a-f]{2}/gi) ?? [];
  return Uint8Array.from(bytes, (b) => parseInt(b, 16));
}

async function build(): Promise<void> {
  await Deno.mkdir(OUT, { recursive: true });
  // The CLI's bundle of this tree (what setup.sh makes), so that the launcher starts from it.
  await bundle(`${REPO}/dist`);
  await sh("gcc", ["-O2", "-Wall", "-o", NATIVE, `${REPO}/bench/native/bench_native.c`, "-lbpf"]);
  for (const name of ["evbench", "mapbench"]) {
    Deno.writeFileSync(
      `${OUT}/${name}.bpf.o`,
      objectFromBytesHeader(`${REPO}/bench/guests/${name}/${name}.bpf.bytes.h`),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

// What `deno task run` runs: the launcher, which starts from the bundle that build() makes.
const DENO_RUN = [
  Deno.execPath(),
  "run",
  "--allow-ffi",
  "--allow-read",
  "--allow-write",
  "--allow-env=LIBBPF_PATH",
  `${REPO}/cli.ts`,
];

type Side = "ours" | "native" | "native_copy";
const SIDES: Side[] = ["ours", "native", "native_copy"];

/** Reads a child's stdout line by line. */
class Lines {
  #buf = "";
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #dec = new TextDecoder();
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }
  async next(): Promise<string | null> {
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) return null;
      this.#buf += this.#dec.decode(value, { stream: true });
    }
  }
  async expect(prefix: string, what: string): Promise<string> {
    const line = await this.next();
    if (line === null || !line.startsWith(prefix)) {
      throw new Error(`${what}: expected "${prefix}", got ${JSON.stringify(line)}`);
    }
    return line;
  }
}

/** CPU time of every thread of `pid` so far, in ns. */
function processCpuNs(pid: number): number {
  let total = 0;
  for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/schedstat`).split(" ")[0]);
    } catch { /* thread gone */ }
  }
  return total;
}

/** Waits (at most 100 ms) until the main thread of `pid` is no longer running: back in its
 * read of stdin after printing "next". A thread's schedstat is brought up to date only when it
 * is switched out, so a CPU time read while it still runs misses its current run. */
function settle(pid: number): void {
  const end = performance.now() + 100;
  while (performance.now() < end) {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    if (stat[stat.lastIndexOf(")") + 2] !== "R") return;
  }
}

function vmHwmMb(pid: number): number {
  const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^VmHWM:\s+(\d+) kB/m);
  return m ? Number(m[1]) / 1024 : NaN;
}

function fields(line: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of line.matchAll(/(\w+)=(\d+)/g)) out[m[1]] = Number(m[2]);
  return out;
}

function consumerCommand(side: Side, guestArgs: string[], nativeArgs: string[]) {
  const cmd = side === "ours" ? [...DENO_RUN, ...guestArgs] : [NATIVE, ...nativeArgs];
  return new Deno.Command("taskset", {
    args: ["-c", String(CONSUMER_CPU), ...cmd],
    cwd: REPO,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
}

// ---------------------------------------------------------------------------------------------
// Events

interface EventKind {
  key: string;
  mode: string;
  rounds: number;
  /** records per trigger, per CPU */
  perTrigger: number;
  /** the CPUs of a round's triggers */
  cpus: number[];
}

/** Handshake-only rounds at the end of an events run (IDLE_ROUNDS in evbench.c and
 * bench_native.c). */
const IDLE_ROUNDS = 8;

interface EventResult {
  perS: number;
  cpuNsPerRecord: number;
  rssMb: number;
}

async function eventsRun(side: Side, k: EventKind): Promise<EventResult> {
  const what = `events ${k.mode} (${side})`;
  const perRound = k.perTrigger * k.cpus.length;
  const args = [k.mode, String(Deno.pid), String(k.rounds), String(k.perTrigger)];
  args.push(String(k.cpus.length));
  const child = consumerCommand(
    side,
    [`${REPO}/bench/guests/evbench/evbench.wasm`, ...args],
    [side === "native_copy" ? "events-copy" : "events", `${OUT}/evbench.bpf.o`, ...args],
  ).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = new Lines(child.stdout);
  const w = child.stdin.getWriter();
  const go = new TextEncoder().encode("go\n");
  try {
    await lines.expect("ready", what);
    const roundNs: number[] = [];
    const roundCpu: number[] = [];
    for (let r = 0; r < k.rounds; r++) {
      trigger(k.cpus); // emits perRound records, synchronously, from this thread
      const before = processCpuNs(child.pid);
      await w.write(go);
      const ns = fields(await lines.expect("next ns=", what)).ns;
      settle(child.pid);
      if (r > 0) { // round 0 warms up, untimed
        roundNs.push(ns);
        roundCpu.push(processCpuNs(child.pid) - before);
      }
    }
    // idle rounds: the handshake alone, taken out of the CPU time per record
    const idleCpu: number[] = [];
    for (let r = 0; r < IDLE_ROUNDS; r++) {
      const before = processCpuNs(child.pid);
      await w.write(go);
      await lines.expect("next", what);
      settle(child.pid);
      idleCpu.push(processCpuNs(child.pid) - before);
    }
    const done = fields(await lines.expect("done", what));
    const rssMb = vmHwmMb(child.pid);
    await w.write(go);
    await w.close();
    const status = await child.status;
    if (!status.success) throw new Error(`${what}: exit ${status.code}\n${await stderr}`);
    const want = k.rounds * perRound;
    // one producer CPU: in order; several: their buffers are read one after another
    if (
      done.records !== want || done.bad !== 0 || done.dropped !== 0 || done.emitted !== want ||
      (k.cpus.length === 1 && done.jumps !== 0)
    ) {
      throw new Error(`${what}: ${JSON.stringify(done)} (want ${want} records, each once)`);
    }
    // (clamped: for a native drain the handshake noise can exceed the drain itself)
    const cpu = Math.max(0, median(roundCpu) - median(idleCpu));
    return {
      perS: perRound / (median(roundNs) / 1e9),
      cpuNsPerRecord: cpu / perRound,
      rssMb,
    };
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    throw new Error(`${e instanceof Error ? e.message : e}\nstderr: ${await stderr}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Map operations

interface MapResult {
  lookup: number;
  update: number;
  next: number;
}

async function mapsRun(side: Side, ops: number, walks: number): Promise<MapResult> {
  const what = `maps (${side})`;
  const args = [String(ops), String(walks)];
  const child = consumerCommand(
    side,
    [`${REPO}/bench/guests/mapbench/mapbench.wasm`, ...args],
    ["maps", `${OUT}/mapbench.bpf.o`, ...args],
  ).spawn();
  await child.stdin.close();
  const out = await child.output();
  const td = new TextDecoder();
  const line = td.decode(out.stdout).split("\n").find((l) => l.startsWith("result "));
  if (!out.success || !line) {
    throw new Error(`${what}: exit ${out.code}\n${td.decode(out.stdout)}${td.decode(out.stderr)}`);
  }
  const f = fields(line);
  if (f.bad !== 0) throw new Error(`${what}: ${line}`);
  return {
    update: f.updates / (f.update_ns / 1e9),
    lookup: f.lookups / (f.lookup_ns / 1e9),
    next: f.nexts / (f.next_ns / 1e9),
  };
}

// ---------------------------------------------------------------------------------------------
// Startup

const RUNQLAT_NATIVE = "/usr/sbin/runqlat";

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

async function startupRun(side: "ours" | "native"): Promise<number> {
  const cmd = side === "native"
    ? [RUNQLAT_NATIVE]
    : [...DENO_RUN, `${REPO}/examples/runqlat/runqlat.wasm`];
  const start = performance.now();
  const child = new Deno.Command("script", {
    args: ["-qfc", cmd.map(shellQuote).join(" "), "/dev/null"],
    cwd: REPO,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const dec = new TextDecoder();
  let text = "";
  let ms = NaN;
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
    if (text.includes("Tracing run queue latency")) {
      ms = performance.now() - start;
      break;
    }
  }
  // Ctrl-C through the pty: both end as they do for a user, detaching their programs.
  const w = child.stdin.getWriter();
  await w.write(new Uint8Array([3])).catch(() => {});
  await w.close().catch(() => {});
  (async () => {
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch { /* closed */ }
  })();
  await child.status;
  clearTimeout(timer);
  await child.stderr.cancel().catch(() => {});
  if (Number.isNaN(ms)) throw new Error(`startup (${side}): no banner\n${text}`);
  return ms;
}

// ---------------------------------------------------------------------------------------------
// Statistics and output

interface Pair {
  ours: number[];
  native: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (a >= 100) return x.toFixed(0);
  return x.toFixed(1);
}

const W_NAME = 28, W_CELL = 19, W_RATIO = 10;

/** One row: min / median of each side over the repetitions, and ours over each reference. */
function row(name: string, ours: number[], native: number[], copy?: number[], note = ""): string {
  const cell = (xs?: number[]) =>
    (xs ? `${fmt(Math.min(...xs))} / ${fmt(median(xs))}` : "-").padStart(W_CELL);
  const ratio = (xs?: number[]) =>
    (xs ? (median(ours) / median(xs)).toFixed(3) : "-").padStart(W_RATIO);
  return `${name.padEnd(W_NAME)}${cell(ours)}${cell(native)}${cell(copy)}${ratio(native)}${
    ratio(copy)
  }  ${note}`.trimEnd();
}

/** The targets of issue 10 against this run's medians: one line each, "ok" or "MISSED". */
function targetLines(
  ev: Record<string, Record<Side, number>>,
  mapRatios: number[],
  startupMs: Pair,
  rssMb: number[],
): string[] {
  const check = (v: number, atLeast: number) => `${v >= atLeast ? "ok" : "MISSED"}`;
  const out = [
    `${"target (issue 10)".padEnd(W_NAME)}${"vs native".padStart(W_RATIO)}  ${"target".padEnd(16)}${
      "vs native+copy".padStart(15)
    }  target`,
  ];
  const rows: [string, string, number, number | null][] = [
    ["ring 16 B", "ringbuf_16b_events_per_s", 0.5, 1.2],
    ["ring 256 B", "ringbuf_256b_events_per_s", 0.25, 0.9],
    ["perf 16 B", "perfbuf_16b_events_per_s", 0.4, null],
    ["perf 256 B", "perfbuf_256b_events_per_s", 0.25, null],
  ];
  for (const [name, key, tNative, tCopy] of rows) {
    const e = ev[key];
    if (!e) continue; // not run (--only)
    const rn = e.ours / e.native, rc = e.ours / e.native_copy;
    out.push(
      `${name.padEnd(W_NAME)}${rn.toFixed(3).padStart(W_RATIO)}  ${
        `>= ${tNative.toFixed(2)} ${check(rn, tNative)}`.padEnd(16)
      }${rc.toFixed(3).padStart(15)}  ${
        tCopy === null ? "-" : `>= ${tCopy.toFixed(2)} ${check(rc, tCopy)}`
      }`,
    );
  }
  const worstMap = Math.min(...mapRatios);
  if (mapRatios.length) {
    out.push(
      `${"map ops (worst of 3)".padEnd(W_NAME)}${
        worstMap.toFixed(3).padStart(W_RATIO)
      }  ${`>= 0.80 ${check(worstMap, 0.8)}`}`,
    );
  }
  if (startupMs.ours.length === 0) return out;
  const extraMs = median(startupMs.ours) - median(startupMs.native);
  out.push(
    `${"startup, ours - native".padEnd(W_NAME)}${
      `${extraMs.toFixed(1)} ms`.padStart(W_RATIO)
    }  ${`<= 50 ms ${check(-extraMs, -50)}`}`,
  );
  if (rssMb.length === 0) return out;
  const rss = median(rssMb);
  out.push(
    `${"peak RSS, ours".padEnd(W_NAME)}${`${rss.toFixed(1)} MB`.padStart(W_RATIO)}  ${`<= 64 MB ${
      check(-rss, -64)
    }`}`,
  );
  return out;
}

async function main(): Promise<number> {
  const o = parseArgs(Deno.args);
  if (Deno.uid() !== 0) {
    console.error("bench: needs root (loads and attaches BPF programs)");
    return 1;
  }
  const log = (s: string) => console.error(s);
  const t0 = performance.now();
  await build();
  pinSelf(DRIVER_CPU);

  const S = o.smoke;
  const ring = [DRIVER_CPU];
  const perf = perfCpus(o.perfCpus);
  const wanted = (part: string) => o.only.size === 0 || o.only.has(part);
  const kinds: EventKind[] = ([
    {
      key: "ringbuf_16b_events_per_s",
      mode: "ring16",
      rounds: S ? 2 : 10,
      perTrigger: S ? 2000 : 131072,
      cpus: ring,
    },
    {
      key: "ringbuf_256b_events_per_s",
      mode: "ring256",
      rounds: S ? 2 : 10,
      perTrigger: S ? 500 : 15000,
      cpus: ring,
    },
    {
      key: "perfbuf_16b_events_per_s",
      mode: "perf16",
      rounds: S ? 2 : 50,
      perTrigger: S ? 500 : 7600,
      cpus: perf,
    },
    {
      key: "perfbuf_256b_events_per_s",
      mode: "perf256",
      rounds: S ? 2 : 50,
      perTrigger: S ? 100 : 940,
      cpus: perf,
    },
  ] as EventKind[]).filter((k) => wanted(k.mode));
  const startup: Pair = { ours: [], native: [] };
  const ev: Record<string, Record<Side, EventResult[]>> = {};
  const rss: Pair = { ours: [], native: [] };
  const mp: Record<"ours" | "native", MapResult[]> = { ours: [], native: [] };

  for (let rep = 0; rep < o.reps; rep++) {
    log(`bench: repetition ${rep + 1}/${o.reps}`);
    // interleaved, so drift of the machine hits every side alike
    if (wanted("startup")) {
      for (const side of ["native", "ours"] as const) startup[side].push(await startupRun(side));
    }
    const repRss = { ours: 0, native: 0 };
    for (const k of kinds) {
      ev[k.key] ??= { ours: [], native: [], native_copy: [] };
      for (const side of SIDES) {
        const r = await eventsRun(side, k);
        ev[k.key][side].push(r);
        if (side !== "native_copy") repRss[side] = Math.max(repRss[side], r.rssMb);
      }
    }
    if (kinds.length) {
      for (const side of ["ours", "native"] as const) rss[side].push(repRss[side]);
    }
    if (wanted("maps")) {
      for (const side of ["ours", "native"] as const) {
        mp[side].push(await mapsRun(side, S ? 2000 : 200_000, S ? 1 : 20));
      }
    }
  }

  const cpuInfo = (await sh("sh", ["-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]))
    .trim();
  const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  const lines: string[] = [];
  lines.push(
    `machine: ${cpuInfo}, ${nCpus} CPUs, kernel ${Deno.osRelease()}, Deno ${Deno.version.deno}; ` +
      `${o.reps} repetition(s)${S ? " (smoke counts)" : ""}; perf rounds on ${perf.length} ` +
      `CPU(s); load average at the end ${load}`,
  );
  lines.push(
    `${"metric".padEnd(W_NAME)}${"ours min / med".padStart(W_CELL)}${
      "native min / med".padStart(W_CELL)
    }${"n+copy min / med".padStart(W_CELL)}${"/native".padStart(W_RATIO)}${
      "/n+copy".padStart(W_RATIO)
    }`,
  );
  const json: Record<string, { ours: number; native: number }> = {};
  if (startup.ours.length) {
    lines.push(
      row("startup_ms (runqlat)", startup.ours, startup.native, undefined, "lower is better"),
    );
  }
  json.startup_ms = { ours: median(startup.ours), native: median(startup.native) };
  const evMed: Record<string, Record<Side, number>> = {};
  for (const k of kinds) {
    const e = ev[k.key];
    const rate = (s: Side) => e[s].map((r) => r.perS);
    const cpu = (s: Side) => e[s].map((r) => r.cpuNsPerRecord);
    lines.push(row(k.key, rate("ours"), rate("native"), rate("native_copy")));
    lines.push(
      row("  cpu_ns_per_record", cpu("ours"), cpu("native"), cpu("native_copy"), "lower is better"),
    );
    evMed[k.key] = {
      ours: median(rate("ours")),
      native: median(rate("native")),
      native_copy: median(rate("native_copy")),
    };
    json[k.key] = { ours: evMed[k.key].ours, native: evMed[k.key].native };
    json[`${k.key}_native_copy`] = { ours: evMed[k.key].ours, native: evMed[k.key].native_copy };
  }
  const mapRatios: number[] = [];
  const mrow = (key: keyof MapResult, name: string) => {
    const ours = mp.ours.map((r) => r[key]);
    const native = mp.native.map((r) => r[key]);
    lines.push(row(name, ours, native));
    json[name] = { ours: median(ours), native: median(native) };
    mapRatios.push(median(ours) / median(native));
  };
  if (mp.ours.length) {
    mrow("lookup", "map_lookup_per_s");
    mrow("update", "map_update_per_s");
    mrow("next", "map_next_key_per_s");
  }
  if (rss.ours.length) {
    lines.push(
      row("peak_rss_mb (events runs)", rss.ours, rss.native, undefined, "lower is better"),
    );
  }
  json.peak_rss_mb = { ours: median(rss.ours), native: median(rss.native) };
  lines.push("");
  lines.push(...targetLines(evMed, mapRatios, startup, rss.ours));
  lines.push(`bench took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(lines.join("\n"));
  if (o.json) {
    const ordered: Record<string, { ours: number; native: number }> = {};
    for (const key of JSON_KEYS) ordered[key] = json[key];
    console.log(JSON.stringify(ordered));
  }
  return 0;
}

/** The keys of the --json line, in order. */
const JSON_KEYS = [
  "startup_ms",
  "ringbuf_16b_events_per_s",
  "ringbuf_16b_events_per_s_native_copy",
  "ringbuf_256b_events_per_s",
  "ringbuf_256b_events_per_s_native_copy",
  "perfbuf_16b_events_per_s",
  "perfbuf_16b_events_per_s_native_copy",
  "perfbuf_256b_events_per_s",
  "perfbuf_256b_events_per_s_native_copy",
  "map_lookup_per_s",
  "map_update_per_s",
  "map_next_key_per_s",
  "peak_rss_mb",
];

if (import.meta.main) Deno.exit(await main());
