// The skeleton generator's decoding of the .BTF section of a BPF object (kernel
// Documentation/bpf/btf.rst): every type kind up to ENUM64, with names resolved, on the shared
// layout decoder (src/format/btf.ts). Type ids start at 1; id 0 is `void`.

import {
  BTF_HEADER_BYTES,
  BTF_MAGIC,
  BTF_MAGIC_SWAPPED,
  BTF_TYPE_HEAD_BYTES,
  BtfKind as Kind,
  btfKindName as kindName,
  readBtfHeader,
  readBtfTypeHead,
} from "../../src/format/btf.ts";
import { ByteReader } from "../../src/format/elf.ts";
import { SkelError } from "./elf.ts";

export {
  BtfKind as Kind,
  btfKindName as kindName,
  INT_BOOL,
  INT_CHAR,
  INT_SIGNED,
} from "../../src/format/btf.ts";

export interface Member {
  name: string;
  type: number;
  bitOffset: number;
  bitSize: number; // 0: not a bitfield
}

export interface EnumValue {
  name: string;
  value: bigint;
}

export interface VarSecinfo {
  type: number; // a VAR (or FUNC for externs)
  offset: number;
  size: number;
}

export interface BtfType {
  id: number;
  kind: Kind;
  name: string;
  kindFlag: boolean;
  /** size for INT/STRUCT/UNION/ENUM/DATASEC/FLOAT/ENUM64; referenced type id otherwise. */
  sizeOrType: number;
  // kind-specific
  intEncoding?: number;
  intBits?: number;
  intOffset?: number;
  array?: { type: number; indexType: number; nelems: number };
  members?: Member[];
  values?: EnumValue[];
  linkage?: number; // VAR
  vars?: VarSecinfo[]; // DATASEC
  params?: { name: string; type: number }[];
}

export interface Btf {
  types: BtfType[]; // index = id; types[0] is void
  byId(id: number): BtfType;
  /** Skip typedefs and modifiers (const, volatile, restrict, type tags). */
  resolve(id: number): BtfType;
  /** Skip modifiers only (keep typedefs). */
  skipMods(id: number): BtfType;
  /** Size in bytes of a type (after resolution), as the BPF target lays it out. */
  sizeOf(id: number): number;
  /** Alignment in bytes of a type on the BPF target (natural alignment, capped at 8). */
  alignOf(id: number): number;
  findByName(name: string, kinds?: Kind[]): BtfType[];
}

