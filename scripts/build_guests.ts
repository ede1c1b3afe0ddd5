// Rebuild the wasm-bpf guests of this repository: `deno task examples [--check|--objects] [dir...]`.
//
// For every directory under examples/ and tests/guests/ (or only the dirs given):
//  - each NAME.bpf.c -> NAME.bpf.o (clang -target bpf, DWARF stripped, BTF kept), then, when
//    a source of the directory includes them (or, for a bytes header, when one exists):
//    - NAME.skel.h: the guest skeleton (scripts/skel.ts), with the shared types named by a
//      `// skel: --types T...` comment in the first lines of NAME.bpf.c;
//    - NAME.bpf.bytes.h: the object as a C byte array `NAME_bpf_o[]` with its size
//      `NAME_bpf_o_len` (the names `xxd -i NAME.bpf.o` gives), `NAME_BPF_DATA_SZ`, the file
//      offsets of .rodata/.bss (`NAME_BPF_RODATA_OFFSET`, `NAME_BPF_BSS_OFFSET`, 0 when
//      absent) and the .rodata offsets of its global variables (`NAME_BPF_RODATA_OFF_<var>`);
//  - each other *.c -> *.wasm (clang --target=wasm32-wasi, -Wl,--export-table), with
//    extra flags from a `// build: <flags>` comment in the first lines of the file
//    (`// build-no-table` drops --export-table; `// build-skip` skips the file: e.g. a
//    native program that a test compiles itself).
//  - each Rust guest NAME.rs (a .rs with `fn main`, not a *_skel.rs) -> NAME.wasm, built by a
//    rustc that has the wasm32-wasi target (scripts/rust_toolchain.ts) with no crates. Its
//    first lines may say `// bpf: PATH.bpf.c` (a BPF source, usually another example's: it
//    is compiled in its own directory, so the object is the same) and `// skel: --types T...`;
//    then NAME_skel.rs is generated from that object (scripts/skel/rust.ts).
// `--check` builds into a temporary directory and fails if a committed .skel.h,
// .bpf.bytes.h or .wasm differs from the fresh build (the tree is left untouched). The guests
// are compiled against the committed headers, which is sound because each header is itself
// compared with its fresh build.
//
// Builds are reproducible: the compilers run inside the guest directory with relative
// paths and prefix maps and pinned flags, so neither the checkout path nor the time ends up
// in an output.

import { parseElf, SkelError, STT_OBJECT } from "./skel/elf.ts";
import { generateSkeleton } from "./skel/skeleton.ts";
import { generateRustSkeleton } from "./skel/rust.ts";
import { findRustc, rustFlags } from "./rust_toolchain.ts";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const GUEST_ROOTS = ["examples", "tests/guests"];
const APT_HINT = "sudo apt-get install clang lld wasi-libc libclang-rt-dev-wasm32 libbpf-dev llvm";

interface Toolchain {
  clang: string; // for -target bpf
  wasmClang: string; // for wasm32-wasi
  wasmSysroot: string[]; // extra flags (WASI SDK sysroot)
  strip: string;
}

class BuildError extends Error {}

// Compiler flags, pinned so that rebuilds give the same bytes (with Debian 12's clang 14 and
// wasi-libc, or a WASI SDK): language standard, BPF ISA version and optimisation level are
// explicit rather than compiler defaults.
const BPF_FLAGS = [
  "-target",
  "bpf",
  "-mcpu=v1",
  "-std=gnu11",
  "-O2",
  "-g",
  "-D__TARGET_ARCH_x86",
  "-Wall",
];
const WASM_FLAGS = ["--target=wasm32-wasi", "-std=gnu17", "-O2"];

function which(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    if (!dir) continue;
    const p = `${dir}/${name}`;
    try {
      const st = Deno.statSync(p);
      if (st.isFile && st.mode !== null && (st.mode & 0o111) !== 0) return p;
    } catch {
      // not here
    }
  }
  return null;
}

function findTool(names: string[], what: string): string {
  for (const n of names) {
    if (n.includes("/")) {
      try {
        Deno.statSync(n);
        return n;
      } catch {
        continue;
      }
    }
    const p = which(n);
    if (p) return p;
  }
  throw new BuildError(`${what} not found (looked for ${names.join(", ")}).\nInstall: ${APT_HINT}`);
}

