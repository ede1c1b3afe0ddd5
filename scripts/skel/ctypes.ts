// Layout-exact C declarations of BTF types, for a wasm32 guest that shares memory layouts with
// 64-bit BPF code: every struct/union is `packed` with explicit padding (`char __padN[k]` for
// bytes, unnamed bitfields for bits), pointers become uint64_t, `long` becomes int64_t, and
// sizes are pinned by _Static_assert. The result has the same layout for the bpf target and
// for wasm32 (and any other little-endian target clang supports).

import {
  type Btf,
  type BtfType,
  INT_BOOL,
  INT_CHAR,
  INT_SIGNED,
  Kind,
  kindName,
  type Member,
} from "./btf.ts";
import { SkelError } from "./elf.ts";

const PACKED = "__attribute__((packed))";

/** C integer type names whose size is the same on the bpf target and on wasm32. */
const PORTABLE_INT_NAMES = new Map<string, number>([
  ["char", 1],
  ["signed char", 1],
  ["unsigned char", 1],
  ["short", 2],
  ["short int", 2],
  ["unsigned short", 2],
  ["short unsigned int", 2],
  ["int", 4],
  ["unsigned int", 4],
  ["long long", 8],
  ["long long int", 8],
  ["unsigned long long", 8],
  ["long long unsigned int", 8],
]);

function sizedInt(size: number, signed: boolean): string {
  switch (size) {
    case 1:
    case 2:
    case 4:
    case 8:
      return `${signed ? "" : "u"}int${size * 8}_t`;
    case 16:
      return signed ? "__int128" : "unsigned __int128";
    default:
      throw new SkelError(`no C integer type of ${size} bytes`);
  }
}

export interface EmitOptions {
  /** Struct/union/enum type ids that have their own top-level definition (referenced by name). */
  named: Set<number>;
}

/** Emits C for BTF types. Pad counters are per record, so output is deterministic. */
export class CEmitter {
  constructor(readonly btf: Btf, readonly opts: EmitOptions) {}

  /** The C spelling of an integer/enum type, for a (bitfield) member or a variable. */
  scalar(t: BtfType): string {
    if (t.kind === Kind.INT) {
      const enc = t.intEncoding ?? 0;
      if (enc & INT_BOOL && t.sizeOrType === 1) return "_Bool";
      const portable = PORTABLE_INT_NAMES.get(t.name);
      if (portable === t.sizeOrType) return t.name === "short" ? "short" : t.name;
      if (enc & INT_CHAR && t.sizeOrType === 1) return "char";
      return sizedInt(t.sizeOrType, (enc & INT_SIGNED) !== 0);
    }
    if (t.kind === Kind.ENUM || t.kind === Kind.ENUM64) {
      if (t.name && t.kind === Kind.ENUM && t.sizeOrType === 4 && this.opts.named.has(t.id)) {
        return `enum ${t.name}`;
      }
      const signed = !t.kindFlag && (t.values ?? []).some((v) => v.value < 0n);
      return sizedInt(t.sizeOrType, signed);
    }
    throw new SkelError(`type ${t.id} (${kindName(t.kind)}) is not an integer`);
  }

