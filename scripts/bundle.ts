/**
 * Bundles the CLI into one module, `dist/wasm-bpf.js`, for `cli.ts` to start from.
 *
 * Loading the CLI's ~90 source modules costs Deno about 20 ms of start-up (resolving, reading
 * and caching each one); one bundled module costs about 5. Beside the bundle goes a list of the
 * sources it was made from, with their sizes and modification times: the launcher uses the bundle
 * only while every source still matches, and starts from the sources otherwise.
 *
 * `deno bundle` runs esbuild, which Deno fetches from npm on first use.
 *
 * Usage: deno task bundle [--out-dir DIR]
 */

import { parseArgs } from "node:util";
import { BUNDLE_FILE, type BundleSource, SOURCES_FILE } from "../cli.ts";

/** The bundle's entry: it exports `main`, which the launcher calls. */
const ENTRY = "src/cli/main.ts";
/** Files outside the module graph that change what the bundle contains. */
const CONFIG = ["deno.json"];

const root = decodeURIComponent(new URL("..", import.meta.url).pathname);

/** The local files of the entry's module graph, static and literal dynamic imports alike. */
async function graphFiles(): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", ENTRY],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`deno info failed: ${new TextDecoder().decode(out.stderr)}`);
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  const files = info.modules
    .map((m) => m.specifier)
    .filter((s) => s.startsWith("file://"))
    .map((s) => decodeURIComponent(new URL(s).pathname));
  for (const file of files) {
    if (!file.startsWith(root)) throw new Error(`${file}: outside the repository`);
  }
  return files.map((f) => f.slice(root.length));
}

function sourceOf(relative: string): BundleSource {
  const st = Deno.statSync(root + relative);
  return { path: relative, size: st.size, mtimeMs: st.mtime?.getTime() ?? 0 };
}

export async function bundle(outDir: string): Promise<{ bundle: string; sources: number }> {
  // The sources are listed before bundling: an edit made meanwhile then makes the list stale,
  // never the bundle silently older than its list.
  const sources = [...CONFIG, ...await graphFiles()].map(sourceOf);
  await Deno.mkdir(outDir, { recursive: true });
  const bundlePath = `${outDir}/${BUNDLE_FILE}`;
  // Each file is written beside its place and renamed into it, the bundle first: a launcher
  // starting meanwhile sees the old pair, or the new bundle with the old list (stale if the
  // sources changed), never a half-written file or a new list over an old bundle.
  const partial = `${bundlePath}.${Deno.pid}.partial`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "--output", partial, ENTRY],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    await Deno.remove(partial).catch(() => {});
    throw new Error(`deno bundle failed:\n${new TextDecoder().decode(out.stderr).trimEnd()}`);
  }
  Deno.renameSync(partial, bundlePath);
  const listPath = `${outDir}/${SOURCES_FILE}`;
  Deno.writeTextFileSync(
    `${listPath}.${Deno.pid}.partial`,
    JSON.stringify({ sources }, null, 1) + "\n",
  );
  Deno.renameSync(`${listPath}.${Deno.pid}.partial`, listPath);
  return { bundle: bundlePath, sources: sources.length };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "out-dir": { type: "string", default: `${root}dist` },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log("usage: deno task bundle [--out-dir DIR]   (default: dist/)");
    return 0;
  }
  try {
    const r = await bundle(values["out-dir"]!);
    console.error(`bundle: wrote ${r.bundle} from ${r.sources} sources`);
    return 0;
  } catch (e) {
    console.error(`bundle: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
