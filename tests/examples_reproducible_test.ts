// CI gate: every committed guest build output (examples/ and tests/guests/: .skel.h,
// .bpf.bytes.h, .wasm, and the Rust guests' _skel.rs and .wasm) must be exactly what `deno task examples` builds from the sources.
// Runs the build script's --check mode, which builds into a temporary directory.
import assert from "node:assert/strict";

const repo = new URL("../", import.meta.url).pathname;

function hasToolchain(): boolean {
  try {
    return new Deno.Command("clang", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "committed guests (examples/, tests/guests/) are what the build script produces",
  ignore: !hasToolchain() && Deno.env.get("WASM_BPF_REQUIRE_KERNEL") !== "1",
  fn: async () => {
    const o = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${repo}scripts/build_guests.ts`, "--check"],
      cwd: repo,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
    assert.equal(o.code, 0, `deno task examples --check failed:\n${out}`);
    assert.match(out, /check ok/);
    // every example directory was covered
    for (const e of Deno.readDirSync(`${repo}examples`)) {
      if (e.isDirectory) assert.match(out, new RegExp(`examples/${e.name}/`), out);
    }
    // the Rust guests too: their skeletons and modules (a missing rustc fails the build)
    for (const rel of ["examples/rust_bootstrap/bootstrap", "examples/rust_runqlat/runqlat"]) {
      assert.ok(out.includes(`skel  ${rel}_skel.rs (rust`), out);
      assert.match(out, new RegExp(`wasm  ${rel}\\.wasm \\(\\d+ bytes, rust\\)`), out);
    }
  },
});
