// A guest calling a failing import in a loop cannot flood stderr (or the library's logger)
// with host lines: each kind is rate-limited (src/guest/log_limit.ts), the first line of each
// kind is kept, and the end of the run counts what was not logged.
// Guest: tests/guests/policy/driver.wasm (`loadn:FILE:N` loads FILE N times).
import assert from "node:assert/strict";
import { type LogRecord, WasmBpfCommand } from "../mod.ts";
import { describeRun, guestsDir, kernelTest } from "./helpers/kernel.ts";
import { drive, driver } from "./helpers/driver.ts";

const LOADS = 100_000;
const FIRST = "wasm-bpf: wasm_load_bpf_object: not a valid BPF object (LIBBPF_ERRNO__FORMAT): " +
  "not an ELF file";

/** A directory holding bad.o, 200 bytes that are not an ELF file. */
function badObjectDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: "wasm-bpf-loglimit-" });
  Deno.writeFileSync(`${dir}/bad.o`, new Uint8Array(200).fill(0x78));
  return dir;
}

/** The driver's commands: the failing load in a loop, then a refusal of another kind. */
const COMMANDS = [
  `loadn:/t/bad.o:${LOADS}`,
  "load:/g/policy/tponly.bpf.o",
  "update:1:counts",
];

function checkStdout(stdout: string): void {
  const lines = stdout.trimEnd().split("\n");
  assert.equal(lines.length, LOADS + 2);
  assert.equal(lines.filter((l) => l === "load 0").length, LOADS);
  assert.deepEqual(lines.slice(LOADS), ["load 1", "update -1"]);
}

kernelTest("log limit: 100,000 failing loads give a bounded number of stderr lines", async () => {
  const dir = badObjectDir();
  try {
    const r = await drive(COMMANDS, {
      flags: ["--allow-map-write=false"],
      dirs: [`${dir}:/t`, `${guestsDir}:/g`],
      run: { timeoutMs: 120_000 },
    });
    assert.equal(r.code, 0, describeRun(r));
    checkStdout(r.stdout);
    const lines = r.stderr.trimEnd().split("\n");
    assert.ok(lines.length < 50, `${lines.length} lines:\n${r.stderr.slice(0, 4000)}`);
    assert.equal(lines[0], FIRST);
    assert.equal(lines.filter((l) => l === FIRST).length, 20);
    assert.ok(
      lines.includes("wasm-bpf: further wasm_load_bpf_object errors are not logged"),
      r.stderr,
    );
    // the flood did not hide the first line of another kind
    assert.ok(
      lines.includes('wasm-bpf: policy: refused update on map "counts": --allow-map-write=false'),
      r.stderr,
    );
    // and the end of the run counts what was dropped
    assert.equal(
      lines.at(-1),
      "wasm-bpf: 99,980 further wasm_load_bpf_object errors were not logged",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

for (const isolation of ["inline", "process"] as const) {
  kernelTest(`log limit (${isolation}): the library's logger gets the same few lines`, async () => {
    const dir = badObjectDir();
    try {
      const records: LogRecord[] = [];
      const out = await new WasmBpfCommand(driver, {
        isolation,
        args: COMMANDS,
        dirs: [{ hostPath: dir, guestPath: "/t" }, { hostPath: guestsDir, guestPath: "/g" }],
        policy: { allowMapWrite: false },
        logger: (r) => records.push(r),
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      checkStdout(new TextDecoder().decode(out.stdout));
      const host = records.filter((r) => r.source === "host").map((r) => r.message);
      assert.ok(host.length < 50, `${host.length} records`);
      assert.equal(host.filter((m) => `wasm-bpf: ${m}` === FIRST).length, 20);
      assert.ok(host.includes("further wasm_load_bpf_object errors are not logged"));
      assert.ok(host.includes('policy: refused update on map "counts": --allow-map-write=false'));
      assert.equal(host.at(-1), "99,980 further wasm_load_bpf_object errors were not logged");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}
