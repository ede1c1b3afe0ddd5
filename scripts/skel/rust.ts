// The skeleton of a BPF object for Rust guests: `deno task skel --lang rust foo.bpf.o`.
// Same analysis as the C skeleton (./analyze.ts: ELF sections, BTF datasecs and types); the
// output is one Rust module that uses wasm-include/libbpf_wasm.rs (`crate::libbpf_wasm`):
// the object's bytes, the file offsets of .rodata/.bss, `#[repr(C, packed)]` structs for the
// global-data sections and for the `--types` asked for, with `const` assertions that pin every
// size and offset to the BTF's, so a layout mistake fails the build, not the run.
//
// Packed structs have alignment 1 and no implicit padding: a field's offset is the sum of the
// sizes of the fields before it, which is what the offset assertions compute (rustc 1.63 has
// no const offset_of). Bitfields live in byte arrays with accessor methods; enums are
// newtypes over their integer (any value the kernel writes stays valid); pointers are u64.

import { type Btf, type BtfType, INT_BOOL, INT_CHAR, INT_SIGNED, Kind, kindName } from "./btf.ts";
import { CEmitter } from "./ctypes.ts";
import { SHT_PROGBITS, SkelError } from "./elf.ts";
import { analyze, findTypes, ident, objectName, type SkelOptions } from "./analyze.ts";

function intType(size: number, signed: boolean): string {
  if ([1, 2, 4, 8, 16].includes(size)) return `${signed ? "i" : "u"}${size * 8}`;
  return `[u8; ${size}]`;
}

interface Field {
  name: string;
  ty: string; // Rust type
  btfOffset?: number; // bytes, for named non-bitfield members: asserted
}

interface Bitfield {
  name: string;
  storage: string; // the byte-array field
  bitOffset: number; // inside the storage
  bits: number;
  ty: string; // accessor integer type
  signed: boolean;
}

/** Emits Rust for BTF types: named records as top-level items, anonymous ones named after
 * their place (`outer__anon`). Output order is deterministic. */
class RustEmitter {
  readonly items: string[][] = [];
  readonly names = new Map<number, string>();
  usesBitfields = false;
  readonly #c: CEmitter;

  constructor(readonly btf: Btf, readonly named: Set<number>) {
    this.#c = new CEmitter(btf, { named });
  }

  /** The Rust type of a member or variable of BTF type `id`; `place` names anonymous types. */
  type(id: number, place: string): string {
    const t = this.btf.resolve(id);
    switch (t.kind) {
      case Kind.ARRAY:
        return `[${this.type(t.array!.type, place)}; ${t.array!.nelems}]`;
      case Kind.INT: {
        const enc = t.intEncoding ?? 0;
        if (t.sizeOrType === 1 && (enc & (INT_BOOL | INT_CHAR) || t.name === "char")) return "u8"; // any byte is valid
        return intType(t.sizeOrType, (enc & INT_SIGNED) !== 0);
      }
      case Kind.ENUM:
      case Kind.ENUM64:
        if (t.name && this.named.has(t.id)) return t.name;
        return intType(t.sizeOrType, enumSigned(t));
      case Kind.PTR:
        return "u64";
      case Kind.FLOAT:
        return t.sizeOrType === 4 ? "f32" : t.sizeOrType === 8 ? "f64" : `[u8; ${t.sizeOrType}]`;
      case Kind.STRUCT:
      case Kind.UNION: {
        if (t.name && this.named.has(t.id)) return t.name;
        let name = this.names.get(t.id);
        if (!name) {
          name = place;
          this.names.set(t.id, name);
          this.items.push(this.record(t, name));
        }
        return name;
      }
      default:
        throw new SkelError(`${place}: type ${t.id} (${kindName(t.kind)} ${t.name}) has no layout`);
    }
  }

