// The skeleton generator (scripts/skel.ts) against clang: shared types with nested structs,
// arrays of structs, enums, unions, bitfields, pointers and `long` are compiled for the bpf
// target; the layout-exact definitions that the generator emits from the object's BTF are
// compiled again for bpf and for wasm32, and the bytes of the same initialised value must be
// identical in all three. Also: .rodata/.bss/.data skeleton structs, bad input, determinism.
import assert from "node:assert/strict";
import { generateSkeleton, generateTypesHeader } from "../scripts/skel/skeleton.ts";
import { parseElf } from "../scripts/skel/elf.ts";
import { compileFixture, INIT } from "./helpers/skel_fixture.ts";

const repo = new URL("../", import.meta.url).pathname;
const include = `${repo}wasm-include`;

function tool(names: string[]): string | null {
  for (const n of names) {
    try {
      const o = new Deno.Command(n, { args: ["--version"], stdout: "null", stderr: "null" })
        .outputSync();
      if (o.success) return n;
    } catch { /* not installed */ }
  }
  return null;
}
const clang = tool(["clang", "clang-14", "clang-15", "clang-16"]);
const ignore = clang === null; // the toolchain is part of the dev set-up (scripts/setup.sh)

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const o = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!o.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${new TextDecoder().decode(o.stderr)}`);
  }
}

const GEN_BPF_C = `#include "types.h"
#define P(v) (v)
struct outer sample = ${INIT};
`;

const GEN_WASM_C = `#include "types.h"
#define P(v) (v)
struct outer sample = ${INIT};
__attribute__((export_name("sample_addr"))) void *sample_addr(void) { return &sample; }
__attribute__((export_name("sample_size"))) int sample_size(void) { return sizeof(sample); }
`;

/** The bytes of symbol `name` in an object's data sections. */
function symbolBytes(obj: Uint8Array, name: string): Uint8Array {
  const elf = parseElf(obj, name);
  const sym = elf.symbols.find((s) => s.name === name);
  assert.ok(sym, `no symbol ${name}`);
  const sec = elf.sections[sym.shndx];
  return elf.contents(sec).slice(sym.value, sym.value + sym.size);
}

function setup(): Promise<{ dir: string; obj: Uint8Array }> {
  return compileFixture(clang!);
}

Deno.test({
  name: "skel --types: same bytes as clang's bpf layout, for bpf and for wasm32",
  ignore,
  fn: async () => {
    const { dir, obj } = await setup();
    try {
      const header = generateTypesHeader(obj, {
        file: "orig.bpf.o",
        types: ["outer", "tagged_t", "value"],
      });
      await Deno.writeTextFile(`${dir}/types.h`, header);
      // nested named types are defined too, each packed with its size pinned
      for (const t of ["struct point", "struct flags", "union value", "struct outer"]) {
        assert.match(header, new RegExp(`^${t} \\{`, "m"), header);
        assert.match(header, new RegExp(`_Static_assert\\(sizeof\\(${t}\\) == \\d+`), header);
      }
      assert.ok(header.includes("enum color {\n    RED = 1,\n    GREEN = 2,\n    BLUE = -3,\n};"));
      assert.match(header, /uint64_t ptr; \/\* pointer \*\//);
      assert.match(header, /int64_t y;/); // long
      assert.match(header, /char __pad\d+\[\d+\];/);
      assert.match(header, /typedef struct \{/);
      const expected = symbolBytes(obj, "sample");
      assert.ok(expected.length > 100);

      // bpf, through the generated header
      await Deno.writeTextFile(`${dir}/gen.bpf.c`, GEN_BPF_C);
      await run(clang!, [
        "-target",
        "bpf",
        "-ffreestanding", // clang's own <stdint.h>
        "-O2",
        "-c",
        "gen.bpf.c",
        "-o",
        "gen.bpf.o",
      ], dir);
      assert.deepEqual(symbolBytes(await Deno.readFile(`${dir}/gen.bpf.o`), "sample"), expected);

      // wasm32, through the generated header: run it and read the value from its memory
      await Deno.writeTextFile(`${dir}/gen.c`, GEN_WASM_C);
      await run(clang!, [
        "--target=wasm32-wasi",
        "-O2",
        "-nostdlib",
        "-Wl,--no-entry",
        "-o",
        "gen.wasm",
        "gen.c",
      ], dir);
      const { instance } = await WebAssembly.instantiate(await Deno.readFile(`${dir}/gen.wasm`));
      const ex = instance.exports as {
        memory: WebAssembly.Memory;
        sample_addr: () => number;
        sample_size: () => number;
      };
      assert.equal(ex.sample_size(), expected.length);
      const got = new Uint8Array(ex.memory.buffer, ex.sample_addr(), ex.sample_size());
      assert.deepEqual(got.slice(), expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "skel: the datasec structs match the ELF symbols, and the skeleton builds for wasm32",
  ignore,
  fn: async () => {
    const { dir, obj } = await setup();
    try {
      const skel = generateSkeleton(obj, { file: "orig.bpf.o", types: ["outer"] });
      // every global variable of .rodata/.bss/.data is at its symbol's offset with its size
      const elf = parseElf(obj, "orig.bpf.o");
      for (
        const [sec, ident] of [[".rodata", "rodata"], [".bss", "bss"], [".data", "data"]]
      ) {
        const index = elf.sections.findIndex((s) => s.name === sec);
        const vars = elf.symbols.filter((s) => s.shndx === index && s.type === 1 && s.bind === 1);
        assert.ok(vars.length > 0, sec);
        for (const v of vars) {
          assert.ok(
            skel.includes(
              `_Static_assert(__builtin_offsetof(struct orig_bpf__${ident}, ${v.name}) == ${v.value},`,
            ),
            `${sec} ${v.name} @${v.value}`,
          );
          assert.ok(
            skel.includes(
              `_Static_assert(sizeof(((struct orig_bpf__${ident} *)0)->${v.name}) == ${v.size},`,
            ),
            `${sec} ${v.name} size ${v.size}`,
          );
        }
      }
      assert.doesNotMatch(skel, /r_static/); // static variables stay private, as in bpftool
      assert.match(skel, /struct outer b_outer;/); // a --types struct is used by name
      assert.match(skel, /s->rodata_offset = ORIG_BPF__RODATA_OFFSET;/);
      const rodata = elf.section(".rodata")!;
      assert.match(skel, new RegExp(`#define ORIG_BPF__RODATA_OFFSET ${rodata.offset}\\n`));
      // the embedded object is the whole file
      assert.match(skel, new RegExp(`orig_bpf__data\\[${obj.length}\\]`));
      // maps: user maps in BTF order, then one per data section; progs by function name
      assert.match(
        skel,
        /struct \{\n\s+struct bpf_map \*m;\n\s+struct bpf_map \*data;\n\s+struct bpf_map \*rodata;\n\s+struct bpf_map \*bss;\n\s+\} maps;/,
      );
      assert.match(skel, /s->progs\[0\]\.name = "prog";/);

      await Deno.writeTextFile(`${dir}/orig.skel.h`, skel);
      await Deno.writeTextFile(
        `${dir}/guest.c`,
        `#include "orig.skel.h"
int main(void) {
    struct orig_bpf *s = orig_bpf__open();
    if (!s) return 1;
    s->rodata->r_l = 42; s->rodata->r_pt.y = -1; s->rodata->r_arr[2] = 3; s->rodata->r_ptr = 0;
    return orig_bpf__load(s) ? 2 : 0;
}
`,
      );
      await run(clang!, [
        "--target=wasm32-wasi",
        "-O2",
        "-Werror",
        "-Wno-unused-function",
        `-I${include}`,
        "-c",
        "guest.c",
        "-o",
        "guest.o",
      ], dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "skel: output is deterministic and the CLI writes what the module generates",
  ignore,
  fn: async () => {
    const { dir, obj } = await setup();
    try {
      const a = generateSkeleton(obj, { file: "orig.bpf.o", types: ["outer"] });
      const b = generateSkeleton(obj.slice(), { file: "orig.bpf.o", types: ["outer"] });
      assert.equal(a, b);
      const o = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${repo}scripts/skel.ts`, "--types", "outer", "orig.bpf.o"],
        cwd: dir,
        env: { INIT_CWD: dir }, // as `deno task skel` run from dir sets it
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
      assert.equal(new TextDecoder().decode(o.stdout), a);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function skelCli(args: string[], cwd: string) {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${repo}scripts/skel.ts`, ...args],
    cwd,
    env: { INIT_CWD: cwd }, // as `deno task skel` run from cwd sets it
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: o.code,
    stdout: new TextDecoder().decode(o.stdout),
    stderr: new TextDecoder().decode(o.stderr),
  };
}

Deno.test({
  name: "skel: bad input gives one clear line and status 1, never a stack trace",
  ignore,
  fn: async () => {
    const { dir, obj } = await setup();
    try {
      await Deno.writeTextFile(`${dir}/text.o`, "hello, not an object\n");
      await Deno.writeFile(`${dir}/empty.o`, new Uint8Array(0));
      await Deno.writeFile(`${dir}/truncated.o`, obj.slice(0, Math.floor(obj.length / 2)));
      await Deno.writeFile(`${dir}/header.o`, obj.slice(0, 40));
      // a .BTF section whose contents are cut: corrupt the BTF header's type length
      const badBtf = obj.slice();
      const btf = parseElf(badBtf, "x").section(".BTF")!;
      new DataView(badBtf.buffer).setUint32(btf.offset + 12, 0x7fffffff, true);
      await Deno.writeFile(`${dir}/badbtf.o`, badBtf);
      await Deno.writeTextFile(`${dir}/nobtf.bpf.c`, "int x = 1;\n");
      await run(clang!, ["-target", "bpf", "-O2", "-c", "nobtf.bpf.c", "-o", "nobtf.o"], dir);
      await run(clang!, ["-O2", "-c", "nobtf.bpf.c", "-o", "native.o"], dir);
      const cases: [string[], RegExp][] = [
        [["text.o"], /text\.o: not an ELF file/],
        [["empty.o"], /empty\.o: not an ELF file/],
        [["header.o"], /header\.o: truncated/],
        [["truncated.o"], /truncated\.o: truncated/],
        [["badbtf.o"], /badbtf\.o: \.BTF is truncated or corrupt/],
        [["nobtf.o"], /nobtf\.o: no BTF in the object/],
        [["native.o"], /native\.o: not a BPF object \(ELF machine 62/],
        [["missing.o"], /missing\.o: No such file/],
        [["--types", "nosuchtype", "orig.bpf.o"], /no type "nosuchtype" in the BTF/],
        [[], /expected one BPF object file/],
      ];
      for (const [args, re] of cases) {
        const r = await skelCli(args, dir);
        assert.notEqual(r.code, 0, `${args.join(" ")}: status 0`);
        assert.match(r.stderr, re, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, /^skel: /, r.stderr);
        assert.doesNotMatch(r.stderr, /^\s+at /m, `stack trace for ${args.join(" ")}`);
        assert.equal(r.stdout, "");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
