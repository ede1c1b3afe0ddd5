// The object fuzzer (scripts/fuzz_objects.ts) in CI: a fast check-only batch, and ~20 s of
// mutants that pass the check being opened and loaded by libbpf in a child, where a crash or a
// hang is a failure. Run in a subprocess, as `deno task fuzz --objects` does. The seed is
// printed; reproduce with `deno task fuzz --objects --seed <seed>` or
// WASM_BPF_FUZZ_SEED=<seed> deno task test.
import assert from "node:assert/strict";
import { kernelTest, repoRoot } from "./helpers/kernel.ts";

const envSeed = Deno.env.get("WASM_BPF_FUZZ_SEED");
const seed = envSeed ? Number(envSeed) : crypto.getRandomValues(new Uint32Array(1))[0];

async function fuzz(args: string[]): Promise<{ code: number; signal: string | null; out: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${repoRoot}scripts/fuzz.ts`, "--objects", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, signal: o.signal, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

function counts(out: string) {
  const n = (re: RegExp) => Number(out.match(re)?.[1]);
  return {
    mutants: n(/: (\d+) mutants in/),
    refused: n(/refused by the check (\d+)/),
    loaded: n(/libbpf: loaded (\d+)/),
  };
}

Deno.test("object fuzz, check only: 20,000 mutants, no internal error of the check", async () => {
  console.log(`seed ${seed} (reproduce: deno task fuzz --objects --check-only --seed ${seed})`);
  const r = await fuzz(["--check-only", "--seed", String(seed), "--count", "20000"]);
  console.log(r.out.trim());
  assert.equal(r.signal, null, r.out);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /internal errors 0\)/, r.out);
  assert.match(r.out, /^PASS$/m);
  const c = counts(r.out);
  assert.equal(c.mutants, 20000, r.out);
  // the mutations reach both sides of the check
  assert.ok(
    c.refused > 1000 && c.refused < 20000,
    `refused ${c.refused}: mutations too weak or too strong`,
  );
});

kernelTest(
  "object fuzz: 20 s of mutants loaded by libbpf in a child, no crash, no hang",
  async () => {
    const s = (seed + 7_000_000) >>> 0;
    console.log(`seed ${s} (reproduce: deno task fuzz --objects --seed ${s} --seconds 20)`);
    const r = await fuzz(["--seed", String(s), "--seconds", "20"]);
    console.log(r.out.trim());
    assert.equal(r.signal, null, r.out);
    assert.doesNotMatch(r.out, /CRASH|HANG/, r.out);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^PASS$/m);
    // mutants get past the check and are loaded for real
    assert.ok(counts(r.out).loaded > 50, `too few mutants loaded: not reaching libbpf\n${r.out}`);
  },
);
