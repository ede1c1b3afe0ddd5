/**
 * Helpers for tests that need the real kernel: `kernelTest` (honest skips + leak checks) and
 * `runCli` (runs `deno run -A mod.ts …` in a subprocess and measures it).
 *
 * Skips: a kernel test is skipped, with a message naming what is missing (root, bpftool, the BPF
 * syscall, syscall tracepoints) and the kernel version, unless `WASM_BPF_REQUIRE_KERNEL=1`, in
 * which case it runs and fails with that message (style.md 13).
 *
 * Leak check (style.md 14): around each kernel test, the BPF program and link ids
 * (`bpftool -j prog list` / `link list`) and this process's open fds are compared; ids created
 * during the test and still present after a grace period (~1 s, for the kernel's asynchronous
 * teardown) fail the test. Other processes may load programs at the same time (other engineers,
 * other tests), so an id held open by a live process other than this one is not counted.
 */

import assert from "node:assert/strict";
import { catchesSignal, procState, waitFor } from "./conditions.ts";

const REPO_ROOT = new URL("../../", import.meta.url);
/** Absolute path of the repository root, with a trailing slash. */
export const repoRoot: string = decodeURIComponent(REPO_ROOT.pathname);
/** Absolute path of the CLI entry point. */
export const modTs: string = repoRoot + "mod.ts";
/** Absolute path of tests/guests/. */
export const guestsDir: string = repoRoot + "tests/guests/";

/** A guest module path under tests/guests/, e.g. `guest("maps/maps.wasm")`. */
export function guest(rel: string): string {
  return guestsDir + rel;
}

// ---------------------------------------------------------------------------------------------
// Kernel availability

/** Why kernel tests cannot run here, or null when they can. Computed once, synchronously. */
let missingCache: string | null | undefined;

