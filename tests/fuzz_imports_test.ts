// The wasm_bpf import layer under random and edge-case arguments against real loaded objects
// (scripts/fuzz.ts, run in a subprocess so that a crash is reported, not fatal to the runner;
// `deno task fuzz` runs the long version). The seed is printed; reproduce a failure with
// `deno task fuzz --seed <seed> --calls <calls>` or WASM_BPF_FUZZ_SEED=<seed> deno task test.
import assert from "node:assert/strict";
import { kernelTest, repoRoot } from "./helpers/kernel.ts";

const envSeed = Deno.env.get("WASM_BPF_FUZZ_SEED");
const seed = envSeed ? Number(envSeed) : crypto.getRandomValues(new Uint32Array(1))[0];

async function fuzz(args: string[]): Promise<{ code: number; signal: string | null; out: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${repoRoot}scripts/fuzz.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, signal: o.signal, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

for (
  const [what, calls, extra] of [
    ["no policy", 100_000, []],
    ["a restrictive policy", 20_000, ["--restrictive"]],
  ] as const
) {
  kernelTest(`fuzz: ${calls} import calls, ${what}: errnos only, no crash, no leak`, async () => {
    const s = extra.length ? seed + 1 : seed;
    console.log(`fuzz seed ${s} (reproduce: deno task fuzz --seed ${s} --calls ${calls} ${extra})`);
    const r = await fuzz(["--seed", String(s), "--calls", String(calls), ...extra]);
    console.log(r.out.trim());
    assert.equal(r.signal, null, `the fuzzer died of a signal:\n${r.out}`);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`^seed ${s}: ${calls} calls`, "m"));
    assert.match(r.out, /^PASS$/m);
    const zero = Number(r.out.match(/results: (\d+) zero/)?.[1]);
    assert.ok(zero > calls / 100, `too few successful calls (${zero}): not reaching libbpf`);
  });
}
