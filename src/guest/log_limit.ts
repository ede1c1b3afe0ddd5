/**
 * A rate limit on the host's log lines a guest can cause: a guest calling a failing import in a
 * loop must not flood stderr (or the run's logger) with host lines, and a flood of one kind
 * must not hide the first line of another.
 *
 * Each kind (the import or area the line is about: "wasm_load_bpf_object errors", "attach
 * refusals", ...) has its own count: its first {@link MAX_LINES_PER_KIND} lines are written,
 * the next one is replaced by a line saying that further lines of the kind are not logged,
 * and the rest are only counted; {@link LineLimiter.summarize}, at the end of the run, says
 * how many of each kind were not logged.
 */

/** How many lines of one kind are written before the rest are only counted. */
export const MAX_LINES_PER_KIND = 20;

/** The log of the `wasm_bpf` imports: every line a guest's call can cause is an error of a
 * kind, rate-limited per kind (a LineLimiter), so a guest calling a failing import in a loop
 * cannot flood the log. */
export interface GuestLog {
  /** An error line of `kind` (the import or area, plural: "wasm_load_bpf_object errors",
   * "attach refusals"): the first {@link MAX_LINES_PER_KIND} of a kind are shown, then
   * one line saying the rest are not. `prefix` starts the line and that one ("policy: "). */
  error(kind: string, message: string, prefix?: string): void;
  /** Shown with -v only (unlimited: asked for). */
  debug(message: string): void;
  /** Whether debug lines are shown (-v). */
  readonly verbose?: boolean;
  /** At the end of the run: one line per kind with lines not shown, counting them. */
  summarize(): void;
}

interface KindCount {
  count: number;
  prefix: string;
}

export class LineLimiter {
  readonly #write: (line: string) => void;
  readonly #max: number;
  readonly #kinds = new Map<string, KindCount>();

  /** `write` writes one line (a message; the log adds its own "wasm-bpf: "). */
  constructor(write: (line: string) => void, max = MAX_LINES_PER_KIND) {
    this.#write = write;
    this.#max = max;
  }

  /** Writes `prefix + message`, unless {@link MAX_LINES_PER_KIND} lines of `kind` were
   * written already. `kind` names the lines in the plural, as "further ... are not logged"
   * says it ("attach errors"); `prefix` starts that line too ("policy: "). */
  line(kind: string, message: string, prefix = ""): void {
    let k = this.#kinds.get(kind);
    if (!k) this.#kinds.set(kind, k = { count: 0, prefix });
    k.count++;
    if (k.count <= this.#max) this.#write(`${prefix}${message}`);
    else if (k.count === this.#max + 1) this.#write(`${k.prefix}further ${kind} are not logged`);
  }

  /** How many lines of `kind` were not written. */
  suppressed(kind: string): number {
    return Math.max(0, (this.#kinds.get(kind)?.count ?? 0) - this.#max);
  }

  /** Writes one line per kind with lines not written: how many (once, at the end of a run). */
  summarize(): void {
    for (const kind of this.#kinds.keys()) {
      const n = this.suppressed(kind);
      if (n > 0) this.#write(`${n.toLocaleString("en-US")} further ${kind} were not logged`);
    }
  }
}
