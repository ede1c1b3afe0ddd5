// The object fuzzer: `deno task fuzz --objects [--seed N] [--seconds N] [--check-only]` (root).
//
// Seeded mutations of the BTF, BTF.ext and section headers of our compiled test objects
// (tests/guests/fuzz, tests/guests/policy), each first run through the host's object check
// (src/guest/object_check.ts) in this process. A mutant the check refuses is fine. A mutant it
// accepts is opened and loaded by libbpf in a child process (scripts/fuzz_objects_child.ts,
// one child for many mutants): the child dying of a signal is a crash, a mutant that does not
// finish within the timeout is a hang; both are failures, reported with the mutant's seed and
// saved to --out. `--check-only` skips the child: it only runs the check, fast (the check must
// never throw nor hang on any mutant).
//
// Mutant i of a run with seed S has seed S+i and depends on nothing else, so
// `--seed S+i --count 1` rebuilds exactly that mutant. The CI runs a short version
// (tests/fuzz_objects_test.ts).

import { parseArgs } from "node:util";
import { type Btf, parseBtf } from "../src/guest/btf_check.ts";
import { checkBpfObject, checkElf, type Section } from "../src/guest/object_check.ts";
import { BtfKind as K } from "../src/format/btf.ts";
import { ByteReader, readElfHeader, sectionHeaderOffset } from "../src/format/elf.ts";

const REPO = new URL("..", import.meta.url).pathname;
/** The objects mutated (built by `deno task test`'s build step). */
export const BASE_OBJECTS = [
  "tests/guests/fuzz/fuzz.bpf.o",
  "tests/guests/fuzz/shapes.bpf.o",
  "tests/guests/policy/policy.bpf.o",
  "tests/guests/policy/tponly.bpf.o",
].map((p) => REPO + p);

/** How long libbpf may take on one mutant before it counts as a hang (a 1 GiB map, the largest
 * the check lets through, takes about 10 s to allocate here; a hang is forever). */
const HANG_MS = 30_000;

/** Options of {@link fuzzObjects}. */
export interface ObjectFuzzOptions {
  seed: number;
  /** Stop after this many mutants... */
  count?: number;
  /** ...or after this many seconds, whichever comes first. */
  seconds?: number;
  /** Only run the check (no libbpf child). */
  checkOnly?: boolean;
  /** Where to save crashing and hanging mutants. */
  outDir?: string;
  /** Skip the object check (to show what libbpf does without it). */
  noCheck?: boolean;
}

/** What {@link fuzzObjects} did and found. */
export interface ObjectFuzzReport {
  seed: number;
  mutants: number;
  refused: number;
  /** Accepted by the check, then by libbpf's open and load / refused by libbpf. */
  loaded: number;
  libbpfErrors: number;
  /** Refusals for an internal error of the check (a bug in it: should be none). */
  internalErrors: number;
  /** Failures: crashes and hangs, each with its mutant's seed and saved file. */
  crashes: { seed: number; signal: string; file: string }[];
  hangs: { seed: number; file: string }[];
  /** Refusals by reason (the reason's first words), for a sense of coverage. */
  reasons: Record<string, number>;
  ms: number;
}

// --- a small seeded PRNG (mulberry32) -------------------------------------------------------

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// --- mutations ------------------------------------------------------------------------------

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, n: number) => Math.floor(r() * n);

/** An interesting u32: small, near a type id, a boundary or random. */
function interesting(r: Rand, nTypes: number, self: number): number {
  switch (int(r, 8)) {
    case 0:
      return self; // a self reference
    case 1:
      return int(r, nTypes + 2); // any id, or just past the end
    case 2:
      return Math.max(0, self - 1 - int(r, 4)); // an earlier type: cycles through it
    case 3:
      return pick(r, [0, 1, 0x7fffffff, 0xffffffff, 0x80000000, 0x10000, 26, 0xffff]);
    case 4:
      return int(r, 64);
    case 5:
      return 1 << int(r, 32) >>> 0;
    default:
      return int(r, 0x100000000);
  }
}

