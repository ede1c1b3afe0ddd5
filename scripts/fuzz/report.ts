// What a fuzz run found: the report, the checks that fill it, and its text form.

/** What `runFuzz` (scripts/fuzz.ts) did and found. */
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

/** A report with nothing counted yet. */
export function emptyReport(seed: number): FuzzReport {
  return {
    seed,
    calls: 0,
    byImport: {},
    results: { zero: 0, positive: 0, errno: 0 },
    loaded: 0,
    attached: 0,
    failures: [],
    fds: { before: 0, after: 0 },
    bpf: { before: 0, after: 0 },
    system: { progsBefore: 0, progsAfter: 0, mapsBefore: 0, mapsAfter: 0 },
    ms: 0,
  };
}

/** At most this many failures are kept: one bug usually fails many calls. */
const MAX_FAILURES = 50;

/** The checks every call's result goes through, counted into one report. */
export class Checks {
  constructor(readonly report: FuzzReport) {}

  /** Counts one call of import `name`. */
  count(name: string): void {
    this.report.calls++;
    this.report.byImport[name] = (this.report.byImport[name] ?? 0) + 1;
  }

  /** Records a failed check of `call`, which returned `got`. */
  fail(call: string, got: unknown, why: string): void {
    if (this.report.failures.length < MAX_FAILURES) {
      this.report.failures.push(`call ${this.report.calls} ${call} -> ${String(got)}: ${why}`);
    }
  }

  /** The checks every i32 result passes; `expect` pins the exact value when the ABI fixes it. */
  result(call: string, r: unknown, expect?: number): void {
    if (typeof r !== "number" || !Number.isInteger(r)) return this.fail(call, r, "not an integer");
    if (r === 0) this.report.results.zero++;
    else if (r > 0) this.report.results.positive++;
    else this.report.results.errno++;
    if (r < -4095) this.fail(call, r, "below the errno range");
    if (expect !== undefined && r !== expect) this.fail(call, r, `expected ${expect}`);
  }

  /** Forgets the counts (not the failures): the warm-up round is not part of the report. */
  resetCounts(): void {
    const r = this.report;
    r.calls = 0;
    r.byImport = {};
    r.results = { zero: 0, positive: 0, errno: 0 };
    r.loaded = r.attached = 0;
  }
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
