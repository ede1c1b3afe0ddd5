// Running a real example from a registry: by tag, by digest, from the library in a child
// process; the module really loads its BPF programs (runqlat's histogram comes from them).
import assert from "node:assert/strict";
import { WasmBpfCommand } from "../mod.ts";
import { parseReference, pushModule } from "../src/oci/mod.ts";
import { describeRun, kernelTest, repoRoot, runCli } from "./helpers/kernel.ts";
import { registryMissing, startRegistry } from "./helpers/registry.ts";

const runqlat = Deno.readFileSync(repoRoot + "examples/runqlat/runqlat.wasm");
/** A histogram line, printed only after the BPF programs ran and filled the map. */
const HISTOGRAM = /usecs\s+: count\s+distribution\n\s+\d+ -> \d+\s+: \d+/;

const missing = registryMissing();
if (missing) {
  Deno.test({
    name: `oci kernel: runs by reference (skipped: needs ${missing})`,
    ignore: true,
    fn() {},
  });
} else {
  kernelTest("oci kernel: runqlat runs by tag, by digest, and through the library", async () => {
    await using reg = await startRegistry();
    const tag = `${reg.host}/examples/runqlat:latest`;
    const digest = await pushModule(runqlat, "runqlat.wasm", parseReference(tag)!, {});
    const r1 = await runCli(["--cache-dir", reg.cacheDir, tag, "1", "1"]);
    assert.equal(r1.code, 0, describeRun(r1));
    assert.match(r1.stdout, HISTOGRAM, describeRun(r1));
    const r2 = await runCli([
      "--cache-dir",
      reg.cacheDir,
      `${reg.host}/examples/runqlat@${digest}`,
      "1",
      "1",
    ]);
    assert.equal(r2.code, 0, describeRun(r2));
    assert.match(r2.stdout, HISTOGRAM, describeRun(r2));
    // The library, process isolation: the reference and the registry options cross to the child.
    const out = await new WasmBpfCommand(tag, {
      args: ["1", "1"],
      registry: { cacheDir: reg.cacheDir, pull: "never" },
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, HISTOGRAM);
  });
}