  /** A top-level definition of a named struct, union or enum. */
  define(t: BtfType): void {
    if (t.kind === Kind.ENUM || t.kind === Kind.ENUM64) {
      const repr = intType(t.sizeOrType, enumSigned(t));
      const L = [
        `/// enum ${t.name}: any value of its integer is valid (the kernel may write new ones).`,
        `#[repr(transparent)]`,
        `#[derive(Clone, Copy, PartialEq, Eq, Debug)]`,
        `pub struct ${t.name}(pub ${repr});`,
      ];
      if (t.kind === Kind.ENUM && t.sizeOrType > 4) {
        L.push(`// its constants are truncated in this object's BTF (clang < 15): not defined`);
      } else {
        L.push(`impl ${t.name} {`);
        for (const v of t.values!) {
          L.push(`    pub const ${v.name}: ${t.name} = ${t.name}(${v.value});`);
        }
        L.push(`}`);
      }
      L.push(`const _: () = assert!(size_of::<${t.name}>() == ${t.sizeOrType});`);
      this.items.push(L);
      return;
    }
    if (t.kind !== Kind.STRUCT && t.kind !== Kind.UNION) {
      throw new SkelError(`${t.name} is a ${kindName(t.kind)}, not a struct, union or enum`);
    }
    this.names.set(t.id, t.name);
    this.items.push(this.record(t, t.name));
  }

  /** A struct or union: packed, explicitly padded, size and offsets asserted. */
  record(t: BtfType, name: string): string[] {
    const fields: Field[] = [];
    const bitfields: Bitfield[] = [];
    let pad = 0;
    const size = t.sizeOrType;
    if (t.kind === Kind.UNION) {
      let max = 0;
      for (const m of t.members!) {
        if (this.#c.bitSize(m)) throw new SkelError(`${name}.${m.name}: bitfield in a union`);
        fields.push({
          name: m.name || `__anon${pad++}`,
          ty: this.type(m.type, `${name}__${m.name}`),
        });
        max = Math.max(max, this.btf.sizeOf(m.type));
      }
      if (max < size) fields.push({ name: `__pad${pad++}`, ty: `[u8; ${size}]` });
      return this.render("union", name, size, fields, bitfields);
    }
    let cursor = 0; // bytes
    let run: {
      start: number;
      end: number;
      members: { name: string; bo: number; bits: number; type: number }[];
    } | null = null;
    const flush = () => {
      if (!run) return;
      const storage = `_bitfield_${pad++}`;
      fields.push({ name: storage, ty: `[u8; ${run.end - run.start}]` });
      for (const b of run.members) {
        const { ty, signed } = this.bitfieldType(b.type, b.bits);
        bitfields.push({
          name: b.name,
          storage,
          bitOffset: b.bo - run.start * 8,
          bits: b.bits,
          ty,
          signed,
        });
      }
      cursor = run.end;
      run = null;
    };
    const padTo = (byte: number) => {
      if (byte > cursor) fields.push({ name: `__pad${pad++}`, ty: `[u8; ${byte - cursor}]` });
      cursor = Math.max(cursor, byte);
    };
    for (const m of t.members!) {
      const bits = this.#c.bitSize(m);
      if (bits) {
        const start = Math.floor(m.bitOffset / 8);
        const end = Math.ceil((m.bitOffset + bits) / 8);
        if (run && start <= run.end) {
          run.end = Math.max(run.end, end);
        } else {
          flush();
          if (start < cursor) {
            throw new SkelError(`${name}: member ${m.name} overlaps the previous one`);
          }
          padTo(start);
          run = { start, end, members: [] };
        }
        if (m.name) run.members.push({ name: m.name, bo: m.bitOffset, bits, type: m.type });
        continue;
      }
      flush();
      const off = m.bitOffset / 8;
      if (off < cursor) throw new SkelError(`${name}: member ${m.name} overlaps the previous one`);
      padTo(off);
      const fname = m.name || `__anon${pad++}`;
      fields.push({ name: fname, ty: this.type(m.type, `${name}__${fname}`), btfOffset: off });
      cursor = off + this.btf.sizeOf(m.type);
    }
    flush();
    if (cursor > size) throw new SkelError(`${name}: members exceed its size`);
    padTo(size);
    return this.render("struct", name, size, fields, bitfields);
  }

