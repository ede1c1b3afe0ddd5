/**
 * The CLI's entry for `deno task run`. It starts from `dist/wasm-bpf.js`, the CLI bundled into
 * one module by `deno task bundle` (`scripts/setup.sh` runs it), while every source the bundle
 * was made from is unchanged, and from the sources otherwise.
 *
 * The bundle saves about 20 ms of start-up: Deno resolves, reads and caches each of the CLI's ~90
 * source modules, and only one bundled module. A stale bundle must never run, so its list of
 * sources (path, size, modification time) is checked first: about 100 `stat`s, 1-3 ms.
 * This module imports nothing, so that the fast path loads two modules in all.
 *
 * @module
 */

/** The bundle's file name in its directory. */
export const BUNDLE_FILE = "wasm-bpf.js";
/** The list of the sources a bundle was made from, beside it. */
export const SOURCES_FILE = "wasm-bpf.sources.json";

/** One source of a bundle as it was when the bundle was made; `path` is relative to the root. */
export interface BundleSource {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Where the CLI starts from: the bundle's URL, or why the bundle cannot be used. */
export type BundleCheck = { url: string } | { stale: string };

/** Checks the bundle in `dir` against the sources under `root` (both directory URLs). */
export function checkBundle(root: URL, dir: URL): BundleCheck {
  const bundle = new URL(BUNDLE_FILE, dir);
  let sources: unknown;
  try {
    Deno.statSync(bundle);
    sources = JSON.parse(Deno.readTextFileSync(new URL(SOURCES_FILE, dir))).sources;
  } catch {
    return { stale: `no bundle in ${decodeURIComponent(dir.pathname)}` };
  }
  if (!Array.isArray(sources) || sources.length === 0) {
    return { stale: `${SOURCES_FILE} lists no sources` };
  }
  for (const source of sources as BundleSource[]) {
    let stat: Deno.FileInfo;
    try {
      stat = Deno.statSync(decodeURIComponent(root.pathname) + source.path);
    } catch {
      return { stale: `${source.path} is gone` };
    }
    if (stat.size !== source.size || stat.mtime?.getTime() !== source.mtimeMs) {
      return { stale: `${source.path} changed` };
    }
  }
  return { url: bundle.href };
}

type Main = (argv: string[], startedFrom?: string) => Promise<number>;

/** The CLI's `main` from the bundle, or why not (a bundle that does not load, say one being
 * rewritten, is passed over as a stale one is). */
async function fromBundle(check: BundleCheck): Promise<{ main: Main } | { stale: string }> {
  if (!("url" in check)) return check;
  try {
    const { main } = await import(check.url);
    if (typeof main === "function") return { main };
    return { stale: "the bundle exports no main" };
  } catch (e) {
    return { stale: `the bundle did not load: ${e instanceof Error ? e.message : e}` };
  }
}

async function launch(argv: string[]): Promise<number> {
  const root = new URL("./", import.meta.url);
  const dist = new URL("dist/", root);
  const bundled = await fromBundle(checkBundle(root, dist));
  if ("main" in bundled) {
    const path = decodeURIComponent(new URL(BUNDLE_FILE, dist).pathname);
    return await bundled.main(argv, `started from the bundle ${path}`);
  }
  // Not `import("./src/cli/main.ts")`: Deno loads a literal specifier's whole graph at start-up,
  // before any code runs, which is the very cost the bundle avoids.
  const sources = new URL("./src/cli/main.ts", import.meta.url).href;
  const { main } = await import(sources) as { main: Main };
  return await main(
    argv,
    `started from the sources (${bundled.stale}; deno task bundle makes a bundle, ~20 ms faster)`,
  );
}

if (import.meta.main) Deno.exit(await launch(Deno.args));