function toolchain(): Toolchain {
  const clang = findTool(["clang", "clang-14", "clang-15", "clang-16", "clang-17"], "clang");
  const strip = findTool(
    ["llvm-strip", "llvm-strip-14", "llvm-strip-15", "llvm-strip-16", "llvm-strip-17"],
    "llvm-strip",
  );
  const sdk = Deno.env.get("WASI_SDK_PATH");
  if (sdk) {
    const wasmClang = `${sdk}/bin/clang`;
    try {
      Deno.statSync(wasmClang);
    } catch {
      throw new BuildError(`WASI_SDK_PATH is set but ${wasmClang} does not exist`);
    }
    return { clang, wasmClang, wasmSysroot: [`--sysroot=${sdk}/share/wasi-sysroot`], strip };
  }
  return { clang, wasmClang: clang, wasmSysroot: [], strip };
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    throw new BuildError(`cannot run ${cmd}: ${e instanceof Error ? e.message : e}\n${APT_HINT}`);
  }
  if (!out.success) {
    const td = new TextDecoder();
    const msg = td.decode(out.stderr) + td.decode(out.stdout);
    const missing = /wasm-ld|unable to execute|file not found|cannot find|No such file/i.test(msg);
    throw new BuildError(
      `${cmd} ${args.join(" ")} (in ${cwd}) failed:\n${msg}` +
        (missing ? `\n(a tool, header or library seems missing; install: ${APT_HINT})` : ""),
    );
  }
}

function relPath(from: string, to: string): string {
  const a = from.split("/").filter(Boolean);
  const b = to.split("/").filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const up = a.slice(i).map(() => "..");
  return [...up, ...b.slice(i)].join("/") || ".";
}

// ---------------------------------------------------------------------------------------
// What the bytes headers record about an object (section and symbol tables: scripts/skel/elf.ts).

interface ElfInfo {
  rodataOffset: number; // file offset, 0 when absent
  rodataSize: number;
  bssOffset: number; // file offset, 0 when absent (NOBITS: nothing to patch)
  bssSize: number;
  rodataVars: { name: string; offset: number; size: number }[];
}

function elfInfo(buf: Uint8Array, file: string): ElfInfo {
  let elf;
  try {
    elf = parseElf(buf, file);
  } catch (e) {
    if (e instanceof SkelError) throw new BuildError(e.message);
    throw e;
  }
  const rodata = elf.section(".rodata");
  const bss = elf.section(".bss");
  const rodataVars = rodata
    ? elf.symbols
      .filter((y) => y.shndx === rodata.index && y.type === STT_OBJECT)
      .map((y) => ({ name: y.name, offset: y.value, size: y.size }))
      .sort((a, b) => a.offset - b.offset || a.name.localeCompare(b.name))
    : [];
  return {
    rodataOffset: rodata?.offset ?? 0,
    rodataSize: rodata?.size ?? 0,
    bssOffset: bss?.offset ?? 0,
    bssSize: bss?.size ?? 0,
    rodataVars,
  };
}