/** Mutates the BTF type section: one field of one type, chosen with its meaning in mind. */
function mutateBtfType(r: Rand, btf: Btf): string {
  const n = btf.types.length;
  if (n < 2) return "no types";
  const t = btf.types[1 + int(r, n - 1)]!;
  const tv = btf.tv;
  const what = int(r, 10);
  if (what < 4) {
    // a reference: the type's own `type`, or a member / element / param / entry's
    const slots = [t.at + 8];
    const m = t.at + 12;
    if (t.kind === K.ARRAY) slots.push(m, m + 4, m + 8);
    if (t.kind === K.STRUCT || t.kind === K.UNION || t.kind === K.DATASEC) {
      for (let j = 0; j < t.vlen; j++) slots.push(m + 12 * j + 4 * (t.kind === K.DATASEC ? 0 : 1));
    }
    if (t.kind === K.FUNC_PROTO) { for (let j = 0; j < t.vlen; j++) slots.push(m + 8 * j + 4); }
    const at = pick(r, slots);
    if (at + 4 > tv.byteLength) return "nothing";
    const v = interesting(r, n, t.id);
    tv.setUint32(at, v, true);
    return `type ${t.id} ref @${at} = ${v}`;
  }
  if (what < 6) {
    // the kind (keeping vlen and flags): a typedef into a restrict, a struct into a var...
    const info = tv.getUint32(t.at + 4, true);
    const kind = int(r, 10) < 8 ? 1 + int(r, 19) : int(r, 32);
    tv.setUint32(t.at + 4, ((info & ~(0x1f << 24)) | (kind << 24)) >>> 0, true);
    return `type ${t.id} kind = ${kind}`;
  }
  if (what < 7) {
    // vlen or kflag
    const info = tv.getUint32(t.at + 4, true);
    const v = r() < 0.5 ? ((info & ~0xffff) | int(r, 0x10000)) >>> 0 : (info ^ 0x80000000) >>> 0;
    tv.setUint32(t.at + 4, v, true);
    return `type ${t.id} info = ${v}`;
  }
  // any word of the type and its members
  const len = (btf.types[t.id + 1]?.at ?? tv.byteLength) - t.at;
  const at = t.at + 4 * int(r, Math.max(1, len / 4));
  if (at + 4 > tv.byteLength) return "nothing";
  const v = interesting(r, n, t.id);
  tv.setUint32(at, v, true);
  return `type ${t.id} word @${at} = ${v}`;
}

function mutateWords(r: Rand, bytes: Uint8Array, start: number, len: number, n: number): string {
  if (len < 4) return "nothing";
  const at = start + 4 * int(r, Math.floor(len / 4));
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const v = r() < 0.3 ? (dv.getUint32(at, true) ^ (1 << int(r, 32))) >>> 0 : interesting(r, n, 1);
  dv.setUint32(at, v, true);
  return `word @${at} = ${v}`;
}

/** One mutant of `base`, with a description of what was changed. */
export function mutant(base: Uint8Array, seed: number): { bytes: Uint8Array; what: string[] } {
  const r = prng(seed);
  const bytes = base.slice();
  const sections = checkElf(bytes);
  const btfSec = sections.find((s) => s.name === ".BTF")!;
  const extSec = sections.find((s) => s.name === ".BTF.ext");
  const what: string[] = [];
  const rounds = 1 + int(r, 3);
  for (let i = 0; i < rounds; i++) {
    const where = r();
    if (where < 0.6) {
      // re-parse each round: an earlier round may have changed the layout
      let btf: Btf;
      try {
        btf = parseBtf(bytes.subarray(btfSec.offset, btfSec.offset + btfSec.size));
      } catch {
        what.push("BTF: " + mutateWords(r, bytes, btfSec.offset, btfSec.size, 64));
        continue;
      }
      what.push("BTF: " + mutateBtfType(r, btf));
    } else if (where < 0.7) {
      what.push("BTF header: " + mutateWords(r, bytes, btfSec.offset, 24, 64));
    } else if (where < 0.85 && extSec) {
      what.push(".BTF.ext: " + mutateWords(r, bytes, extSec.offset, extSec.size, 64));
    } else {
      what.push("section header: " + mutateSectionHeader(r, bytes, sections));
    }
  }
  return { bytes, what };
}

