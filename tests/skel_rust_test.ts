// The Rust skeleton (`deno task skel --lang rust`, scripts/skel/rust.ts) against clang's bpf
// layout, on the fixture the C skeleton tests use (tests/helpers/skel_fixture.ts): the
// generated module compiles with the Rust toolchain scripts/setup.sh installs (its `const`
// assertions hold), a Rust guest fills the shared struct through its fields, bitfield setters,
// enum and union, and running under this runtime it prints the bytes, which must be the bytes
// clang gave the same value in the BPF object; it also prints each field's real offset
// (addr_of!) and the .rodata bytes after the skeleton's setters. A generated file with one
// member type changed must fail to build. No kernel needed; a missing compiler fails.
import assert from "node:assert/strict";
import { generateRustSkeleton } from "../scripts/skel/rust.ts";
import { parseElf } from "../scripts/skel/elf.ts";
import { parseBtf } from "../scripts/skel/btf.ts";
import { findRustc, rustFlags } from "../scripts/rust_toolchain.ts";
import { compileFixture } from "./helpers/skel_fixture.ts";

const repo = new URL("../", import.meta.url).pathname;

async function run(cmd: string, args: string[], cwd: string): Promise<Deno.CommandOutput> {
  return await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
}
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const MAIN_RS = `
#[path = "libbpf_wasm.rs"]
mod libbpf_wasm;
mod orig_skel;
use orig_skel::*;
use std::ptr::addr_of;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{:02x}", x)).collect()
}

fn main() {
    let mut s = outer::zeroed();
    s.c = 0x11;
    let mut p = point::zeroed();
    p.x = 0x2233;
    p.y = 0x0102030405060708;
    s.p = p;
    let mut pts = [point::zeroed(); 3];
    for (i, y) in [0x1111111111i64, 0x2222222222, -3].iter().enumerate() {
        pts[i].x = i as i16 + 1;
        pts[i].y = *y;
    }
    s.pts = pts;
    s.color = color::BLUE;
    s.big = big(0x100000000);
    let mut fl = flags::zeroed();
    fl.set_a(5);
    fl.set_b(300);
    fl.set_c(-7);
    fl.set_d(0xABCDEF1234);
    fl.e = 0x99;
    fl.set_f(color::GREEN.0);
    assert!(fl.a() == 5 && fl.b() == 300 && fl.c() == -7 && fl.d() == 0xABCDEF1234 && fl.f() == 2);
    s.fl = fl;
    let mut v = value::zeroed();
    v.i = 0x77665544;
    s.v = v;
    s.ptr = 0x8877665544332211;
    s.ul = 0xFEDCBA9876543210;
    s.anon.anon_a = 0x31323334;
    s.anon.anon_b = 0x35;
    let mut t: tagged_t = tagged_t::zeroed();
    t.tag = 0x36;
    t.n = 0x3738393A3B3C3D3E;
    s.t = t;
    s.tail = 0x7f;
    println!("sample {}", hex(libbpf_wasm::bytes_of(&s)));

    let base = addr_of!(s) as usize;
    macro_rules! off {
        ($($f:ident)*) => { $(println!("offset {} {}", stringify!($f), addr_of!(s.$f) as usize - base);)* };
    }
    off!(c p pts color big fl v ptr ul anon t tail);

    let mut sk = Skel::open();
    sk.set_r_l(0x5566778899aabbcc);
    sk.rodata().r_last = 0x42;
    let mut pt = point::zeroed();
    pt.x = -2;
    pt.y = 7;
    sk.set_r_pt(pt);
    println!("rodata {}", hex(&sk.bytes()[RODATA_OFFSET..RODATA_OFFSET + size_of_rodata()]));
}

fn size_of_rodata() -> usize {
    std::mem::size_of::<Rodata>()
}
`;

interface Built {
  dir: string;
  obj: Uint8Array;
  skel: string;
}

async function generate(): Promise<Built> {
  const { dir, obj } = await compileFixture("clang");
  const skel = generateRustSkeleton(obj, {
    file: "orig.bpf.o",
    types: ["outer", "tagged_t", "value"],
  });
  await Deno.copyFile(`${repo}wasm-include/libbpf_wasm.rs`, `${dir}/libbpf_wasm.rs`);
  await Deno.writeTextFile(`${dir}/main.rs`, MAIN_RS);
  return { dir, obj, skel };
}

function rustc(): string {
  const found = findRustc();
  if ("error" in found) throw new Error(found.error); // setup.sh installs it: fail, never skip
  return found.rustc;
}