export function parseBtf(data: Uint8Array, what: string): Btf {
  const r = new ByteReader(data, what);
  if (data.length < BTF_HEADER_BYTES) throw new SkelError(`${what} is truncated (no BTF header)`);
  const { magic, hdrLen, typeOff, typeLen, strOff, strLen } = readBtfHeader(r);
  if (magic !== BTF_MAGIC) {
    throw new SkelError(
      magic === BTF_MAGIC_SWAPPED
        ? `${what} is big-endian BTF, not supported`
        : `${what} is corrupt (bad BTF magic)`,
    );
  }
  const tStart = hdrLen + typeOff;
  const sStart = hdrLen + strOff;
  r.check(tStart, typeLen);
  r.check(sStart, strLen);
  const str = (off: number): string => {
    if (off >= strLen) throw new SkelError(`${what} is corrupt (string offset ${off})`);
    return r.cstr(sStart + off, sStart + strLen);
  };

  const types: BtfType[] = [{
    id: 0,
    kind: Kind.VOID,
    name: "void",
    kindFlag: false,
    sizeOrType: 0,
  }];
  let p = tStart;
  const end = tStart + typeLen;
  while (p < end) {
    const id = types.length;
    const { nameOff, kind, vlen, kflag: kindFlag, sizeOrType } = readBtfTypeHead(r, p);
    p += BTF_TYPE_HEAD_BYTES;
    const t: BtfType = { id, kind, name: str(nameOff), kindFlag, sizeOrType };
    switch (kind) {
      case Kind.INT: {
        const v = r.u32(p);
        p += 4;
        t.intEncoding = (v >>> 24) & 0xf;
        t.intOffset = (v >>> 16) & 0xff;
        t.intBits = v & 0xff;
        break;
      }
      case Kind.PTR:
      case Kind.FWD:
      case Kind.TYPEDEF:
      case Kind.VOLATILE:
      case Kind.CONST:
      case Kind.RESTRICT:
      case Kind.FUNC:
      case Kind.FLOAT:
      case Kind.TYPE_TAG:
        break;
      case Kind.ARRAY:
        t.array = { type: r.u32(p), indexType: r.u32(p + 4), nelems: r.u32(p + 8) };
        p += 12;
        break;
      case Kind.STRUCT:
      case Kind.UNION:
        t.members = [];
        for (let i = 0; i < vlen; i++, p += 12) {
          const off = r.u32(p + 8);
          t.members.push({
            name: str(r.u32(p)),
            type: r.u32(p + 4),
            bitOffset: kindFlag ? off & 0xffffff : off,
            bitSize: kindFlag ? off >>> 24 : 0,
          });
        }
        break;
      case Kind.ENUM:
        t.values = [];
        for (let i = 0; i < vlen; i++, p += 8) {
          const raw = r.u32(p + 4);
          // kind_flag set: unsigned values (BTF of newer compilers); else signed 32-bit
          t.values.push({
            name: str(r.u32(p)),
            value: kindFlag ? BigInt(raw) : BigInt(r.i32(p + 4)),
          });
        }
        break;
      case Kind.ENUM64:
        t.values = [];
        for (let i = 0; i < vlen; i++, p += 12) {
          const v = (BigInt(r.u32(p + 8)) << 32n) | BigInt(r.u32(p + 4));
          t.values.push({ name: str(r.u32(p)), value: kindFlag ? v : BigInt.asIntN(64, v) });
        }
        break;
      case Kind.FUNC_PROTO:
        t.params = [];
        for (let i = 0; i < vlen; i++, p += 8) {
          t.params.push({ name: str(r.u32(p)), type: r.u32(p + 4) });
        }
        break;
      case Kind.VAR:
        t.linkage = r.u32(p);
        p += 4;
        break;
      case Kind.DATASEC:
        t.vars = [];
        for (let i = 0; i < vlen; i++, p += 12) {
          t.vars.push({ type: r.u32(p), offset: r.u32(p + 4), size: r.u32(p + 8) });
        }
        break;
      case Kind.DECL_TAG:
        p += 4;
        break;
      default:
        throw new SkelError(`${what}: unknown BTF kind ${kind} (type ${id})`);
    }
    if (p > end) throw new SkelError(`${what} is truncated or corrupt (type ${id})`);
    types.push(t);
  }

  const byId = (id: number): BtfType => {
    const t = types[id];
    if (!t) throw new SkelError(`${what} is corrupt (reference to type ${id})`);
    return t;
  };
  const isMod = (k: Kind) =>
    k === Kind.CONST || k === Kind.VOLATILE || k === Kind.RESTRICT || k === Kind.TYPE_TAG;
  const skipMods = (id: number): BtfType => {
    let t = byId(id);
    for (let n = 0; isMod(t.kind); n++) {
      if (n > 64) throw new SkelError(`${what} is corrupt (modifier loop at ${id})`);
      t = byId(t.sizeOrType);
    }
    return t;
  };
  const resolve = (id: number): BtfType => {
    let t = byId(id);
    for (let n = 0; isMod(t.kind) || t.kind === Kind.TYPEDEF || t.kind === Kind.VAR; n++) {
      if (n > 64) throw new SkelError(`${what} is corrupt (typedef loop at ${id})`);
      t = byId(t.sizeOrType);
    }
    return t;
  };
  const sizeOf = (id: number, depth = 0): number => {
    if (depth > 64) throw new SkelError(`${what} is corrupt (type nesting at ${id})`);
    const t = resolve(id);
    switch (t.kind) {
      case Kind.INT:
      case Kind.STRUCT:
      case Kind.UNION:
      case Kind.ENUM:
      case Kind.ENUM64:
      case Kind.FLOAT:
      case Kind.DATASEC:
        return t.sizeOrType;
      case Kind.PTR:
        return 8;
      case Kind.ARRAY:
        return t.array!.nelems * sizeOf(t.array!.type, depth + 1);
      default:
        throw new SkelError(`type ${t.id} (${kindName(t.kind)} ${t.name}) has no size`);
    }
  };
  const alignOf = (id: number, depth = 0): number => {
    if (depth > 64) throw new SkelError(`${what} is corrupt (type nesting at ${id})`);
    const t = resolve(id);
    switch (t.kind) {
      case Kind.INT:
      case Kind.ENUM:
      case Kind.ENUM64:
      case Kind.FLOAT:
        return Math.min(Math.max(t.sizeOrType, 1), 8);
      case Kind.PTR:
        return 8;
      case Kind.ARRAY:
        return alignOf(t.array!.type, depth + 1);
      case Kind.STRUCT:
      case Kind.UNION: {
        let a = 1;
        for (const m of t.members!) a = Math.max(a, alignOf(m.type, depth + 1));
        return a;
      }
      default:
        return 1;
    }
  };
  return {
    types,
    byId,
    resolve,
    skipMods,
    sizeOf: (id) => sizeOf(id),
    alignOf: (id) => alignOf(id),
    findByName: (name, kinds) =>
      types.filter((t) => t.name === name && (!kinds || kinds.includes(t.kind))),
  };
}
