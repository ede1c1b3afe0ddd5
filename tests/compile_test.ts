// scripts/compile.ts: its deno compile call, offline errors, and that every module is embedded.
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url).pathname;

async function compile(env: Record<string, string>, output: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/compile.ts", "--output", output],
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("compile: a DENORT_BIN that is no file is said plainly", async () => {
  const r = await compile({ DENORT_BIN: "/nonexistent/denort" }, "/tmp/never-written");
  assert.equal(r.code, 1, r.text);
  assert.match(r.text, /DENORT_BIN=\/nonexistent\/denort is not a file/);
});

Deno.test("compile: with a runtime at DENORT_BIN, the binary embeds the CLI and the API", async () => {
  // The deno CLI binary stands in for denort here (offline: no denort can be downloaded); it
  // yields a binary that acts as deno itself, but the build and its embedded files are real.
  const dir = await Deno.makeTempDir();
  try {
    const r = await compile({ DENORT_BIN: Deno.execPath() }, `${dir}/wasm-bpf`);
    assert.equal(r.code, 0, r.text);
    // Deno lists the embedded tree, folding big directories (src/bpf/*).
    for (const embedded of ["mod.ts", "inline_child.ts", "process_child.ts", "poll.ts"]) {
      assert.ok(r.text.includes(embedded), `${embedded} not embedded:\n${r.text}`);
    }
    assert.match(r.text, /cli\/\*|usage\.ts/);
    assert.match(r.text, /bpf\/\*|bpf_objects\.ts/);
    assert.match(r.text, /--allow-ffi --allow-read --allow-write --allow-env=LIBBPF_PATH/);
    assert.ok(Deno.statSync(`${dir}/wasm-bpf`).size > 10_000_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