/** Build main.rs (or a guest that only declares the skeleton: its assertions alone). */
async function compile(dir: string, skel: string, main = "main.rs"): Promise<Deno.CommandOutput> {
  await Deno.writeTextFile(`${dir}/orig_skel.rs`, skel);
  await Deno.writeTextFile(
    `${dir}/only_skel.rs`,
    `#[path = "libbpf_wasm.rs"]\nmod libbpf_wasm;\nmod orig_skel;\nfn main() {}\n`,
  );
  // the skeleton alone: analysis only (`const` items are evaluated there), no codegen
  const emit = main === "only_skel.rs" ? ["--emit=metadata"] : [];
  return await run(rustc(), [...rustFlags(repo), ...emit, "-o", "main.out", main], dir);
}

function symbol(
  obj: Uint8Array,
  name: string,
): { section: string; offset: number; bytes: Uint8Array } {
  const elf = parseElf(obj, name);
  const sym = elf.symbols.find((s) => s.name === name);
  assert.ok(sym, `no symbol ${name}`);
  const sec = elf.sections[sym.shndx];
  return {
    section: sec.name,
    offset: sym.value,
    bytes: elf.contents(sec).slice(sym.value, sym.value + sym.size),
  };
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("skel --lang rust: the generated types have clang's bpf layout, run under the runtime", async () => {
  const { dir, obj, skel } = await generate();
  try {
    // every size and offset is pinned to the BTF in the generated file
    assert.match(skel, /const _: \(\) = assert!\(size_of::<outer>\(\) == 168\);/);
    assert.match(skel, /\/\/ offset of outer\.tail/);
    assert.match(skel, /pub fn set_d\(&mut self, v: u64\)/); // bitfield accessors
    assert.match(skel, /pub union value \{/);
    assert.match(skel, /pub const BLUE: color = color\(-3\);/);
    const c = await compile(dir, skel);
    assert.ok(c.success, `the generated Rust does not compile:\n${text(c.stderr)}`);

    const r = await run(Deno.execPath(), ["run", "-A", `${repo}mod.ts`, `${dir}/main.out`], dir);
    const out = text(r.stdout);
    assert.equal(r.code, 0, `${out}\n${text(r.stderr)}`);
    const line = (k: string) => out.split("\n").filter((l) => l.startsWith(`${k} `));

    assert.equal(line("sample")[0], `sample ${hex(symbol(obj, "sample").bytes)}`);

    const elf = parseElf(obj, "orig.bpf.o");
    const btf = parseBtf(elf.contents(elf.section(".BTF")!), "BTF");
    const outer = btf.findByName("outer")[0];
    const offsets = line("offset");
    assert.equal(offsets.length, outer.members!.length);
    for (const m of outer.members!) {
      assert.ok(offsets.includes(`offset ${m.name} ${m.bitOffset / 8}`), `${m.name}: ${offsets}`);
    }

    // the setters write where clang put the variables
    const rodata = elf.contents(elf.section(".rodata")!).slice();
    const put = (name: string, bytes: number[]) => rodata.set(bytes, symbol(obj, name).offset);
    put("r_l", [0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55]);
    put("r_last", [0x42]);
    put("r_pt", [0xfe, 0xff, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(line("rodata")[0], `rodata ${hex(rodata)}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("skel --lang rust: a wrong member type fails the build (const assertions)", async () => {
  const { dir, skel } = await generate();
  try {
    // point.y is a `long` (8 bytes in BPF): an i32 there shifts everything after it
    const wrong = skel.replace(/(pub struct point \{[^}]*pub y: )i64/, "$1i32");
    assert.notEqual(wrong, skel);
    assert.ok((await compile(dir, skel, "only_skel.rs")).success, "the right layout fails");
    const c = await compile(dir, wrong, "only_skel.rs");
    assert.equal(c.success, false, "a wrong layout compiled");
    assert.match(text(c.stderr), /evaluation of constant value failed|assertion failed/);
    // and a padding mistake inside a nested anonymous struct
    const pad = skel.replace(/(pub struct outer__anon \{[^}]*__pad0: \[u8; )3\]/, "$14]");
    assert.notEqual(pad, skel);
    assert.equal((await compile(dir, pad, "only_skel.rs")).success, false, "a wrong pad compiled");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task examples: no Rust compiler with wasm32-wasi is a clear error", async () => {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${repo}scripts/build_guests.ts`, "--check", "examples/rust_bootstrap"],
    cwd: repo,
    env: { WASM_BPF_RUSTC: "/nonexistent/rustc" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(o.code, 1);
  assert.match(text(o.stderr), /WASM_BPF_RUSTC=\/nonexistent\/rustc has no wasm32-wasi target/);
});
