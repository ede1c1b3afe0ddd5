/**
 * Differential test: the same wasi-libc guest (tests/guests/wasi/wasi_probe.c) runs under our
 * WasiPreview1 and under Deno's built-in node:wasi, each in its own subprocess with real stdio;
 * stdout, stderr and the exit status must be identical (timing values masked).
 */

import assert from "node:assert/strict";

const HERE = new URL(".", import.meta.url);
const RUNNER = new URL("./guests/wasi/run_under.ts", HERE).pathname;
const WASM = new URL("./guests/wasi/wasi_probe.wasm", HERE).pathname;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function makeFixture(): string {
  const dir = Deno.makeTempDirSync({ prefix: "wasi_diff_" });
  Deno.writeTextFileSync(`${dir}/hello.txt`, "hello world from the sandbox\n");
  Deno.mkdirSync(`${dir}/sub`);
  Deno.writeTextFileSync(`${dir}/sub/inner.txt`, "inner\n");
  return dir;
}

async function run(
  mode: "ours" | "node",
  args: string[],
  env: Record<string, string>,
  withPreopen: boolean,
): Promise<Result> {
  const dir = makeFixture(); // each side gets a fresh copy: the guest writes out.txt
  try {
    const cfg = { wasm: WASM, args, env, preopens: withPreopen ? { "/sandbox": dir } : {} };
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", RUNNER, mode, JSON.stringify(cfg)],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    const stderr = dec.decode(out.stderr).split("\n")
      .filter((l) => !l.includes("ExperimentalWarning") && !l.includes("--trace-warnings"))
      .join("\n");
    return { code: out.code, stdout: dec.decode(out.stdout), stderr };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Masks timing values (`@<digits>`) and isatty (node:wasi reports a TTY even for a pipe). */
function mask(s: string): string {
  return s.replace(/@\d+/g, "@N").replace(/isatty\(1\)=\d/g, "isatty(1)=?");
}

async function diff(args: string[], env: Record<string, string>, withPreopen: boolean) {
  const [ours, node] = await Promise.all([
    run("ours", args, env, withPreopen),
    run("node", args, env, withPreopen),
  ]);
  assert.equal(mask(ours.stdout), mask(node.stdout), "stdout differs");
  assert.equal(ours.stderr, node.stderr, "stderr differs");
  assert.equal(ours.code, node.code, "exit status differs");
  // Sanity: the probe really ran to the end (a crash on both sides must not pass).
  assert(ours.stdout.includes("getentropy: 0"), ours.stdout + ours.stderr);
  // Ours reports a pipe as not a TTY (full buffering, like a C program).
  assert(ours.stdout.includes("isatty(1)=0"));
  return ours;
}

Deno.test("wasi diff: argv, env, preopened dir, clocks, sleep, stderr, exit(7)", async () => {
  const r = await diff(
    ["wasi_probe.wasm", "7", "héllo wörld", "--flag=a b"],
    { GREETING: "hi there", EMPTY: "", UNICODE: "ünï=ok" },
    true,
  );
  assert.equal(r.code, 7);
  assert(r.stdout.includes("hello.txt (29 bytes): hello world from the sandbox"));
  assert(r.stdout.includes("entry: sub dir"));
  assert(r.stdout.includes("out.txt: written by guest"));
  assert(r.stdout.includes("open escape: refused"));
  assert(r.stdout.includes("slept>=20ms: 1"));
  assert.equal(r.stderr, "to stderr: héllo wörld\n");
});

Deno.test("wasi diff: no preopens, empty env, main returns 0", async () => {
  const r = await diff(["probe"], {}, false);
  assert.equal(r.code, 0);
  assert(r.stdout.includes("env GREETING=(unset)"));
  assert(r.stdout.includes("fopen hello.txt failed: errno 76")); // ENOTCAPABLE from wasi-libc
});
