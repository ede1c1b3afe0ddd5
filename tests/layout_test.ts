// The source layout is the architecture: each folder of src/ imports only from itself and
// the folders below it, in the order below (README.md, "Source map", states the same order).
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SRC = join(ROOT, "src");

/** The layers of src/, bottom first. "." is the leaf files at src/'s top (version.ts,
 * bytes.ts, module_limit.ts), which import nothing. A folder may import from itself and from
 * the folders before it; one in SELF_CONTAINED only from itself. */
const LAYERS = [
  ".",
  "ffi",
  "format",
  "wasi",
  "oci",
  "guest",
  "bpf",
  "run",
  "options",
  "api",
  "cli",
] as const;
const SELF_CONTAINED: ReadonlySet<string> = new Set([".", "ffi", "format", "wasi"]);

/** References that are not imports: process isolation runs the CLI (cli.ts, or mod.ts compiled)
 * as the program of a new process; nothing of it is loaded into the parent. */
const NOT_IMPORTS: ReadonlySet<string> = new Set([
  "src/api/process_child.ts -> mod.ts",
  "src/api/process_child.ts -> cli.ts",
]);

/** Every relative module specifier in `source`: static imports and re-exports, side-effect
 * imports, dynamic `import("...")` and `new URL("...", import.meta.url)`. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\bfrom\s*["'](\.{1,2}\/[^"']+)["']/g,
    /\bimport\s*["'](\.{1,2}\/[^"']+)["']/g,
    /\bimport\s*\(\s*["'](\.{1,2}\/[^"']+)["']/g,
    /\bnew URL\(\s*["'](\.{1,2}\/[^"']+)["']\s*,\s*import\.meta\.url/g,
  ];
  for (const pattern of patterns) {
    for (const m of source.matchAll(pattern)) found.push(m[1]);
  }
  return found;
}

/** The layer of a path under src/: its first folder, or "." for a file at src/'s top. */
function layerOf(path: string): string {
  const parts = relative(SRC, path).split("/");
  return parts.length === 1 ? "." : parts[0];
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** Each import of a src/ file that runs upward, sideways or out of its folder. */
function violations(): string[] {
  const rank = new Map<string, number>(LAYERS.map((layer, i) => [layer, i]));
  const found: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = layerOf(file);
    const name = relative(ROOT, file);
    if (!rank.has(from)) {
      found.push(`${name}: folder src/${from}/ is not a declared layer`);
      continue;
    }
    for (const spec of specifiers(Deno.readTextFileSync(file))) {
      const target = normalize(join(dirname(file), spec));
      const into = relative(ROOT, target);
      if (NOT_IMPORTS.has(`${name} -> ${into}`)) continue;
      if (!target.startsWith(SRC + "/")) {
        found.push(`${name} imports ${spec}: outside src/`);
        continue;
      }
      const to = layerOf(target);
      if (to === from) continue;
      if (SELF_CONTAINED.has(from)) {
        found.push(`${name} imports ${into}: src/${from}/ imports nothing outside itself`);
      } else if (!rank.has(to)) {
        found.push(`${name} imports ${into}: src/${to}/ is not a declared layer`);
      } else if (rank.get(to)! > rank.get(from)!) {
        found.push(`${name} imports ${into}: ${from} may not import from ${to} (a layer above)`);
      }
    }
  }
  return found;
}

Deno.test("layout: no src/ import runs upward or leaves a self-contained folder", () => {
  assert.deepEqual(violations(), []);
});

Deno.test("layout: every folder of src/ is a declared layer, and each layer exists", () => {
  const folders = [...Deno.readDirSync(SRC)].filter((e) => e.isDirectory).map((e) => e.name);
  assert.deepEqual(folders.sort(), LAYERS.filter((l) => l !== ".").sort());
});

Deno.test("layout: the README's source map lists the layers in the same order", () => {
  const readme = Deno.readTextFileSync(join(ROOT, "README.md"));
  const start = readme.indexOf("## Source map");
  assert.ok(start >= 0, "README.md has no Source map section");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  // The map's list items name a folder first: "- `src/ffi/`: ...", top layer first.
  const listed = [...section.matchAll(/^- `src\/(\w+)\/`/gm)].map((m) => m[1]);
  assert.deepEqual(listed, LAYERS.filter((l) => l !== ".").reverse());
});

Deno.test("layout: the check sees imports of every form", () => {
  const source = [
    `import { a } from "../x/a.ts";`,
    `export type { B } from "./b.ts";`,
    `import "../c.ts";`,
    `const d = await import("../d/d.ts");`,
    `const e = new URL("../e/e.wasm", import.meta.url);`,
    `import { f } from "node:fs";`,
  ].join("\n");
  assert.deepEqual(specifiers(source).sort(), [
    "../c.ts",
    "../d/d.ts",
    "../e/e.wasm",
    "../x/a.ts",
    "./b.ts",
  ]);
});
