// Broken input: truncated and corrupted ELF objects, no BTF or broken BTF, programs the
// verifier rejects, bad modules (unknown import, no memory, over 64 MiB), 100 MB of guest
// output. The host keeps working: no crash, no hang, no leak, a clear message.
import assert from "node:assert/strict";
import {
  assertClean,
  describeRun,
  guest,
  guestsDir,
  kernelTest,
  modTs,
  repoRoot,
  runCli,
} from "./helpers/kernel.ts";
import { drive } from "./helpers/driver.ts";
import { BtfKind, btfTypeBytes, readBtfHeader, readBtfTypeHead } from "../src/format/btf.ts";
import { ByteReader, readElfHeader, readSectionHeader } from "../src/format/elf.ts";

const tmp = await Deno.makeTempDir({ prefix: "wasm-bpf-broken-" });
const good = Deno.readFileSync(`${guestsDir}policy/tponly.bpf.o`);

// --- ELF surgery ------------------------------------------------------------------------------

interface Sec {
  name: string;
  nameAt: number; // file offset of the name in .shstrtab
  offset: number;
  size: number;
}

function sections(elf: Uint8Array): Sec[] {
  const r = new ByteReader(elf, "the object");
  const h = readElfHeader(r);
  const names = readSectionHeader(r, h, h.shstrndx);
  return Array.from({ length: h.shnum }, (_, i) => {
    const s = readSectionHeader(r, h, i);
    const nameAt = names.offset + s.nameOff;
    return { name: r.cstr(nameAt), nameAt, offset: s.offset, size: s.size };
  });
}

function section(elf: Uint8Array, name: string): Sec {
  const s = sections(elf).find((s) => s.name === name);
  if (!s) throw new Error(`no ${name} section`);
  return s;
}

/** The object with .BTF (and .BTF.ext) renamed away: libbpf sees no BTF at all. */
function withoutBtf(elf: Uint8Array): Uint8Array {
  const out = elf.slice();
  for (const s of sections(out).filter((s) => s.name.startsWith(".BTF"))) {
    out[s.nameAt + 1] = "X".charCodeAt(0); // ".BTF" -> ".XTF"
  }
  return out;
}

/** The object whose first type referencing another type references type 0xfffff instead:
 * libbpf 1.1 dereferences NULL on this (found by scripts/fuzz.ts). */
function withDanglingBtfType(elf: Uint8Array): Uint8Array {
  const out = elf.slice();
  const btf = section(out, ".BTF");
  const r = new ByteReader(out.subarray(btf.offset, btf.offset + btf.size), ".BTF");
  const h = readBtfHeader(r);
  // type 1 of a clang object is a PTR, TYPEDEF, INT, STRUCT...: find the first PTR
  for (let i = 0, o = h.hdrLen + h.typeOff; i < 100; i++) {
    const t = readBtfTypeHead(r, o);
    if (t.kind === BtfKind.PTR) {
      r.dv.setUint32(o + 8, 0xfffff, true);
      return out;
    }
    const size = btfTypeBytes(t.kind, t.vlen);
    assert.ok(size !== undefined, "unexpected BTF");
    o += size;
  }
  throw new Error("no PTR type found");
}

// --- ELF objects ----------------------------------------------------------------------------

const objects: [string, Uint8Array, RegExp][] = [
  ["truncated to half", good.slice(0, good.length >> 1), /not a valid BPF object|lies outside/],
  ["truncated to 100 bytes", good.slice(0, 100), /not a valid BPF object/],
  ["an ELF header only", good.slice(0, 64), /not a valid BPF object/],
  [
    "not ELF at all",
    new TextEncoder().encode("\x7fELF but not really".padEnd(200, "!")),
    /not a valid BPF object/,
  ],
  ["no BTF", withoutBtf(good), /BTF is required, but is missing or corrupted/],
  [
    "BTF with a bad magic",
    (() => {
      const o = good.slice();
      o[section(o, ".BTF").offset] ^= 0xff;
      return o;
    })(),
    /\.BTF: bad magic/,
  ],
  [
    "BTF referencing a type that does not exist",
    withDanglingBtfType(good),
    /\.BTF: type \d+ \(ptr\): type id 1048575 out of range/,
  ],
  [
    "BTF string section cut short",
    (() => {
      const o = good.slice();
      const btf = section(o, ".BTF");
      const dv = new DataView(o.buffer, btf.offset);
      dv.setUint32(20, dv.getUint32(20, true) - 3, true); // str_len: the last string loses its NUL
      return o;
    })(),
    /\.BTF: malformed string section|string offset/,
  ],
];

