// The HOST[:GUEST] value of --dir/--attach-dir: one format, written by process isolation and
// read by the CLI, so a directory whose name holds ":" or "\" reaches the guest as itself.
import assert from "node:assert/strict";
import { WasmBpfCommand } from "../mod.ts";
import { formatDirSpec, parseDirSpec } from "../src/options/dir_spec.ts";
import { parseCli } from "../src/cli/usage.ts";

const probe = new URL("./guests/wasi/wasi_probe.wasm", import.meta.url).pathname;

const TRICKY = [
  "/tmp",
  "/data",
  "a:b",
  ":",
  "::",
  ":lead",
  "trail:",
  "\\",
  "\\\\",
  "trail\\",
  "a\\:b",
  "a\\\\:b",
  "\\:",
  ":\\",
  "a\\b",
  "/x:y/z\\:w\\\\",
  "spaces and\ttabs:\n",
  "é:ü\\ß",
];

Deno.test("dir spec: parse(format(host, guest)) gives back both, for tricky strings", () => {
  for (const host of TRICKY) {
    for (const guest of TRICKY) {
      const spec = formatDirSpec(host, guest);
      assert.deepEqual(parseDirSpec(spec), { hostPath: host, guestPath: guest }, spec);
    }
  }
});

Deno.test("dir spec: specs without \\: or \\\\ mean what they meant before", () => {
  assert.deepEqual(parseDirSpec("/tmp:/data"), { hostPath: "/tmp", guestPath: "/data" });
  assert.deepEqual(parseDirSpec("/var"), { hostPath: "/var", guestPath: "/var" });
  // only the first ":" separates
  assert.deepEqual(parseDirSpec("/a:/b:c"), { hostPath: "/a", guestPath: "/b:c" });
  // any other backslash is itself, a trailing one too
  assert.deepEqual(parseDirSpec("C\\x:/g\\"), { hostPath: "C\\x", guestPath: "/g\\" });
  assert.deepEqual(parseDirSpec("\\"), { hostPath: "\\", guestPath: "\\" });
});

Deno.test("dir spec: \\: is a colon, \\\\ a backslash", () => {
  assert.deepEqual(parseDirSpec("x\\:y:/data"), { hostPath: "x:y", guestPath: "/data" });
  assert.deepEqual(parseDirSpec("x\\:y"), { hostPath: "x:y", guestPath: "x:y" });
  assert.deepEqual(parseDirSpec("x\\\\:y"), { hostPath: "x\\", guestPath: "y" });
  assert.deepEqual(parseDirSpec("x\\\\\\:y"), { hostPath: "x\\:y", guestPath: "x\\:y" });
});

Deno.test("dir spec: an empty HOST or GUEST is refused, as before", () => {
  for (const spec of ["", ":", ":/data", "/tmp:", "\\\\:"]) {
    assert.equal(parseDirSpec(spec), null, spec);
  }
  assert.throws(() => parseCli(["--dir", "/tmp:", "x.wasm"]), /--dir takes HOST\[:GUEST\]/);
  assert.throws(() => parseCli(["--attach-dir=:/cg", "x.wasm"]), /--attach-dir takes HOST/);
});

Deno.test("dir spec: the CLI reads escaped --dir and --attach-dir", () => {
  const parsed = parseCli(["--dir", "/t/x\\:y:/data", "--attach-dir=/cg\\\\:/c\\:g", "m.wasm"]);
  assert.equal(parsed.kind, "run");
  if (parsed.kind !== "run") return;
  assert.deepEqual(parsed.options.preopens, [
    { hostPath: "/t/x:y", guestPath: "/data" },
    { hostPath: "/cg\\", guestPath: "/c:g", attachOnly: true },
  ]);
});

Deno.test("dir spec: process isolation grants a directory whose name holds ':'", async () => {
  const base = Deno.makeTempDirSync({ prefix: "wasm-bpf-dirspec-" });
  try {
    // `x:y` is the one granted; `x`, beside it, is what a split at the first ":" would grant.
    Deno.mkdirSync(`${base}/x:y`);
    Deno.writeTextFileSync(`${base}/x:y/hello.txt`, "from x:y\n");
    Deno.mkdirSync(`${base}/x`);
    Deno.writeTextFileSync(`${base}/x/hello.txt`, "from the decoy x\n");
    const out = await new WasmBpfCommand(probe, {
      isolation: "process",
      dirs: [{ hostPath: `${base}/x:y`, guestPath: "/sandbox" }],
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.match(stdout, /^hello\.txt \(\d+ bytes\): from x:y$/m, `${stdout}\n${stderr}`);
    assert.doesNotMatch(stdout, /decoy/);
    assert.match(stdout, /^out\.txt: written by guest$/m);
    assert.equal(Deno.readTextFileSync(`${base}/x:y/out.txt`), "written by guest\n");
  } finally {
    Deno.removeSync(base, { recursive: true });
  }
});