  /**
   * A declaration `TYPE name[dims]` of a member or variable of BTF type `id`, as lines
   * (more than one when an anonymous struct is written inline), indented by `indent`.
   */
  decl(id: number, name: string, indent: string): string[] {
    const dims: number[] = [];
    let t = this.btf.resolve(id);
    while (t.kind === Kind.ARRAY) {
      dims.push(t.array!.nelems);
      t = this.btf.resolve(t.array!.type);
    }
    const suffix = (name ? ` ${name}` : "") + dims.map((d) => `[${d}]`).join("");
    switch (t.kind) {
      case Kind.INT:
      case Kind.ENUM:
      case Kind.ENUM64:
        if (t.kind === Kind.INT && t.sizeOrType > 16) {
          return [`${indent}unsigned char${suffix}[${t.sizeOrType}];`];
        }
        return [`${indent}${this.scalar(t)}${suffix};`];
      case Kind.PTR:
        return [`${indent}uint64_t${suffix}; /* pointer */`];
      case Kind.FLOAT:
        if (t.sizeOrType === 4) return [`${indent}float${suffix};`];
        if (t.sizeOrType === 8) return [`${indent}double${suffix};`];
        return [`${indent}unsigned char${suffix}[${t.sizeOrType}]; /* ${t.name} */`];
      case Kind.STRUCT:
      case Kind.UNION: {
        const kw = t.kind === Kind.STRUCT ? "struct" : "union";
        if (t.name && name && this.opts.named.has(t.id)) {
          return [`${indent}${kw} ${t.name}${suffix};`];
        }
        const body = this.body(t, indent + "    ");
        return [`${indent}${kw} {`, ...body, `${indent}} ${PACKED}${suffix};`];
      }
      case Kind.VOID:
      case Kind.FWD:
      case Kind.FUNC_PROTO:
      default:
        throw new SkelError(
          `${name || "a member"}: type ${t.id} (${kindName(t.kind)} ${t.name}) has no layout`,
        );
    }
  }

  /** The members of a struct/union as packed, explicitly padded lines. */
  body(t: BtfType, indent: string): string[] {
    const out: string[] = [];
    let pad = 0;
    const size = t.sizeOrType;
    if (t.kind === Kind.UNION) {
      let max = 0;
      for (const m of t.members!) {
        const bits = this.bitSize(m);
        if (bits) {
          out.push(`${indent}${this.bitfieldType(m.type, bits)} ${m.name} : ${bits};`);
          max = Math.max(max, Math.ceil(bits / 8));
        } else {
          out.push(...this.decl(m.type, m.name, indent));
          max = Math.max(max, this.btf.sizeOf(m.type));
        }
      }
      if (max < size) out.push(`${indent}char __pad${pad++}[${size}];`);
      return out;
    }
    let cursor = 0; // in bits
    const padTo = (target: number) => {
      if (cursor % 8 && target > cursor) {
        const n = Math.min(8 - (cursor % 8), target - cursor);
        out.push(`${indent}unsigned char : ${n};`);
        cursor += n;
      }
      const bytes = Math.floor((target - cursor) / 8);
      if (bytes > 0) {
        out.push(`${indent}char __pad${pad++}[${bytes}];`);
        cursor += bytes * 8;
      }
      if (target > cursor) {
        out.push(`${indent}unsigned char : ${target - cursor};`);
        cursor = target;
      }
    };
    for (const m of t.members!) {
      if (m.bitOffset < cursor) {
        throw new SkelError(
          `${t.name || "an anonymous struct"}: member ${m.name} overlaps the previous one`,
        );
      }
      const bits = this.bitSize(m);
      if (bits) {
        padTo(m.bitOffset);
        out.push(`${indent}${this.bitfieldType(m.type, bits)} ${m.name} : ${bits};`);
        cursor += bits;
      } else {
        padTo(m.bitOffset);
        out.push(...this.decl(m.type, m.name, indent));
        cursor += this.btf.sizeOf(m.type) * 8;
      }
    }
    if (cursor > size * 8) {
      throw new SkelError(`${t.name || "an anonymous struct"}: members exceed its size`);
    }
    padTo(size * 8);
    return out;
  }

  /** The width of a bitfield member, or 0 for an ordinary member. */
  bitSize(m: Member): number {
    if (m.bitSize) return m.bitSize;
    // BTF without kind_flag encodes a bitfield in the INT type itself
    const t = this.btf.resolve(m.type);
    if (t.kind === Kind.INT && (t.intBits! !== t.sizeOrType * 8 || t.intOffset)) {
      return t.intBits!;
    }
    if (m.bitOffset % 8) {
      throw new SkelError(`member ${m.name} is not byte-aligned and not a bitfield`);
    }
    return 0;
  }