function bytesHeader(base: string, obj: Uint8Array, info: ElfInfo): string {
  const id = `${base}_bpf`.replace(/[^A-Za-z0-9_]/g, "_");
  const ID = id.toUpperCase();
  const lines: string[] = [];
  lines.push(`/* ${base}.bpf.bytes.h: generated by scripts/build_guests.ts from ${base}.bpf.c.`);
  lines.push(` * Do not edit: run \`deno task examples\`. */`);
  lines.push(`#ifndef __${ID}_BYTES_H`);
  lines.push(`#define __${ID}_BYTES_H`);
  lines.push("");
  lines.push(`/* Size of the embedded BPF ELF object. */`);
  lines.push(`#define ${ID}_DATA_SZ ${obj.length}`);
  lines.push(`/* File offsets of .rodata and .bss in it (0: no such section). */`);
  lines.push(`#define ${ID}_RODATA_OFFSET ${info.rodataOffset}`);
  lines.push(`#define ${ID}_RODATA_SIZE ${info.rodataSize}`);
  lines.push(`#define ${ID}_BSS_OFFSET ${info.bssOffset}`);
  lines.push(`#define ${ID}_BSS_SIZE ${info.bssSize}`);
  if (info.rodataVars.length) {
    lines.push(`/* Offsets of the .rodata variables inside .rodata. */`);
    for (const v of info.rodataVars) {
      const n = v.name.replace(/[^A-Za-z0-9_]/g, "_");
      lines.push(`#define ${ID}_RODATA_OFF_${n} ${v.offset}`);
    }
  }
  lines.push("");
  lines.push(`/* The object, named as \`xxd -i ${base}.bpf.o\` names it.  Not const: the skeleton`);
  lines.push(` * patches .rodata in place before load. */`);
  lines.push(
    `__attribute__((unused, aligned(8))) static unsigned char ${id}_o[${obj.length}] = {`,
  );
  for (let i = 0; i < obj.length; i += 16) {
    const row = Array.from(obj.subarray(i, i + 16), (b) => `0x${b.toString(16).padStart(2, "0")}`);
    lines.push(`    ${row.join(", ")},`);
  }
  lines.push(`};`);
  lines.push(`__attribute__((unused)) static const unsigned int ${id}_o_len = ${obj.length};`);
  lines.push("");
  lines.push(`#endif /* __${ID}_BYTES_H */`);
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------

async function buildFlags(
  src: string,
): Promise<{ extra: string[]; table: boolean; skip: boolean }> {
  const text = await Deno.readTextFile(src);
  const extra: string[] = [];
  let table = true;
  let skip = false;
  for (const line of text.split("\n").slice(0, 10)) {
    const t = line.trim();
    if (/^\/\/\s*build-skip\b/.test(t)) {
      skip = true;
      continue;
    }
    let m = t.match(/^\/\/\s*build-no-table\b/);
    if (m) {
      table = false;
      continue;
    }
    m = t.match(/^\/\/\s*build:\s*(.*)$/);
    if (m) extra.push(...m[1].split(/\s+/).filter(Boolean));
  }
  return { extra, table, skip };
}

// `// skel: --types NAME...` in the first lines of a .bpf.c: types its skeleton defines.
function skelTypes(text: string): string[] {
  const types: string[] = [];
  for (const line of text.split("\n").slice(0, 10)) {
    const m = line.trim().match(/^\/\/\s*skel:\s*--types\s+(.*)$/);
    if (m) types.push(...m[1].split(/[\s,]+/).filter(Boolean));
  }
  return types;
}

interface Artefact {
  rel: string; // path relative to the repo of the committed output
  built: string; // absolute path where it was built
}

// A BPF object from `file` in `dir`, DWARF stripped (BTF kept). The paths the object records
// depend only on the file name, so the same source gives the same bytes from any caller.
async function compileBpf(tc: Toolchain, dir: string, file: string, obj: string): Promise<void> {
  await run(tc.clang, [
    ...BPF_FLAGS,
    "-I/usr/include/x86_64-linux-gnu",
    "-I.",
    `-I${relPath(dir, `${REPO}/wasm-include`)}`,
    `-ffile-prefix-map=${dir}=.`,
    `-ffile-prefix-map=${REPO}=/wasm-bpf`,
    "-c",
    file,
    "-o",
    obj,
  ], dir);
  await run(tc.strip, ["-g", obj], dir);
}

// Build one guest directory. Outputs go to outDir (the dir itself, or a temp mirror).
async function buildDir(
  tc: Toolchain,
  dir: string,
  outDir: string,
  objectsOnly = false,
): Promise<Artefact[]> {
  const arts: Artefact[] = [];
  const entries = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
  const incRel = relPath(dir, `${REPO}/wasm-include`);
  const prefixMaps = [`-ffile-prefix-map=${dir}=.`, `-ffile-prefix-map=${REPO}=/wasm-bpf`];
  const relDir = relPath(REPO, dir);

  // Which generated headers the sources of this directory include.
  const sources = entries.filter((n) =>
    (n.endsWith(".c") || n.endsWith(".h")) && !n.endsWith(".skel.h") &&
    !n.endsWith(".bpf.bytes.h")
  );
  const sourceText = sources.map((n) => Deno.readTextFileSync(`${dir}/${n}`)).join("\n");
  const includes = (h: string) => sourceText.includes(`"${h}"`);

  // 1. BPF objects, and the bytes headers / skeletons that the sources include.
  for (const f of entries.filter((n) => n.endsWith(".bpf.c"))) {
    const base = f.slice(0, -".bpf.c".length);
    const obj = `${outDir}/${base}.bpf.o`;
    await compileBpf(tc, dir, f, obj);
    const bytes = await Deno.readFile(obj);
    const info = elfInfo(bytes, obj);
    console.log(
      `bpf   ${relDir}/${base}.bpf.o (${bytes.length} bytes, .rodata @${info.rodataOffset})`,
    );
    if (objectsOnly) continue;
    // a bytes header: when a source includes it, or when one is committed (others' tests
    // may read it)
    if (includes(`${base}.bpf.bytes.h`) || entries.includes(`${base}.bpf.bytes.h`)) {
      const hdr = `${outDir}/${base}.bpf.bytes.h`;
      await Deno.writeTextFile(hdr, bytesHeader(base, bytes, info));
      arts.push({ rel: `${relDir}/${base}.bpf.bytes.h`, built: hdr });
    }
    if (includes(`${base}.skel.h`)) {
      const skel = `${outDir}/${base}.skel.h`;
      const types = skelTypes(await Deno.readTextFile(`${dir}/${f}`));
      let text: string;
      try {
        text = generateSkeleton(bytes, { file: `${base}.bpf.o`, types });
      } catch (e) {
        if (e instanceof SkelError) throw new BuildError(e.message);
        throw e;
      }
      await Deno.writeTextFile(skel, text);
      console.log(
        `skel  ${relDir}/${base}.skel.h${types.length ? ` (--types ${types.join(" ")})` : ""}`,
      );
      arts.push({ rel: `${relDir}/${base}.skel.h`, built: skel });
    }
  }

  // 2. Wasm guests.
  if (objectsOnly) return arts;
  for (const f of entries.filter((n) => n.endsWith(".c") && !n.endsWith(".bpf.c"))) {
    const base = f.slice(0, -2);
    const out = `${outDir}/${base}.wasm`;
    const { extra, table, skip } = await buildFlags(`${dir}/${f}`);
    if (skip) continue;
    await run(tc.wasmClang, [
      ...WASM_FLAGS,
      ...tc.wasmSysroot,
      `-I${incRel}`,
      "-I.",
      ...prefixMaps,
      ...(table ? ["-Wl,--export-table"] : []),
      "-Wl,--strip-debug", // wasi-libc's archive carries DWARF; keep only the name section
      ...extra,
      "-o",
      out,
      f,
    ], dir);
    const size = (await Deno.stat(out)).size;
    console.log(`wasm  ${relDir}/${base}.wasm (${size} bytes)`);
    arts.push({ rel: `${relDir}/${base}.wasm`, built: out });
  }
  for (const f of entries.filter((n) => n.endsWith(".rs") && !n.endsWith("_skel.rs"))) {
    const text = await Deno.readTextFile(`${dir}/${f}`);
    if (!/^fn main\(/m.test(text)) continue; // a module of a guest, not a guest
    arts.push(...await buildRustGuest(tc, dir, f, text, outDir));
  }
  return arts;
}

// A Rust guest: its BPF object and skeleton (`// bpf:`, `// skel:` lines), then rustc.
async function buildRustGuest(
  tc: Toolchain,
  dir: string,
  file: string,
  text: string,
  outDir: string,
): Promise<Artefact[]> {
  const arts: Artefact[] = [];
  const base = file.slice(0, -".rs".length);
  const relDir = relPath(REPO, dir);
  const head = text.split("\n").slice(0, 10).map((l) => l.trim());
  const bpfSrc = head.map((l) => l.match(/^\/\/\s*bpf:\s*(\S+)$/)?.[1]).find(Boolean);
  if (bpfSrc) {
    const types = skelTypes(head.join("\n"));
    const src = new URL(`file://${dir}/${bpfSrc}`).pathname;
    const srcDir = src.slice(0, src.lastIndexOf("/"));
    const obj = `${outDir}/${base}.bpf.o`;
    await compileBpf(tc, srcDir, src.slice(srcDir.length + 1), obj);
    let skel: string;
    try {
      skel = generateRustSkeleton(await Deno.readFile(obj), {
        file: src.slice(srcDir.length + 1).replace(/\.c$/, ".o"),
        types,
      });
    } catch (e) {
      if (e instanceof SkelError) throw new BuildError(e.message);
      throw e;
    }
    const skelPath = `${outDir}/${base}_skel.rs`;
    await Deno.writeTextFile(skelPath, skel);
    console.log(
      `skel  ${relDir}/${base}_skel.rs (rust${types.length ? `, --types ${types.join(" ")}` : ""})`,
    );
    arts.push({ rel: `${relDir}/${base}_skel.rs`, built: skelPath });
  }
  const found = findRustc();
  if ("error" in found) throw new BuildError(`${relDir}/${file}: ${found.error}`);
  const out = `${outDir}/${base}.wasm`;
  await run(found.rustc, [...rustFlags(REPO), "-o", out, file], dir);
  const size = (await Deno.stat(out)).size;
  console.log(`wasm  ${relDir}/${base}.wasm (${size} bytes, rust)`);
  arts.push({ rel: `${relDir}/${base}.wasm`, built: out });
  return arts;
}

function guestDirs(args: string[]): string[] {
  if (args.length) {
    return args.map((a) => {
      const p = a.startsWith("/") ? a : `${Deno.cwd()}/${a}`;
      const norm = new URL(`file://${p}`).pathname.replace(/\/$/, "");
      if (!Deno.statSync(norm).isDirectory) throw new BuildError(`${a}: not a directory`);
      return norm;
    });
  }
  const dirs: string[] = [];
  for (const root of GUEST_ROOTS) {
    let ents: Deno.DirEntry[];
    try {
      ents = [...Deno.readDirSync(`${REPO}/${root}`)];
    } catch {
      continue;
    }
    for (const e of ents.filter((e) => e.isDirectory).sort((a, b) => a.name < b.name ? -1 : 1)) {
      const d = `${REPO}/${root}/${e.name}`;
      if ([...Deno.readDirSync(d)].some((x) => x.isFile && /\.(c|rs)$/.test(x.name))) dirs.push(d);
    }
  }
  return dirs;
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes("--check");
  // --objects: only the .bpf.o files, which are not committed (tests load some of them
  // directly); leaves every committed artefact alone.
  const objectsOnly = argv.includes("--objects");
  const args = argv.filter((a) => a !== "--check" && a !== "--objects");
  if (args.includes("-h") || args.includes("--help")) {
    console.log("usage: deno task examples [--check | --objects] [guest-dir...]");
    return 0;
  }
  const tc = toolchain();
  const dirs = guestDirs(args);
  if (!check) {
    for (const d of dirs) await buildDir(tc, d, d, objectsOnly);
    return 0;
  }
  const tmp = await Deno.makeTempDir({ prefix: "wasm-bpf-guests-" });
  let bad = 0;
  try {
    for (const d of dirs) {
      const out = `${tmp}/${relPath(REPO, d).replaceAll("/", "__")}`;
      await Deno.mkdir(out);
      for (const a of await buildDir(tc, d, out)) {
        const fresh = await Deno.readFile(a.built);
        let committed: Uint8Array | null = null;
        try {
          committed = await Deno.readFile(`${REPO}/${a.rel}`);
        } catch {
          committed = null;
        }
        if (!committed) {
          console.error(`MISSING ${a.rel}`);
          bad++;
        } else if (!equal(committed, fresh)) {
          console.error(`DIFFERS ${a.rel} (rebuild with \`deno task examples\`)`);
          bad++;
        }
      }
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  if (bad) {
    console.error(`check failed: ${bad} artefact(s) out of date`);
    return 1;
  }
  console.log("check ok: committed guests match a fresh build");
  return 0;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    if (e instanceof BuildError) {
      console.error(`error: ${e.message}`);
      Deno.exit(1);
    }
    throw e;
  }
}
