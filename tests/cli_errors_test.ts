// Bad input to the CLI: clear one-line messages, meaningful exit codes, no stack traces.
import assert from "node:assert/strict";
import { assertClean, describeRun, guest, runCli } from "./helpers/kernel.ts";

const tmp = await Deno.makeTempDir({ prefix: "wasm-bpf-cli-" });
const empty = `${tmp}/empty.wasm`;
const garbage = `${tmp}/garbage.wasm`;
const truncated = `${tmp}/truncated.wasm`;
const reactor = `${tmp}/no-start.wasm`;
Deno.writeFileSync(empty, new Uint8Array());
Deno.writeFileSync(garbage, new TextEncoder().encode("this is not wasm at all\n"));
// "\0asm" + version 1 + the start of a type section that never ends
Deno.writeFileSync(truncated, new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 10, 2]));
// A valid module exporting a memory but no _start: not a WASI command.
Deno.writeFileSync(
  reactor,
  new Uint8Array([
    0,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    5,
    3,
    1,
    0,
    1,
    7,
    10,
    1,
    6,
    109,
    101,
    109,
    111,
    114,
    121,
    2,
    0,
  ]),
);

// --host-imports modules: one that throws while loading, one that exports a number.
const throwing = `${tmp}/throwing_imports.ts`;
const notFunctions = `${tmp}/number_imports.ts`;
Deno.writeTextFileSync(throwing, 'throw new Error("no device here");\n');
Deno.writeTextFileSync(notFunctions, "export default { env: 5 };\n");

const cases: [string, string[], number, RegExp][] = [
  ["no module", [], 2, /no module given/],
  ["unknown option", ["--frobnicate", "x.wasm"], 2, /unknown option --frobnicate/],
  ["missing file", [`${tmp}/nope.wasm`], 1, /nope\.wasm: no such file/],
  ["a directory", [tmp], 1, /is a directory/],
  ["empty file", [empty], 1, /empty/],
  ["garbage", [garbage], 1, /not a WebAssembly module/],
  ["truncated module", [truncated], 1, /invalid WebAssembly module/],
  ["no _start", [reactor], 1, /no _start function/],
  ["bad --dir", ["--dir", `${tmp}/nope`, empty], 2, /--dir .*no such directory/],
  [
    "--verify-key for a file",
    ["--verify-key", `${tmp}/nope.pub`, empty],
    1,
    /empty\.wasm: a signature check was asked for \(--verify-key\), but only registry references/,
  ],
  [
    "--pin-root that is a file",
    [`--pin-root=${empty}`, empty],
    2,
    /^wasm-bpf: --pin-root .*empty\.wasm: not a directory\n/,
  ],
  ["empty module path", [""], 2, /^wasm-bpf: the module path is empty\n/],
  [
    "a registry subcommand after an option",
    ["-v", "--oci-cache", "ls"],
    2,
    /^wasm-bpf: --oci-cache must be the first argument \(wasm-bpf --oci-cache \.\.\.\)\n/,
  ],
  ["empty --log-file", ["--log-file=", empty], 2, /--log-file takes PATH, got ""/],
  [
    "--cache-dir that is a file",
    ["--oci-cache", "ls", "--cache-dir", empty],
    1,
    /^wasm-bpf: the cache .*empty\.wasm is not a directory \(--cache-dir\)\n$/,
  ],
  [
    "missing --host-imports module",
    ["--host-imports", `${tmp}/nope.ts`, empty],
    1,
    /^wasm-bpf: --host-imports .*nope\.ts: Module not found .*\n$/,
  ],
  [
    "--host-imports module that throws",
    ["--host-imports", throwing, empty],
    1,
    /^wasm-bpf: --host-imports .*throwing_imports\.ts: no device here\n$/,
  ],
  [
    "--host-imports module without functions",
    ["--host-imports", notFunctions, empty],
    1,
    /^wasm-bpf: --host-imports .*: export "env" must be an object of functions\n$/,
  ],
];

for (const [what, args, code, message] of cases) {
  Deno.test(`cli: ${what} → status ${code} and a clear message`, async () => {
    const r = await runCli(args);
    assert.equal(r.code, code, describeRun(r));
    assert.match(r.stderr, message, describeRun(r));
    assertClean(r.stderr);
  });
}

Deno.test("cli: --help has an EXAMPLES block, --version names libbpf", async () => {
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^EXAMPLES:/m);
  const version = await runCli(["-V"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^wasm-bpf \d+\.\d+\.\d+ \(libbpf \d+\.\d+/);
});

Deno.test("cli: not root → one line saying so, status 1", async () => {
  // Run the CLI as nobody: it must refuse before touching the kernel, in one line.
  const deno = Deno.execPath();
  const mod = new URL("../mod.ts", import.meta.url).pathname;
  const wasm = new URL("../examples/runqlat/runqlat.wasm", import.meta.url).pathname;
  if (Deno.uid() !== 0) {
    const out = await new Deno.Command(deno, { args: ["run", "-A", mod, wasm], stderr: "piped" })
      .output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.match(stderr, /needs root/);
    return;
  }
  const out = await new Deno.Command("setpriv", {
    args: [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "--inh-caps=-all",
      deno,
      "run",
      "-A",
      mod,
      wasm,
    ],
    env: { DENO_DIR: `${tmp}/deno-dir`, HOME: tmp, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.match(stderr, /needs root \(or CAP_BPF and CAP_PERFMON\)/);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
});

Deno.test("cli: a full stdout or log file is one clear line, not a stack", async () => {
  // stdout on /dev/full: writes fail with ENOSPC
  const toFull = ["sh", "-c", 'exec "$@" >/dev/full', "sh"];
  for (const flag of ["--help", "--version"]) {
    const r = await runCli([flag], { wrapper: toFull });
    assert.equal(r.code, 1, describeRun(r));
    assert.equal(r.stderr, "wasm-bpf: cannot write to stdout: ENOSPC (No space left on device)\n");
  }
  // A log file that fails while the guest runs: said once, then the log goes to stderr. (cli.ts
  // logs how it started under -v: a first record with no kernel needed.)
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", "-v", "--log-file", "/dev/full", guest("api/exitcode.wasm")],
    cwd: new URL("../", import.meta.url),
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.match(stdout, /ending with return0/);
  assert.match(
    stderr,
    /^wasm-bpf: --log-file \/dev\/full: cannot write: ENOSPC \(No space left on device\); logging to stderr\nwasm-bpf: started from /,
  );
  assertClean(stderr);
});