for (const [what, bytes, message] of objects) {
  kernelTest(`broken object: ${what} → load returns 0, one clear message`, async () => {
    const dir = `${tmp}/${what.replaceAll(/\W+/g, "_")}`;
    Deno.mkdirSync(dir);
    Deno.writeFileSync(`${dir}/obj.o`, bytes);
    Deno.writeFileSync(`${dir}/good.o`, good);
    const r = await drive(["load:/o/obj.o", "load:/o/good.o", "attach:1:on_getppid"], {
      dirs: [`${dir}:/o`],
    });
    assert.equal(r.code, 0, describeRun(r));
    // the host keeps working: the good object loads and attaches afterwards
    assert.equal(r.stdout, "load 0\nload 1\nattach 0\n", describeRun(r));
    assert.match(r.stderr, /^wasm-bpf: wasm_load_bpf_object: /, describeRun(r));
    assert.match(r.stderr, message, describeRun(r));
    assertClean(r.stderr);
  });
}

kernelTest("broken objects: 300 randomly corrupted objects, no crash (seeded)", async () => {
  const seed = crypto.getRandomValues(new Uint32Array(1))[0];
  let s = seed;
  const rnd = (n: number) => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n;
  const dir = `${tmp}/random`;
  Deno.mkdirSync(dir);
  const commands: string[] = [];
  for (let i = 0; i < 300; i++) {
    const o = good.slice();
    for (let k = 1 + rnd(6); k > 0; k--) o[rnd(o.length)] ^= 1 << rnd(8);
    Deno.writeFileSync(`${dir}/${i}.o`, rnd(4) === 0 ? o.slice(0, rnd(o.length)) : o);
    commands.push(`load:/o/${i}.o`);
  }
  const r = await drive(commands, { dirs: [`${dir}:/o`] });
  assert.equal(r.signal, null, `seed ${seed}\n${describeRun(r)}`);
  assert.equal(r.code, 0, `seed ${seed}\n${describeRun(r)}`);
  assert.equal(r.stdout.split("\n").filter((l) => /^load \d+$/.test(l)).length, 300);
  assertClean(r.stderr);
});

kernelTest("verifier rejection: the verdict in a few lines; the whole log with -v", async () => {
  const r = await drive(["load:/o/reject.bpf.o"], { dirs: [`${guestsDir}broken:/o`] });
  assert.equal(r.stdout, "load 0\n", describeRun(r));
  assert.match(
    r.stderr,
    /^wasm-bpf: wasm_load_bpf_object: the kernel verifier rejected program "no_null_check" \(bpf_object__load: EACCES, Permission denied\); the end of its log \(all of it with -v\):\n/,
  );
  assert.match(r.stderr, /R0 invalid mem access 'map_value_or_null'/);
  assert.doesNotMatch(r.stderr, /run as root/, "a verifier rejection is not a privilege problem");
  assert.ok(r.stderr.trim().split("\n").length <= 6, describeRun(r));
  assertClean(r.stderr);

  const v = await drive(["load:/o/reject.bpf.o"], {
    flags: ["-v"],
    dirs: [`${guestsDir}broken:/o`],
  });
  assert.match(v.stderr, /BEGIN PROG LOAD LOG/);
  assert.match(v.stderr, /call bpf_map_lookup_elem#1/);
  assert.ok(v.stderr.split("\n").length > 15, describeRun(v));
});

// --- bad modules -----------------------------------------------------------------------------

function wasmModule(sections: number[][]): Uint8Array {
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...sections.flat()]);
}
const name = (s: string) => [s.length, ...new TextEncoder().encode(s)];
const sec = (id: number, body: number[]) => [id, body.length, ...body];
const typeVoid = sec(1, [1, 0x60, 0, 0]);

Deno.test("bad module: an unknown wasm_bpf import is named", async () => {
  const path = `${tmp}/unknown-import.wasm`;
  Deno.writeFileSync(
    path,
    wasmModule([
      typeVoid,
      sec(2, [1, ...name("wasm_bpf"), ...name("wasm_frobnicate"), 0, 0]),
      sec(3, [1, 0]),
      sec(5, [1, 0, 1]),
      sec(7, [2, ...name("memory"), 2, 0, ...name("_start"), 0, 1]),
      sec(10, [1, 2, 0, 0x0b]),
    ]),
  );
  const r = await runCli([path]);
  assert.equal(r.code, 1, describeRun(r));
  assert.match(
    r.stderr,
    /imports what this host does not provide: wasm_bpf\.wasm_frobnicate \(function\)/,
  );
  assertClean(r.stderr);
});