function mutateSectionHeader(r: Rand, bytes: Uint8Array, sections: Section[]): string {
  const elf = new ByteReader(bytes, "the object");
  const dv = elf.dv;
  const at = (index: number) => sectionHeaderOffset(readElfHeader(elf), index);
  const s = sections[1 + int(r, sections.length - 1)];
  const o = at(s.index);
  const field = pick(
    r,
    [
      ["name", 0, 4],
      ["type", 4, 4],
      ["flags", 8, 8],
      ["offset", 24, 8],
      ["size", 32, 8],
      ["link", 40, 4],
      ["info", 44, 4],
      ["entsize", 56, 8],
    ] as const,
  );
  const v = field[0] === "name"
    ? dv.getUint32(at(sections[int(r, sections.length)].index), true) // another's name
    : interesting(r, sections.length, s.index);
  if (field[2] === 4) dv.setUint32(o + field[1], v, true);
  else dv.setBigUint64(o + field[1], BigInt(v), true);
  return `${s.name}.${field[0]} = ${v}`;
}

// --- the child ------------------------------------------------------------------------------

/** A libbpf child that opens and loads objects; restarted after each crash or hang. */
export class LoaderChild {
  #child?: Deno.ChildProcess;
  #writer?: WritableStreamDefaultWriter<Uint8Array>;
  #lines?: AsyncIterator<string>;
  readonly pinRoot: string;

  constructor(pinRoot: string) {
    this.pinRoot = pinRoot;
  }

  #start(): void {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-ffi",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        `${REPO}scripts/fuzz_objects_child.ts`,
        this.pinRoot,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = lines(this.#child.stdout)[Symbol.asyncIterator]();
  }