  private bitfieldType(id: number, bits: number): { ty: string; signed: boolean } {
    const t = this.btf.resolve(id);
    if (t.kind !== Kind.INT && t.kind !== Kind.ENUM && t.kind !== Kind.ENUM64) {
      throw new SkelError(`bitfield of non-integer type ${kindName(t.kind)}`);
    }
    const signed = t.kind === Kind.INT ? ((t.intEncoding ?? 0) & INT_SIGNED) !== 0 : enumSigned(t);
    const n = Math.max(t.sizeOrType, Math.ceil(bits / 8));
    const size = n <= 1 ? 1 : n <= 2 ? 2 : n <= 4 ? 4 : 8;
    return { ty: intType(size, signed), signed };
  }

  private render(
    kw: string,
    name: string,
    size: number,
    fields: Field[],
    bits: Bitfield[],
  ): string[] {
    const L = [`#[repr(C, packed)]`, `#[derive(Clone, Copy)]`, `pub ${kw} ${name} {`];
    for (const f of fields) L.push(`    pub ${f.name}: ${f.ty},`);
    L.push(`}`);
    L.push(`impl ${name} {`);
    L.push(`    /// All bytes zero (a valid value: every field is an integer or made of them).`);
    L.push(`    pub fn zeroed() -> Self {`);
    L.push(`        unsafe { std::mem::zeroed() }`);
    L.push(`    }`);
    if (bits.length) this.usesBitfields = true;
    for (const b of bits) {
      const w = b.ty.slice(1);
      const get = `bf_get(&self.${b.storage}, ${b.bitOffset}, ${b.bits})`;
      L.push(`    pub fn ${b.name}(&self) -> ${b.ty} {`);
      L.push(
        b.signed
          ? `        ((${get} << ${128 - b.bits}) as i128 >> ${128 - b.bits}) as ${b.ty}`
          : `        ${get} as ${b.ty}`,
      );
      L.push(`    }`);
      L.push(`    pub fn set_${b.name}(&mut self, v: ${b.ty}) {`);
      L.push(
        `        bf_set(&mut self.${b.storage}, ${b.bitOffset}, ${b.bits}, v as u${w} as u128);`,
      );
      L.push(`    }`);
    }
    L.push(`}`);
    L.push(`const _: () = assert!(size_of::<${name}>() == ${size});`);
    if (kw === "struct") {
      const before: string[] = [];
      for (const f of fields) {
        if (f.btfOffset !== undefined && !f.name.startsWith("__anon")) {
          const sum = before.length ? before.map((t) => `size_of::<${t}>()`).join(" + ") : "0";
          L.push(`const _: () = assert!(${sum} == ${f.btfOffset}); // offset of ${name}.${f.name}`);
        }
        before.push(f.ty);
      }
    }
    return L;
  }
}

function enumSigned(t: BtfType): boolean {
  return !t.kindFlag && (t.values ?? []).some((v) => v.value < 0n);
}

const BITFIELD_HELPERS = [
  `/// Bits [off, off + bits) of a little-endian byte array.`,
  `fn bf_get(bytes: &[u8], off: usize, bits: usize) -> u128 {`,
  `    let mut v = 0u128;`,
  `    for i in 0..bits {`,
  `        let b = off + i;`,
  `        v |= (((bytes[b / 8] >> (b % 8)) & 1) as u128) << i;`,
  `    }`,
  `    v`,
  `}`,
  `/// Store the low \`bits\` bits of v at bit \`off\`.`,
  `fn bf_set(bytes: &mut [u8], off: usize, bits: usize, v: u128) {`,
  `    for i in 0..bits {`,
  `        let b = off + i;`,
  `        let bit = ((v >> i) & 1) as u8;`,
  `        bytes[b / 8] = (bytes[b / 8] & !(1 << (b % 8))) | (bit << (b % 8));`,
  `    }`,
  `}`,
];

function camel(s: string): string {
  return s.split("_").filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join("");
}

/** The Rust skeleton module of a BPF object. */
export function generateRustSkeleton(bytes: Uint8Array, opts: SkelOptions): string {
  const info = analyze(bytes, opts.file);
  const { btf } = info;
  const obj = opts.name ? ident(opts.name) : objectName(opts.file);
  const base = opts.file.split("/").pop()!;
  const roots = findTypes(btf, opts.types ?? [], opts.file);

  // named types: the closure of the roots, dependencies first (as the C skeleton)
  const named = new Set<number>();
  const order = new CEmitter(btf, { named }).closure(roots.map((t) => t.id));
  for (const t of order) named.add(t.id);
  const em = new RustEmitter(btf, named);
  for (const t of order) em.define(t);
  for (const r of roots) {
    if (r.kind !== Kind.TYPEDEF) continue;
    const target = btf.resolve(r.id);
    if (target.name === r.name && named.has(target.id)) continue; // typedef struct x x
    const ty = em.type(r.id, r.name);
    if (ty !== r.name) {
      em.items.push([
        `pub type ${r.name} = ${ty};`,
        `const _: () = assert!(size_of::<${r.name}>() == ${btf.sizeOf(target.id)});`,
      ]);
    }
  }

  // global-data sections: a packed struct each, and where they lie in the object
  const secs = info.datasecs.map((d) => {
    const name = camel(d.ident);
    const sec = info.elf.section(d.section)!;
    const fields: string[] = [];
    const asserts: string[] = [];
    let cursor = 0;
    let pad = 0;
    const before: string[] = [];
    for (const v of d.vars) {
      if (v.offset < cursor) {
        throw new SkelError(`${opts.file}: variables overlap in ${d.section} at ${v.name}`);
      }
      if (v.offset > cursor) {
        fields.push(`    pub __pad${pad++}: [u8; ${v.offset - cursor}],`);
        before.push(`[u8; ${v.offset - cursor}]`);
      }
      const ty = em.type(v.type, `${name}__${v.name}`);
      fields.push(`    pub ${v.name}: ${ty},`);
      const sum = before.length ? before.map((t) => `size_of::<${t}>()`).join(" + ") : "0";
      asserts.push(`const _: () = assert!(${sum} == ${v.offset}); // offset of ${v.name}`);
      asserts.push(`const _: () = assert!(size_of::<${ty}>() == ${v.size}); // size of ${v.name}`);
      before.push(ty);
      cursor = v.offset + v.size;
    }
    if (d.size > cursor) fields.push(`    pub __pad${pad++}: [u8; ${d.size - cursor}],`);
    const patchable = sec.type === SHT_PROGBITS;
    return { d, name, fields, asserts, offset: patchable ? sec.offset : 0, patchable };
  });

  const L: string[] = [];
  L.push(`// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)`);
  L.push(`// Skeleton of ${base} for Rust wasm-bpf guests.`);
  L.push(
    `// Generated by scripts/skel.ts --lang rust${
      opts.types?.length ? ` --types ${opts.types.join(" ")}` : ""
    }: do not edit.`,
  );
  L.push(`// Needs \`mod libbpf_wasm;\` (wasm-include/libbpf_wasm.rs) at the crate root.`);
  L.push(`#![allow(dead_code, non_camel_case_types, non_snake_case, non_upper_case_globals)]`);
  L.push("");
  L.push(`use crate::libbpf_wasm::{Error, Object};`);
  L.push(`use std::mem::size_of;`);
  L.push("");
  if (em.items.length) {
    L.push(`// ---- shared types, laid out exactly as the BPF side sees them ----`);
    L.push("");
    for (const it of em.items) L.push(...it, "");
    if (em.usesBitfields) L.push(...BITFIELD_HELPERS, "");
  }
  for (const s of secs) {
    L.push(`/// ${s.d.section} of the object (${s.d.size} bytes).`);
    L.push(`#[repr(C, packed)]`);
    L.push(`#[derive(Clone, Copy)]`);
    L.push(`pub struct ${s.name} {`);
    L.push(...s.fields);
    L.push(`}`);
    L.push(`const _: () = assert!(size_of::<${s.name}>() == ${s.d.size});`);
    L.push(...s.asserts);
    L.push("");
  }
  L.push(`/// Names of the programs (attached by [\`Loaded::attach\`]), in section order.`);
  L.push(`pub const PROGRAMS: [&str; ${info.progs.length}] = [`);
  for (const p of info.progs) L.push(`    "${p.name}", // SEC("${p.section}")`);
  L.push(`];`);
  L.push(`/// Names of the maps, as libbpf knows them.`);
  L.push(`pub const MAPS: [&str; ${info.maps.length}] = [`);
  for (const m of info.maps) L.push(`    "${m.name}",`);
  L.push(`];`);
  L.push(`/// File offsets of .rodata and .bss in the object (0: none).`);
  L.push(`pub const RODATA_OFFSET: usize = ${info.rodataOffset};`);
  L.push(`pub const BSS_OFFSET: usize = ${info.bssOffset};`);
  L.push(`/// The BPF object (${bytes.length} bytes).`);
  L.push(`pub static OBJECT: [u8; ${bytes.length}] = [`);
  for (let i = 0; i < bytes.length; i += 16) {
    L.push(`    ${Array.from(bytes.subarray(i, i + 16), (b) => `${b}`).join(", ")},`);
  }
  L.push(`];`);
  L.push("");
  L.push(`/// ${obj} before load: a copy of the object whose global data can be set.`);
  L.push(`pub struct Skel {`);
  L.push(`    data: Vec<u8>,`);
  L.push(`}`);
  L.push("");
  L.push(`impl Skel {`);
  L.push(`    pub fn open() -> Skel {`);
  L.push(`        Skel { data: OBJECT.to_vec() }`);
  L.push(`    }`);
  for (const s of secs.filter((s) => s.patchable)) {
    const fn = s.d.ident;
    L.push("");
    L.push(
      `    /// ${s.d.section}, in the object's bytes: set its variables before [\`Skel::load\`].`,
    );
    L.push(`    pub fn ${fn}(&mut self) -> &mut ${s.name} {`);
    L.push(`        let bytes = &mut self.data[${s.offset}..${s.offset + s.d.size}];`);
    L.push(`        // packed: alignment 1, and the size is asserted above`);
    L.push(`        unsafe { &mut *(bytes.as_mut_ptr() as *mut ${s.name}) }`);
    L.push(`    }`);
    for (const v of s.d.vars) {
      const ty = em.type(v.type, `${s.name}__${v.name}`);
      L.push(`    pub fn set_${v.name}(&mut self, v: ${ty}) {`);
      L.push(`        self.${fn}().${v.name} = v;`);
      L.push(`    }`);
    }
  }
  L.push("");
  L.push(`    /// The object's bytes as they will be loaded.`);
  L.push(`    pub fn bytes(&self) -> &[u8] {`);
  L.push(`        &self.data`);
  L.push(`    }`);
  L.push("");
  L.push(`    /// Load into the kernel (verifier, CO-RE).`);
  L.push(`    pub fn load(self) -> Result<Loaded, Error> {`);
  L.push(`        Ok(Loaded { obj: Object::load(&self.data)? })`);
  L.push(`    }`);
  L.push(`}`);
  L.push("");
  L.push(`/// ${obj} loaded. Dropping it closes the object and detaches its programs.`);
  L.push(`pub struct Loaded {`);
  L.push(`    pub obj: Object,`);
  L.push(`}`);
  L.push("");
  L.push(`impl Loaded {`);
  L.push(`    /// Attach every program from its ELF section.`);
  L.push(`    pub fn attach(&self) -> Result<(), Error> {`);
  L.push(`        self.obj.attach_all(&PROGRAMS)`);
  L.push(`    }`);
  L.push(`}`);
  return L.join("\n") + "\n";
}