Deno.test("bad module: no memory export", async () => {
  const path = `${tmp}/no-memory.wasm`;
  Deno.writeFileSync(
    path,
    wasmModule([
      typeVoid,
      sec(3, [1, 0]),
      sec(7, [1, ...name("_start"), 0, 0]),
      sec(10, [1, 2, 0, 0x0b]),
    ]),
  );
  const r = await runCli([path]);
  assert.equal(r.code, 1, describeRun(r));
  assert.match(r.stderr, /exports no memory named "memory"/);
  assertClean(r.stderr);
});

Deno.test("bad module: over 64 MiB is refused before it is read or compiled", async () => {
  const path = `${tmp}/huge.wasm`;
  const f = Deno.openSync(path, { write: true, create: true });
  f.writeSync(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  f.truncateSync(64 * 1024 * 1024 + 1); // sparse
  f.close();
  const r = await runCli([path]);
  assert.equal(r.code, 1, describeRun(r));
  assert.match(r.stderr, /huge\.wasm: the module is 64\.0 MiB, over the 64 MiB this host accepts/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.ok(r.ms < 5000, describeRun(r));
});

Deno.test("bad module: initial memory over --max-memory is refused with a clear message", async () => {
  const path = `${tmp}/big-memory.wasm`;
  Deno.writeFileSync(
    path,
    wasmModule([
      typeVoid,
      sec(3, [1, 0]),
      sec(5, [1, 0, 0xd0, 0x0f]), // 2000 pages
      sec(7, [2, ...name("memory"), 2, 0, ...name("_start"), 0, 0]),
      sec(10, [1, 2, 0, 0x0b]),
    ]),
  );
  const r = await runCli(["--max-memory=64", path]);
  assert.equal(r.code, 1, describeRun(r));
  assert.match(
    r.stderr,
    /its memory starts at 125 MiB \(2000 pages\), more than the 64 MiB allowed \(--max-memory\)/,
  );
  const ok = await runCli([path]); // under the default 1 GiB
  assert.equal(ok.code, 0, describeRun(ok));
});

// --- 100 MB of output ------------------------------------------------------------------------

/** Runs bigout.wasm with stdout to `stdout`, sampling the child's peak RSS meanwhile. */
async function bigout(stdout: "piped" | "null") {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", modTs, guest("bigout/bigout.wasm"), "100"],
    cwd: repoRoot,
    stdout,
    stderr: "piped",
  }).spawn();
  let peakKiB = 0;
  const sampler = setInterval(() => {
    try {
      const m = Deno.readTextFileSync(`/proc/${child.pid}/status`).match(/VmHWM:\s+(\d+)/);
      if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
    } catch { /* exited */ }
  }, 10);
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  let bytes = 0;
  const reading = stdout === "piped"
    ? (async () => {
      // a reader slower than the writer: the guest must wait, not buffer
      for await (const chunk of child.stdout) {
        bytes += chunk.length;
        if (bytes % (16 << 20) < chunk.length) await new Promise((r) => setTimeout(r, 20));
      }
    })()
    : Promise.resolve();
  const stderr = new Response(child.stderr).text();
  const status = await child.status;
  clearTimeout(timer);
  clearInterval(sampler);
  await reading;
  return { status, bytes, peakMiB: peakKiB / 1024, stderr: await stderr };
}

for (const to of ["piped", "null"] as const) {
  Deno.test(`100 MB of guest stdout to ${to === "piped" ? "a slow reader" : "/dev/null"}: bounded memory, no hang`, async () => {
    const r = await bigout(to);
    assert.equal(r.status.code, 0, r.stderr);
    assert.equal(r.stderr, "done\n");
    if (to === "piped") assert.equal(r.bytes, 100 * 1024 * 1024);
    // Deno's own footprint is ~100 MiB; buffering the output would add 100 MiB or more.
    // (peak 0: the run ended before the first sample)
    assert.ok(r.peakMiB < 190, `peak RSS ${r.peakMiB.toFixed(0)} MiB`);
    console.log(`peak RSS ${r.peakMiB.toFixed(0)} MiB`);
  });
}
