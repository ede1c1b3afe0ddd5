// The shared codecs (src/format/): the ELF reader is bounds-checked on hostile bytes, and the
// BTF layout decoder walks a real object's types exactly.
import assert from "node:assert/strict";
import { WasmFormatError, WasmReader } from "../src/format/wasm.ts";
import {
  BTF_HEADER_BYTES,
  BtfKind,
  btfKindName,
  btfTypeBytes,
  readBtfHeader,
  readBtfTypeHead,
} from "../src/format/btf.ts";
import {
  ByteReader,
  FormatError,
  hasElfMagic,
  readElfHeader,
  readSectionHeader,
  readSymbol,
  SHT_SYMTAB,
} from "../src/format/elf.ts";

const object = Deno.readFileSync(new URL("guests/policy/tponly.bpf.o", import.meta.url));

Deno.test("format/elf: every read outside the bytes is a FormatError naming what was read", () => {
  const r = new ByteReader(new Uint8Array(8), "x.o");
  for (
    const read of [
      () => r.u8(8),
      () => r.u16(7),
      () => r.u32(5),
      () => r.i32(-1),
      () => r.u64(1),
      () => r.u64Number(2 ** 60),
      () => r.check(Number.NaN, 0),
    ]
  ) {
    assert.throws(
      read,
      (e) => e instanceof FormatError && /^x\.o is truncated or corrupt/.test(e.message),
    );
  }
  const big = new ByteReader(new Uint8Array(8).fill(0xff), "y.o");
  assert.throws(() => big.u64(0), /y\.o is corrupt \(64-bit value out of range at 0\)/);
  assert.equal(big.u64Number(0), 2 ** 64);
  const text = new ByteReader(new TextEncoder().encode("ab\0cd"), "z.o");
  assert.equal(text.cstr(0), "ab");
  assert.throws(() => text.cstr(3), /z\.o is truncated or corrupt \(unterminated string at 3\)/);
  assert.throws(() => text.cstr(0, 2), /unterminated string at 0/);
});

Deno.test("format/elf: a real object's header, sections and symbols", () => {
  assert.ok(hasElfMagic(object));
  assert.ok(!hasElfMagic(object.subarray(0, 3)));
  const r = new ByteReader(object, "tponly.bpf.o");
  const h = readElfHeader(r);
  assert.deepEqual([h.elfClass, h.data, h.machine, h.shentsize], [2, 1, 247, 64]);
  const sections = Array.from({ length: h.shnum }, (_, i) => readSectionHeader(r, h, i, true));
  const names = sections[h.shstrndx];
  const named = sections.map((s) => r.cstr(names.offset + s.nameOff));
  assert.ok(named.includes(".BTF") && named.includes(".symtab"), named.join(" "));
  const symtab = sections.find((s) => s.type === SHT_SYMTAB)!;
  const strtab = sections[symtab.link];
  const symbols = Array.from(
    { length: symtab.size / 24 },
    (_, i) => readSymbol(r, symtab.offset + 24 * i),
  ).map((s) => r.cstr(strtab.offset + s.nameOff));
  assert.ok(symbols.length > 1, "symbols");
});

Deno.test("format/btf: the record sizes walk a real object's types to the end exactly", () => {
  const r = new ByteReader(object, "tponly.bpf.o");
  const h = readElfHeader(r);
  const sections = Array.from({ length: h.shnum }, (_, i) => readSectionHeader(r, h, i));
  const names = sections[h.shstrndx];
  const btf = sections.find((s) => r.cstr(names.offset + s.nameOff) === ".BTF")!;
  const b = new ByteReader(object.subarray(btf.offset, btf.offset + btf.size), ".BTF");
  const hdr = readBtfHeader(b);
  assert.equal(hdr.hdrLen, BTF_HEADER_BYTES);
  let at = hdr.hdrLen + hdr.typeOff;
  const end = at + hdr.typeLen;
  const kinds = new Set<string>();
  while (at < end) {
    const t = readBtfTypeHead(b, at);
    kinds.add(btfKindName(t.kind));
    const size = btfTypeBytes(t.kind, t.vlen);
    assert.ok(size !== undefined, `kind ${t.kind}`);
    at += size;
  }
  assert.equal(at, end);
  assert.ok(kinds.has("func") && kinds.has("func_proto"), [...kinds].join(" "));
  assert.equal(btfTypeBytes(BtfKind.VOID, 0), undefined);
  assert.equal(btfTypeBytes(20, 0), undefined);
  assert.throws(() => readBtfTypeHead(b, btf.size - 8), FormatError);
});

Deno.test("wasm reader: u32 reads what uleb(32) reads, and refuses what it refuses", () => {
  const cases: number[][] = [
    [0x00],
    [0x7f],
    [0x80, 0x01],
    [0xe5, 0x8e, 0x26],
    [0x80, 0x80, 0x80, 0x80, 0x00], // a redundant (but valid) five-byte zero
    [0xff, 0xff, 0xff, 0xff, 0x0f], // 2^32 - 1
    [0xff, 0xff, 0xff, 0xff, 0x1f], // over 32 bits
    [0x80, 0x80, 0x80, 0x80, 0x80, 0x00], // six bytes
    [0x80, 0x80], // cut short
  ];
  const outcome = (read: () => number | bigint) => {
    try {
      return Number(read());
    } catch (e) {
      assert.ok(e instanceof WasmFormatError);
      return e.message;
    }
  };
  for (const bytes of cases) {
    const b = new Uint8Array(bytes);
    assert.equal(
      outcome(() => new WasmReader(b).u32()),
      outcome(() => new WasmReader(b).uleb(32)),
      `bytes ${bytes}`,
    );
  }
  assert.equal(new WasmReader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f])).u32(), 0xffffffff);
});