function runSync(cmd: string, args: string[]): { ok: boolean; out: string; err: string } {
  try {
    const o = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
    const dec = new TextDecoder();
    return { ok: o.success, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
  } catch (e) {
    return { ok: false, out: "", err: e instanceof Error ? e.message : String(e) };
  }
}

/** null if BPF kernel tests can run; otherwise what is missing. */
export function kernelMissing(): string | null {
  if (missingCache !== undefined) return missingCache;
  const kernel = `kernel ${Deno.osRelease()}`;
  const uid = Deno.uid();
  if (uid !== 0) {
    missingCache = `root (CAP_BPF + CAP_PERFMON); running as uid ${uid} on ${kernel}`;
  } else if (!runSync("bpftool", ["version"]).ok) {
    missingCache = `bpftool in PATH (used for the leak check) on ${kernel}`;
  } else {
    const r = runSync("bpftool", ["-j", "prog", "list"]);
    if (!r.ok) {
      missingCache = `the BPF syscall (bpftool prog list failed: ${r.err.trim()}) on ${kernel}`;
    } else {
      try {
        Deno.statSync("/sys/kernel/tracing/events/syscalls/sys_enter_getpgid");
        missingCache = null;
      } catch {
        missingCache = `syscall tracepoints (/sys/kernel/tracing/events/syscalls, ` +
          `CONFIG_FTRACE_SYSCALLS) on ${kernel}`;
      }
    }
  }
  return missingCache;
}

const requireKernel = Deno.env.get("WASM_BPF_REQUIRE_KERNEL") === "1";

// ---------------------------------------------------------------------------------------------
// Leak check

interface BpfIds {
  progs: Map<number, string>;
  links: Map<number, string>;
}

async function bpftoolList(what: "prog" | "link"): Promise<Map<number, string>> {
  // bpftool fails when an object vanishes between its listing and its lookup (other tests and
  // processes tear links down concurrently): try again a few times.
  for (let attempt = 1;; attempt++) {
    const o = await new Deno.Command("bpftool", {
      args: ["-j", what, "list"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!o.success) {
      if (attempt < 5) continue;
      throw new Error(`bpftool -j ${what} list failed (status ${o.code})`);
    }
    const ids = new Map<number, string>();
    const text = new TextDecoder().decode(o.stdout).trim();
    for (const e of JSON.parse(text || "[]") as Array<Record<string, unknown>>) {
      const desc = what === "prog"
        ? `${e.type ?? "?"} ${e.name ?? "(no name)"}`
        : `${e.type ?? "?"} prog_id=${e.prog_id ?? "?"}`;
      ids.set(Number(e.id), desc);
    }
    return ids;
  }
}

/** Ids of the BPF programs and links that exist now, system-wide. */
export async function bpfIds(): Promise<BpfIds> {
  const [progs, links] = await Promise.all([bpftoolList("prog"), bpftoolList("link")]);
  return { progs, links };
}

/** Names of the BPF programs loaded now (bpftool truncates names to 15 chars). */
export async function progNames(): Promise<string[]> {
  return [...(await bpftoolList("prog")).values()].map((d) => d.split(" ")[1]);
}

function openFdCount(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
}

/** Pids of live processes, other than this one, holding an fd on the BPF program/link `id`. */
function otherHolders(kind: "prog_id" | "link_id", id: number): number[] {
  const re = new RegExp(`^${kind}:\\s*${id}$`, "m");
  const holders: number[] = [];
  for (const p of Deno.readDirSync("/proc")) {
    const pid = Number(p.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    try {
      for (const f of Deno.readDirSync(`/proc/${pid}/fdinfo`)) {
        try {
          const info = Deno.readTextFileSync(`/proc/${pid}/fdinfo/${f.name}`);
          if (re.test(info)) {
            holders.push(pid);
            break;
          }
        } catch { /* fd closed meanwhile */ }
      }
    } catch { /* process gone or not ours to read */ }
  }
  return holders;
}

function diff(before: Map<number, string>, after: Map<number, string>): Map<number, string> {
  const d = new Map<number, string>();
  for (const [id, desc] of after) if (!before.has(id)) d.set(id, desc);
  return d;
}

/** Leftover programs/links (as text), or "" when none remain after the grace period. */
async function leftovers(before: BpfIds, fdsBefore: number, graceMs = 1000): Promise<string> {
  const deadline = performance.now() + graceMs;
  for (;;) {
    const now = await bpfIds();
    const progs = diff(before.progs, now.progs);
    const links = diff(before.links, now.links);
    // programs held open by some other live process are not ours (parallel test runs)
    for (const id of [...progs.keys()]) {
      if (otherHolders("prog_id", id).length > 0) progs.delete(id);
    }
    for (const id of [...links.keys()]) {
      if (otherHolders("link_id", id).length > 0) links.delete(id);
    }
    const fds = openFdCount();
    const problems: string[] = [];
    if (progs.size) {
      problems.push(
        `BPF programs left behind: ${[...progs].map(([i, d]) => `id ${i} (${d})`).join(", ")}`,
      );
    }
    if (links.size) {
      problems.push(
        `BPF links left behind: ${[...links].map(([i, d]) => `id ${i} (${d})`).join(", ")}`,
      );
    }
    if (fds > fdsBefore) problems.push(`test process fds: ${fdsBefore} before, ${fds} after`);
    if (!problems.length) return "";
    if (performance.now() >= deadline) return problems.join("; ");
    await new Promise((r) => setTimeout(r, 50));
  }
}

let warmedUp = false;

/**
 * `Deno.test` for a test that needs root and the real kernel: skipped (or failed, under
 * WASM_BPF_REQUIRE_KERNEL=1) when unavailable, and leak-checked around `fn`.
 */
export function kernelTest(name: string, fn: (t: Deno.TestContext) => Promise<void> | void): void {
  const missing = kernelMissing();
  if (missing && !requireKernel) {
    Deno.test({
      name: `${name} (skipped: needs ${missing})`,
      ignore: true,
      fn: () => {},
    });
    return;
  }
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async (t) => {
      if (missing) {
        throw new Error(
          `kernel test "${name}" cannot run: needs ${missing} (WASM_BPF_REQUIRE_KERNEL=1)`,
        );
      }
      if (!warmedUp) {
        // The first subprocess spawn and the first in-process guest run (FFI libraries,
        // runtime internals) open a few fds that live as long as this process: open them
        // before counting.
        await new Deno.Command("true").output();
        const { WasmBpfCommand } = await import("../../mod.ts");
        await new WasmBpfCommand(guest("api/exitcode.wasm"), { isolation: "inline" }).output();
        warmedUp = true;
      }
      const before = await bpfIds();
      const fdsBefore = openFdCount();
      let failure: unknown = null;
      try {
        await fn(t);
      } catch (e) {
        failure = e;
      }
      const leaks = await leftovers(before, fdsBefore);
      if (failure) {
        if (leaks) console.error(`leak check after failure in "${name}": ${leaks}`);
        throw failure;
      }
      if (leaks) throw new Error(`leak check failed for "${name}": ${leaks}`);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

/** What a run's stdout must show: a text it contains, or a test of all of it so far. */
export type StdoutCondition = string | ((stdout: string) => boolean);

function shows(stdout: string, condition: StdoutCondition): boolean {
  return typeof condition === "string" ? stdout.includes(condition) : condition(stdout);
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** Bytes for the child's stdin (closed after writing); stdin is /dev/null otherwise. */
  stdin?: string | Uint8Array;
  /** Send `signal` once stdout shows `afterStdout` (default "ready\n") and, with `asleep`, once
   * the child then catches it (the guest waits in a poll or a sleep, where the host catches the
   * signal, rather than on its way there: conditions.ts catchesSignal). */
  signalAfter?: { signal: Deno.Signal; afterStdout?: StdoutCondition; asleep?: boolean };
  /** Run `action` (awaited, once) as soon as stdout shows `text`. */
  onStdout?: { text: StdoutCondition; action: (pid: number) => void | Promise<void> }[];
  /** SIGKILL the child after this long (default 30 s); the result then has `timedOut`. */
  timeoutMs?: number;
  /** Extra environment for the child. */
  env?: Record<string, string>;
  /** Extra `deno run` flags before mod.ts (default none; `-A` is always passed). */
  denoFlags?: string[];
  /** A command that runs deno, with its arguments, e.g. `["prlimit", "--nofile=1024"]`. */
  wrapper?: string[];
}

/** What {@link runCli} saw. */
export interface RunCliResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
  /** Spawn to exit status, in ms. */
  ms: number;
  /** With `signalAfter`: kill() to exit status, in ms (null if the signal was never sent). */
  signalToExitMs: number | null;
  timedOut: boolean;
  pid: number;
}

/** Spawns `deno run -A mod.ts ...args` from the repo root and collects its output. */
export async function runCli(args: string[], opts: RunCliOptions = {}): Promise<RunCliResult> {
  const start = performance.now();
  const deno = [Deno.execPath(), "run", "-A", ...(opts.denoFlags ?? []), modTs, ...args];
  const command = [...(opts.wrapper ?? []), ...deno];
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    cwd: repoRoot,
    stdin: opts.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...(opts.env ?? {}) },
  }).spawn();
  let exitedAt = 0;
  const status = child.status.then((s) => {
    exitedAt = performance.now();
    return s;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, opts.timeoutMs ?? 30_000);

  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    const bytes = typeof opts.stdin === "string"
      ? new TextEncoder().encode(opts.stdin)
      : opts.stdin;
    w.write(bytes).then(() => w.close()).catch(() => {});
  }

  let stdout = "";
  let signalSentAt: number | null = null;
  const pending = [...(opts.onStdout ?? [])];
  const sig = opts.signalAfter;
  const marker = sig?.afterStdout ?? "ready\n";
  let signalArmed = !!sig;
  const readStdout = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stdout) {
      stdout += dec.decode(chunk, { stream: true });
      for (let i = 0; i < pending.length; i++) {
        if (shows(stdout, pending[i].text)) {
          const [hook] = pending.splice(i--, 1);
          await hook.action(child.pid);
        }
      }
      if (signalArmed && sig && shows(stdout, marker)) {
        signalArmed = false;
        if (sig.asleep) {
          // (or gone: then there is nothing to signal)
          await waitFor(
            `the guest to wait (${sig.signal} caught) after ${JSON.stringify(stdout.slice(-80))}`,
            () => catchesSignal(child.pid, sig.signal) || ["Z", ""].includes(procState(child.pid)),
          );
        }
        signalSentAt = performance.now();
        try {
          child.kill(sig.signal);
        } catch { /* already exited */ }
      }
    }
    stdout += dec.decode();
  })();
  const readStderr = new Response(child.stderr).text();

  const s = await status;
  clearTimeout(timer);
  const [, stderr] = await Promise.all([readStdout, readStderr]);
  return {
    code: s.code,
    signal: s.signal,
    stdout,
    stderr,
    ms: exitedAt - start,
    signalToExitMs: signalSentAt === null ? null : exitedAt - signalSentAt,
    timedOut,
    pid: child.pid,
  };
}

/** A short description of a run for assertion messages. */
export function describeRun(r: RunCliResult): string {
  return `exit code ${r.code}${r.signal ? ` (signal ${r.signal})` : ""}${
    r.timedOut ? " (TIMED OUT, killed)" : ""
  } after ${r.ms.toFixed(0)} ms\n--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}`;
}

/** Fails if `stderr` shows a crash rather than a message for the user: a stack trace, an
 * internal error, a panic, an uncaught JS exception. */
export function assertClean(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, "a stack trace leaked to the user");
  assert.doesNotMatch(stderr, /internal error|panic|Uncaught|RangeError|TypeError/);
}

// ---------------------------------------------------------------------------------------------
// Machine facts

/** Number of possible CPUs, as libbpf counts them (/sys/devices/system/cpu/possible). */
export function possibleCpus(): number {
  const text = Deno.readTextFileSync("/sys/devices/system/cpu/possible").trim();
  let n = 0;
  for (const part of text.split(",")) {
    const [a, b] = part.split("-").map(Number);
    n += b === undefined ? 1 : b - a + 1;
  }
  return n;
}
