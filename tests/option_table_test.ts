// The option table of a run (src/options/run_options.ts): the command line it writes for a child
// process reads back as the same options, over generated option sets with tricky values.
import assert from "node:assert/strict";
import { formatCli, RUN_OPTIONS, type RunOptions } from "../src/options/run_options.ts";
import { parseCli } from "../src/cli/usage.ts";
import { commandOptionsOf } from "../src/cli/main.ts";
import { cliArgsOf } from "../src/api/process_child.ts";
import { resolveOptions } from "../src/api/child_base.ts";
import type { WasmBpfCommandOptions } from "../src/api/types.ts";
import { findOption } from "../src/options/option_table.ts";
import { DEFAULT_CALLBACK_EXPORT, DEFAULT_WRAPPER_MODULE } from "../src/guest/import_signatures.ts";
import { PROGRAM_TYPE_NAMES } from "../src/guest/policy.ts";
import { OPTIONAL_WASM_FEATURES } from "../src/guest/wasm_layout.ts";

const CASES = 400;

/** A small seeded generator, so that a failure names the case that reproduces it. */
class Gen {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0 || 1;
  }
  /** A number in [0, 1): xorshift32. */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state / 2 ** 32;
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p = 0.5): boolean {
    return this.next() < p;
  }
  list<T>(max: number, item: () => T): T[] {
    return Array.from({ length: this.int(max + 1) }, item);
  }
  /** A string of the pieces a command line gets wrong: separators, escapes, dashes. */
  text(min = 1): string {
    const pieces = [
      "a",
      "Z9",
      ":",
      "\\",
      "\\:",
      "\\\\",
      "=",
      "-",
      "--",
      "/",
      ",",
      " ",
      "\t",
      "é",
      "x=y",
      "-v",
      "--help",
    ];
    let s = "";
    while (s.length < min || this.chance(0.6)) s += this.pick(pieces);
    return s;
  }
  /** An absolute path without "." and ".." parts or doubled slashes: what --pin-root keeps. */
  path(): string {
    return "/" + this.list(3, () => this.text().replaceAll("/", "_")).join("/");
  }
}

/** An attach rule the policy accepts, without "," (the list separator) or edge blanks. */
function attachRule(g: Gen): string {
  const clean = (s: string) => s.replaceAll(",", ";").trim() || "x";
  return g.pick([
    () => "auto",
    () => `xdp:${clean(g.text())}`,
    () => `cgroup:${clean(g.path())}`,
  ])();
}

/** Options a command line can carry: every key set or unset, each value tricky. */
function runOptions(g: Gen): RunOptions {
  const o: RunOptions = {
    verbose: g.chance(),
    env: Object.fromEntries(
      g.list(4, () => [g.text().replaceAll("=", "_"), g.chance(0.2) ? "" : g.text()]),
    ),
    preopens: g.list(4, () => ({
      hostPath: g.text(),
      guestPath: g.text(),
      ...(g.chance() ? { attachOnly: true } : {}),
    })),
    policy: {},
    registry: {},
    modulePath: g.chance(0.2) ? "-odd.wasm" : g.text(),
    guestArgs: g.list(4, () => g.chance(0.3) ? g.pick(["--", "-h", "--max-objects=9"]) : g.text()),
  };
  if (g.chance()) o.wrapperModuleName = g.text();
  if (g.chance()) o.callbackExportName = g.text();
  if (g.chance()) o.hostImportsModule = g.text();
  if (g.chance()) o.logFile = g.text();
  const p = o.policy;
  // An empty allow-list is kept: it allows nothing, which is not the same as no list.
  if (g.chance()) {
    p.allowProgramTypes = new Set(g.list(3, () => g.pick(PROGRAM_TYPE_NAMES)));
  }
  if (g.chance()) p.allowAttach = g.list(3, () => attachRule(g));
  if (g.chance()) p.allowMapWrite = g.chance();
  if (g.chance()) p.maxObjects = g.pick([0, 1, 64, 1_000_000, g.int(1_000_001)]);
  if (g.chance()) p.maxMemoryMiB = g.pick([1, 4096, 1 + g.int(4096)]);
  // No features allowed is the default, written as no flag: a list here is never empty.
  if (g.chance()) {
    p.allowWasmFeatures = [
      g.pick(OPTIONAL_WASM_FEATURES),
      ...g.list(2, () => g.pick(OPTIONAL_WASM_FEATURES)),
    ];
  }
  if (g.chance()) p.pinRoot = g.path();
  const r = o.registry;
  if (g.chance()) r.pull = g.pick(["missing", "always", "never"] as const);
  if (g.chance()) r.verifyKey = g.text();
  if (g.chance()) r.insecureRegistries = [g.text(), ...g.list(2, () => g.text())];
  if (g.chance()) r.cacheDir = g.text();
  return o;
}

/** What parseCli gives for `o`: the same, with the defaults of unset names filled in. */
function withDefaults(o: RunOptions): RunOptions {
  return {
    ...o,
    wrapperModuleName: o.wrapperModuleName ?? DEFAULT_WRAPPER_MODULE,
    callbackExportName: o.callbackExportName ?? DEFAULT_CALLBACK_EXPORT,
  };
}

Deno.test("option table: parseCli(formatCli(o)) gives back o, for generated options", () => {
  for (let seed = 1; seed <= CASES; seed++) {
    const o = runOptions(new Gen(seed));
    const argv = formatCli(o);
    const parsed = parseCli(argv);
    assert.equal(parsed.kind, "run", `seed ${seed}: ${JSON.stringify(argv)}`);
    if (parsed.kind !== "run") return;
    assert.deepEqual(parsed.options, withDefaults(o), `seed ${seed}: ${JSON.stringify(argv)}`);
  }
});

