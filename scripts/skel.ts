// Generate the wasm-bpf guest skeleton of a BPF object: `deno task skel foo.bpf.o > foo.skel.h`,
// or for Rust guests `deno task skel --lang rust foo.bpf.o > foo_skel.rs`.
//
// It reads the object itself (ELF sections and symbols, BTF types and datasecs): no bpftool
// needed. See scripts/skel/skeleton.ts for what the skeleton contains, and docs/abi.md §5.

import { parseArgs } from "node:util";
import { generateSkeleton, generateTypesHeader, SkelError } from "./skel/skeleton.ts";
import { generateRustSkeleton } from "./skel/rust.ts";

const USAGE = `usage: deno task skel [--name NAME] [--types TYPE...] [-o OUT] OBJECT.bpf.o

Writes the wasm-bpf guest skeleton of a BPF object (compiled with -g: BTF needed) to stdout
or OUT.

  --lang c|rust    the skeleton's language (default c). rust: a module using
                   wasm-include/libbpf_wasm.rs, with #[repr(C, packed)] types and
                   const assertions of every size and offset (examples/README.md)
  --name NAME      object name (default: from the file name, foo.bpf.o -> foo_bpf)
  --types TYPE...  also define these shared structs/unions/enums/typedefs, laid out exactly
                   as the BPF side sees them (packed, explicit padding, pointers as
                   uint64_t, size asserted); nested named types are defined too.
                   Repeatable, or several names after one --types.
  --types-only     write only those type definitions (a self-contained header)
  -o, --output F   write to F instead of stdout
  -h, --help       this help`;

export async function main(argv: string[]): Promise<number> {
  // `--types a b c obj.o`: the names after --types run up to the next option; the last
  // positional that names an existing file (or ends in .o) is the object.
  const types: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--types" || a.startsWith("--types=")) {
      const list: string[] = a.startsWith("--types=") ? [a.slice(8)] : [];
      while (i + 1 < argv.length && !argv[i + 1].startsWith("-")) list.push(argv[++i]);
      types.push(...list.flatMap((s) => s.split(",")).filter(Boolean));
      continue;
    }
    rest.push(a);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        name: { type: "string" },
        lang: { type: "string", default: "c" },
        "types-only": { type: "boolean" },
        output: { type: "string", short: "o" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
  } catch (e) {
    console.error(`skel: ${e instanceof Error ? e.message : e}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  // with `--types a b obj.o`, the object was swallowed by the list: take it back
  const positionals = [...parsed.positionals];
  if (!positionals.length && types.length && /\.o$/.test(types[types.length - 1])) {
    positionals.push(types.pop()!);
  }
  if (positionals.length !== 1) {
    console.error(`skel: expected one BPF object file\n\n${USAGE}`);
    return 2;
  }
  const lang = parsed.values.lang;
  if (lang !== "c" && lang !== "rust") {
    console.error(`skel: --lang ${lang}: expected c or rust\n\n${USAGE}`);
    return 2;
  }
  if (lang === "rust" && parsed.values["types-only"]) {
    console.error(`skel: --types-only is for C headers (the Rust skeleton defines the types)`);
    return 2;
  }
  const file = positionals[0];
  // `deno task` runs in the repository root; relative paths are the caller's
  const cwd = Deno.env.get("INIT_CWD");
  const path = cwd && !file.startsWith("/") ? `${cwd}/${file}` : file;
  const output = parsed.values.output;
  const outPath = output && cwd && !output.startsWith("/") ? `${cwd}/${output}` : output;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    console.error(`skel: ${file}: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
  let text: string;
  try {
    const opts = { file, name: parsed.values.name, types };
    text = lang === "rust"
      ? generateRustSkeleton(bytes, opts)
      : parsed.values["types-only"]
      ? generateTypesHeader(bytes, opts)
      : generateSkeleton(bytes, opts);
  } catch (e) {
    if (e instanceof SkelError) {
      console.error(`skel: ${e.message}`);
      return 1;
    }
    throw e;
  }
  if (outPath) {
    await Deno.writeTextFile(outPath, text);
  } else {
    await Deno.stdout.write(new TextEncoder().encode(text));
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