  private bitfieldType(id: number, bits: number): string {
    const t = this.btf.resolve(id);
    if (t.kind !== Kind.INT && t.kind !== Kind.ENUM && t.kind !== Kind.ENUM64) {
      throw new SkelError(`bitfield of non-integer type ${kindName(t.kind)}`);
    }
    const signed = t.kind === Kind.INT
      ? ((t.intEncoding ?? 0) & INT_SIGNED) !== 0
      : !t.kindFlag && (t.values ?? []).some((v) => v.value < 0n);
    const size = Math.max(t.sizeOrType, Math.ceil(bits / 8));
    if (t.kind === Kind.INT && (t.intEncoding ?? 0) & INT_BOOL) return "_Bool";
    return sizedInt(size <= 1 ? 1 : size <= 2 ? 2 : size <= 4 ? 4 : 8, signed);
  }

  /** A top-level definition of a named struct, union or enum, with its assertions. */
  define(t: BtfType): string[] {
    if (t.kind === Kind.ENUM && t.sizeOrType > 4) {
      // clang < 15 describes 64-bit enums as ENUM with the values cut to 32 bits
      return [
        `/* enum ${t.name}: ${t.sizeOrType}-byte enum whose values this object's BTF truncates`,
        ` * (compiled by clang < 15): its constants are not defined here. */`,
      ];
    }
    if (t.kind === Kind.ENUM || t.kind === Kind.ENUM64) {
      const lines = [`enum ${t.name} {`];
      for (const v of t.values!) lines.push(`    ${v.name} = ${enumLiteral(v.value)},`);
      lines.push("};");
      return lines;
    }
    if (t.kind !== Kind.STRUCT && t.kind !== Kind.UNION) {
      throw new SkelError(`${t.name} is a ${kindName(t.kind)}, not a struct, union or enum`);
    }
    const kw = t.kind === Kind.STRUCT ? "struct" : "union";
    const lines = [`${kw} ${t.name} {`, ...this.body(t, "    "), `} ${PACKED};`];
    lines.push(
      `_Static_assert(sizeof(${kw} ${t.name}) == ${t.sizeOrType}, "size of ${kw} ${t.name}");`,
    );
    if (t.kind === Kind.STRUCT) {
      for (const m of t.members!) {
        if (!m.name || this.bitSize(m)) continue;
        lines.push(
          `_Static_assert(__builtin_offsetof(${kw} ${t.name}, ${m.name}) == ${
            m.bitOffset / 8
          }, "offset of ${t.name}.${m.name}");`,
        );
      }
    }
    return lines;
  }

  /**
   * The named structs, unions and enums that `roots` need, dependencies first (by value:
   * pointers don't count, they are uint64_t). Anonymous types are written inline.
   */
  closure(roots: number[]): BtfType[] {
    const order: BtfType[] = [];
    const state = new Map<number, "visiting" | "done">();
    const visit = (id: number, depth: number) => {
      if (depth > 256) throw new SkelError("types nest too deeply");
      const t = this.btf.resolve(id);
      if (t.kind === Kind.ARRAY) return visit(t.array!.type, depth + 1);
      const named = t.name !== "" &&
        (t.kind === Kind.STRUCT || t.kind === Kind.UNION || t.kind === Kind.ENUM ||
          t.kind === Kind.ENUM64);
      if (named) {
        if (state.get(t.id) === "done") return;
        if (state.get(t.id) === "visiting") {
          throw new SkelError(`${t.name} contains itself`);
        }
        state.set(t.id, "visiting");
      }
      for (const m of t.members ?? []) visit(m.type, depth + 1);
      if (named) {
        state.set(t.id, "done");
        order.push(t);
      }
    };
    for (const r of roots) visit(r, 0);
    return order;
  }
}

function enumLiteral(v: bigint): string {
  if (v >= -(2n ** 31n) && v < 2n ** 31n) return v.toString();
  if (v >= 0n && v < 2n ** 32n) return `${v}u`;
  return v < 0n ? `(-${-v - 1n}ll - 1)` : `${v}ull`;
}