  /** Opens and loads `bytes` in the child: its line, or how it died. */
  async load(
    bytes: Uint8Array,
    timeoutMs = HANG_MS,
  ): Promise<{ line: string } | { signal: string } | { hang: true }> {
    if (!this.#child) this.#start();
    const frame = new Uint8Array(4 + bytes.length);
    new DataView(frame.buffer).setUint32(0, bytes.length, true);
    frame.set(bytes, 4);
    const child = this.#child!;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((ok) =>
      timer = setTimeout(() => ok("timeout"), timeoutMs)
    );
    try {
      await this.#writer!.write(frame);
    } catch { /* the child died: its status says how */ }
    const next = await Promise.race([this.#lines!.next(), timeout]);
    clearTimeout(timer);
    if (next !== "timeout" && !next.done) return { line: next.value };
    if (next === "timeout") child.kill("SIGKILL");
    const status = await child.status;
    await this.#writer!.abort().catch(() => {}); // our end of its stdin
    this.#child = undefined;
    if (next === "timeout") return { hang: true };
    return { signal: status.signal ?? `exit ${status.code}` };
  }

  /** Ends the child (idempotent). */
  async close(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    await this.#writer!.close().catch(() => {});
    await child.status;
  }
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (pending + text).split("\n");
    pending = parts.pop()!;
    yield* parts;
  }
}

/** A fresh directory in the BPF filesystem for pins of mutants (removed by the caller). */
export function makePinRoot(): string {
  const dir = `/sys/fs/bpf/wasm-bpf-fuzz-objects-${Deno.pid}`;
  Deno.mkdirSync(dir, { recursive: true });
  return dir;
}

// --- the run --------------------------------------------------------------------------------

/** Runs the object fuzzer. */
export async function fuzzObjects(o: ObjectFuzzOptions): Promise<ObjectFuzzReport> {
  const started = performance.now();
  const bases = BASE_OBJECTS.map((p) => Deno.readFileSync(p));
  const outDir = o.outDir ?? "/tmp/wasm-bpf-fuzz-objects";
  const report: ObjectFuzzReport = {
    seed: o.seed,
    mutants: 0,
    refused: 0,
    loaded: 0,
    libbpfErrors: 0,
    internalErrors: 0,
    crashes: [],
    hangs: [],
    reasons: {},
    ms: 0,
  };
  const pinRoot = o.checkOnly ? "" : makePinRoot();
  const child = o.checkOnly ? undefined : new LoaderChild(pinRoot);
  const deadline = started + (o.seconds ?? Infinity) * 1000;
  const save = (seed: number, kind: string, bytes: Uint8Array) => {
    Deno.mkdirSync(outDir, { recursive: true });
    const file = `${outDir}/mutant-${seed}-${kind}.bpf.o`;
    Deno.writeFileSync(file, bytes);
    return file;
  };
  try {
    for (let i = 0; i < (o.count ?? Infinity) && performance.now() < deadline; i++) {
      const seed = (o.seed + i) >>> 0;
      const base = bases[seed % bases.length];
      const { bytes } = mutant(base, seed);
      report.mutants++;
      if (!o.noCheck) {
        const refusal = checkBpfObject(bytes);
        if (refusal) {
          report.refused++;
          if (refusal.startsWith("internal error")) report.internalErrors++;
          const key = refusal.replace(/\d+/g, "N").slice(0, 70);
          report.reasons[key] = (report.reasons[key] ?? 0) + 1;
          continue;
        }
      }
      if (!child) continue;
      const result = await child.load(bytes);
      if ("line" in result) {
        if (result.line === "ok") report.loaded++;
        else report.libbpfErrors++;
      } else if ("hang" in result) {
        report.hangs.push({ seed, file: save(seed, "hang", bytes) });
      } else {
        report.crashes.push({ seed, signal: result.signal, file: save(seed, "crash", bytes) });
      }
    }
  } finally {
    await child?.close();
    if (pinRoot) Deno.removeSync(pinRoot, { recursive: true });
  }
  report.ms = performance.now() - started;
  return report;
}

/** A report as text, for the terminal. */
export function formatObjectReport(r: ObjectFuzzReport): string {
  const top = Object.entries(r.reasons).sort((a, b) => b[1] - a[1]).slice(0, 8);
  return [
    `seed ${r.seed}: ${r.mutants} mutants in ${(r.ms / 1000).toFixed(1)} s`,
    `  refused by the check ${r.refused} (internal errors ${r.internalErrors}); ` +
    `libbpf: loaded ${r.loaded}, refused ${r.libbpfErrors}`,
    `  top refusals: ${top.map(([k, v]) => `${v} × ${k}`).join("; ")}`,
    ...r.crashes.map((c) => `  CRASH (${c.signal}): --seed ${c.seed} --count 1, saved ${c.file}`),
    ...r.hangs.map((h) => `  HANG: --seed ${h.seed} --count 1, saved ${h.file}`),
    r.crashes.length || r.hangs.length || r.internalErrors
      ? `FAILED: ${r.crashes.length} crashes, ${r.hangs.length} hangs, ` +
        `${r.internalErrors} internal errors of the check`
      : "PASS",
  ].join("\n");
}

/** `deno task fuzz --objects ...` */
export async function objectFuzzMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== "--objects"),
    options: {
      seed: { type: "string" },
      seconds: { type: "string" },
      count: { type: "string" },
      "check-only": { type: "boolean" },
      "no-check": { type: "boolean" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task fuzz --objects [--seed N] [--seconds N] [--count N] [--check-only]\n" +
        "         [--no-check] [--out DIR]\n" +
        "  (default: a random seed, 60 s; --check-only: the object check alone, no libbpf;\n" +
        "   --no-check: give every mutant to libbpf, to see what the check prevents;\n" +
        "   crashing and hanging mutants are saved to --out, /tmp/wasm-bpf-fuzz-objects)",
    );
    return 0;
  }
  const seed = Number(values.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]);
  const count = values.count === undefined ? undefined : Number(values.count);
  const seconds = Number(values.seconds ?? (count === undefined ? 60 : Infinity));
  console.log(
    `fuzzing BPF objects: seed ${seed} (reproduce: --seed ${seed}), ` +
      `${count ?? "unlimited"} mutants, ${seconds === Infinity ? "no time limit" : `${seconds} s`}${
        values["check-only"] ? ", check only" : ""
      }`,
  );
  const r = await fuzzObjects({
    seed,
    count,
    seconds,
    checkOnly: values["check-only"],
    noCheck: values["no-check"],
    outDir: values.out,
  });
  console.log(formatObjectReport(r));
  return r.crashes.length || r.hangs.length || r.internalErrors ? 1 : 0;
}
