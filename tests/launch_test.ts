// cli.ts and scripts/bundle.ts: the CLI starts from its bundle only while every source
// the bundle was made from is unchanged, and from the sources otherwise.
import assert from "node:assert/strict";
import { BUNDLE_FILE, type BundleSource, checkBundle, SOURCES_FILE } from "../cli.ts";
import { bundle } from "../scripts/bundle.ts";

const root = new URL("../", import.meta.url);
const repo = decodeURIComponent(root.pathname);

function sourceOf(dir: string, path: string): BundleSource {
  const st = Deno.statSync(`${dir}/${path}`);
  return { path, size: st.size, mtimeMs: st.mtime!.getTime() };
}

Deno.test("launch: a bundle is used only while each listed source keeps its size and time", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const tree = new URL(`file://${dir}/`);
    const dist = new URL("dist/", tree);
    Deno.mkdirSync(`${dir}/dist`);
    Deno.mkdirSync(`${dir}/src`);
    Deno.writeTextFileSync(`${dir}/src/a.ts`, "export const a = 1;\n");
    Deno.writeTextFileSync(`${dir}/src/b.ts`, "export const b = 2;\n");
    const writeList = (sources: unknown) =>
      Deno.writeTextFileSync(`${dir}/dist/${SOURCES_FILE}`, JSON.stringify({ sources }));

    assert.deepEqual(checkBundle(tree, dist), { stale: `no bundle in ${dir}/dist/` });
    Deno.writeTextFileSync(`${dir}/dist/${BUNDLE_FILE}`, "export function main() {}\n");
    assert.deepEqual(checkBundle(tree, dist), { stale: `no bundle in ${dir}/dist/` });
    writeList([]);
    assert.deepEqual(checkBundle(tree, dist), { stale: `${SOURCES_FILE} lists no sources` });
    writeList("src/a.ts");
    assert.deepEqual(checkBundle(tree, dist), { stale: `${SOURCES_FILE} lists no sources` });

    writeList([sourceOf(dir, "src/a.ts"), sourceOf(dir, "src/b.ts")]);
    assert.deepEqual(checkBundle(tree, dist), { url: `file://${dir}/dist/${BUNDLE_FILE}` });

    // The same size, another time (an edit, a checkout).
    const b = sourceOf(dir, "src/b.ts");
    Deno.utimeSync(`${dir}/src/b.ts`, new Date(b.mtimeMs + 5000), new Date(b.mtimeMs + 5000));
    assert.deepEqual(checkBundle(tree, dist), { stale: "src/b.ts changed" });
    // The same time, another size.
    writeList([sourceOf(dir, "src/a.ts"), sourceOf(dir, "src/b.ts")]);
    const a = sourceOf(dir, "src/a.ts");
    Deno.writeTextFileSync(`${dir}/src/a.ts`, "export const a = 10;\n");
    Deno.utimeSync(`${dir}/src/a.ts`, new Date(a.mtimeMs), new Date(a.mtimeMs));
    assert.deepEqual(checkBundle(tree, dist), { stale: "src/a.ts changed" });
    Deno.removeSync(`${dir}/src/a.ts`);
    assert.deepEqual(checkBundle(tree, dist), { stale: "src/a.ts is gone" });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

async function launch(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", ...args],
    cwd: repo,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("launch: the CLI runs a guest from a fresh bundle, and from the sources once it is stale or broken", async () => {
  // dist/ is what setup.sh makes; it is made anew here, and again at the end.
  const made = await bundle(`${repo}dist`);
  assert.ok(made.sources > 50, `${made.sources} sources`);
  // Written beside and renamed into place: nothing partial is left.
  const names = [...Deno.readDirSync(`${repo}dist`)].map((e) => e.name).sort();
  assert.deepEqual(names, [BUNDLE_FILE, SOURCES_FILE].sort());
  const list = `${repo}dist/${SOURCES_FILE}`;
  try {
    const guest = ["-v", "examples/runqlat/runqlat.wasm", "-h"];
    const fresh = await launch(...guest);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stdout, /Summarize run queue \(scheduler\) latency/);
    assert.match(fresh.stderr, /wasm-bpf: started from the bundle .*dist\/wasm-bpf\.js\n/);

    // A source that changed since the bundle was made: listed with another time.
    const { sources } = JSON.parse(Deno.readTextFileSync(list)) as { sources: BundleSource[] };
    const usage = sources.find((s) => s.path === "src/cli/usage.ts");
    assert.ok(usage, "usage.ts is listed");
    usage.mtimeMs -= 1000;
    Deno.writeTextFileSync(list, JSON.stringify({ sources }));
    const stale = await launch(...guest);
    assert.equal(stale.code, 0, stale.stderr);
    assert.match(stale.stdout, /Summarize run queue \(scheduler\) latency/);
    assert.match(stale.stderr, /started from the sources \(src\/cli\/usage\.ts changed;/);

    // A bundle that does not load (say, half written) is passed over for the sources; the list
    // itself matches again.
    usage.mtimeMs += 1000;
    Deno.writeTextFileSync(list, JSON.stringify({ sources }));
    Deno.writeTextFileSync(`${repo}dist/${BUNDLE_FILE}`, "export function main( {\n");
    const broken = await launch(...guest);
    assert.equal(broken.code, 0, broken.stderr);
    assert.match(broken.stdout, /Summarize run queue \(scheduler\) latency/);
    assert.match(broken.stderr, /started from the sources \(the bundle did not load: /);

    // Without -v, neither start says a word.
    const quiet = await launch("--version");
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.match(quiet.stdout, /^wasm-bpf \d/);
    assert.equal(quiet.stderr, "");
  } finally {
    await bundle(`${repo}dist`);
  }
});