Deno.test("option table: every flag is written for some generated options", () => {
  const written = new Set<string>();
  for (let seed = 1; seed <= CASES; seed++) {
    const argv = formatCli(runOptions(new Gen(seed)));
    for (let i = 0; argv[i] !== "--"; i++) {
      const eq = argv[i].indexOf("=");
      const flag = eq > 0 ? argv[i].slice(0, eq) : argv[i];
      written.add(flag);
      if (findOption(RUN_OPTIONS, flag)?.value !== undefined && eq < 0) i++; // its value
    }
  }
  assert.deepEqual([...written].sort(), RUN_OPTIONS.map((spec) => spec.long).sort());
});

Deno.test("option table: repeated and inline flags read, written, and read the same", () => {
  const argv = [
    "-v",
    "--allow-program-type=tracepoint",
    "--allow-program-type",
    "tracing,kprobe",
    "--allow-attach=auto",
    "--allow-attach",
    "xdp:lo, cgroup:/sys/fs/cgroup/a:b\\c",
    "--allow-wasm-feature=gc",
    "--allow-wasm-feature=memory64",
    "--max-objects=2",
    "--max-objects",
    "3",
    "--max-memory=16",
    "--allow-map-write=true",
    "--allow-map-write",
    "false",
    "--pin-root=/sys/fs/bpf/a/../b:c/",
    "--env=A=b=c",
    "--env",
    "A=d",
    "--env",
    "-B=",
    "--dir",
    "/t/x\\:y:/data",
    "--attach-dir=/cg\\\\:/c\\:g",
    "--dir=/var",
    "--insecure-registry=one:5000",
    "--insecure-registry",
    "two",
    "--pull",
    "never",
    "--pull=always",
    "-m",
    "w",
    "--callback-export-name=-c",
    "--",
    "--module.wasm",
    "-h",
  ];
  const once = parseCli(argv);
  assert.equal(once.kind, "run");
  if (once.kind !== "run") return;
  assert.deepEqual(parseCli(formatCli(once.options)), once);
  const p = once.options.policy;
  assert.deepEqual([...p.allowProgramTypes!], ["tracepoint", "tracing", "kprobe"]);
  assert.deepEqual(p.allowAttach, ["auto", "xdp:lo", "cgroup:/sys/fs/cgroup/a:b\\c"]);
  assert.deepEqual(p.allowWasmFeatures, ["gc", "memory64"]);
  assert.equal(p.maxObjects, 3);
  assert.equal(p.allowMapWrite, false);
  assert.equal(p.pinRoot, "/sys/fs/bpf/b:c");
  assert.deepEqual(once.options.env, { A: "d", "-B": "" });
  assert.deepEqual(once.options.preopens, [
    { hostPath: "/t/x:y", guestPath: "/data" },
    { hostPath: "/cg\\", guestPath: "/c:g", attachOnly: true },
    { hostPath: "/var", guestPath: "/var" },
  ]);
  assert.deepEqual(once.options.registry, {
    insecureRegistries: ["one:5000", "two"],
    pull: "always",
  });
  assert.deepEqual(once.options.guestArgs, ["-h"]);
});

/** Library options with tricky values, in every form the API takes. */
function commandOptions(g: Gen): WasmBpfCommandOptions {
  const dir = () => g.chance() ? g.text() : { hostPath: g.text(), guestPath: g.text() };
  const o = runOptions(g);
  return {
    args: o.guestArgs,
    env: o.env,
    dirs: g.list(3, dir),
    attachDirs: g.list(2, dir),
    wrapperModuleName: o.wrapperModuleName,
    callbackExportName: o.callbackExportName,
    verbose: o.verbose,
    hostImportsModule: g.chance() ? o.hostImportsModule : new URL("file:///h/imports.ts"),
    policy: g.chance() ? o.policy : undefined,
    registry: g.chance() ? o.registry : undefined,
  };
}

Deno.test("option table: process isolation's child resolves the caller's options", () => {
  const stdio = { stdin: "null", stdout: "null", stderr: "null" } as const;
  for (let seed = 1; seed <= CASES; seed++) {
    const mine = resolveOptions("m.wasm", commandOptions(new Gen(seed)), stdio);
    const argv = cliArgsOf("m.wasm", mine, "/tmp/log");
    const parsed = parseCli(argv);
    assert.equal(parsed.kind, "run", `seed ${seed}`);
    if (parsed.kind !== "run") return;
    assert.equal(parsed.options.logFile, "/tmp/log");
    const child = resolveOptions(
      parsed.options.modulePath,
      commandOptionsOf(parsed.options),
      stdio,
    );
    const what = `seed ${seed}: ${JSON.stringify(argv)}`;
    assert.equal(child.argv0, "m.wasm", what);
    assert.deepEqual(
      {
        args: child.args,
        env: child.env,
        preopens: child.preopens,
        verbose: child.verbose,
        wrapperModuleName: child.wrapperModuleName,
        callbackExportName: child.callbackExportName,
        hostImportsModule: child.hostImportsModule && String(child.hostImportsModule),
        policy: child.policy,
        registry: child.registry,
      },
      {
        args: mine.args,
        env: mine.env,
        preopens: mine.preopens,
        verbose: mine.verbose,
        wrapperModuleName: mine.wrapperModuleName ?? DEFAULT_WRAPPER_MODULE,
        callbackExportName: mine.callbackExportName ?? DEFAULT_CALLBACK_EXPORT,
        // The child resolves a relative specifier against its working directory, ours.
        hostImportsModule: mine.hostImportsModule &&
          new URL(String(mine.hostImportsModule), `file://${Deno.cwd()}/`).href,
        policy: mine.policy ?? {},
        registry: mine.registry ?? {},
      },
      what,
    );
  }
});
