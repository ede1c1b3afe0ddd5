/**
 * The one decoder of the BTF layout (kernel Documentation/bpf/btf.rst): kinds, the `.BTF`
 * header, each type's 12-byte head and the size of its record. A leaf like elf.ts: the
 * load-time BTF check (src/guest/btf_check.ts), the skeleton generator (scripts/skel/btf.ts)
 * and the tests share it; each keeps its own checks and messages.
 */

import type { ByteReader } from "./elf.ts";

/** BTF kinds (linux/btf.h), up to ENUM64 (all that libbpf 1.1 knows). */
export enum BtfKind {
  VOID = 0,
  INT = 1,
  PTR = 2,
  ARRAY = 3,
  STRUCT = 4,
  UNION = 5,
  ENUM = 6,
  FWD = 7,
  TYPEDEF = 8,
  VOLATILE = 9,
  CONST = 10,
  RESTRICT = 11,
  FUNC = 12,
  FUNC_PROTO = 13,
  VAR = 14,
  DATASEC = 15,
  FLOAT = 16,
  DECL_TAG = 17,
  TYPE_TAG = 18,
  ENUM64 = 19,
}

const KIND_NAMES = [
  "void",
  "int",
  "ptr",
  "array",
  "struct",
  "union",
  "enum",
  "fwd",
  "typedef",
  "volatile",
  "const",
  "restrict",
  "func",
  "func_proto",
  "var",
  "datasec",
  "float",
  "decl_tag",
  "type_tag",
  "enum64",
];

/** A kind's name as linux/btf.h spells it, in lower case (`func_proto`). */
export function btfKindName(k: number): string {
  return KIND_NAMES[k] ?? `kind ${k}`;
}

/** The `.BTF` magic, and what a big-endian BTF's magic reads as. */
export const BTF_MAGIC = 0xeb9f, BTF_MAGIC_SWAPPED = 0x9feb;
/** Bytes of the `.BTF` header (version 1), and of a type's head (name_off, info, size/type)
 * before its kind's extra data. */
export const BTF_HEADER_BYTES = 24, BTF_TYPE_HEAD_BYTES = 12;
/** The encoding bits of a BTF_KIND_INT. */
export const INT_SIGNED = 1, INT_CHAR = 2, INT_BOOL = 4;

/** The `.BTF` header; the offsets are relative to the end of the header (`hdrLen`). */
export interface BtfHeader {
  magic: number;
  version: number;
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
}

/** Reads the header of a `.BTF` section (at least {@link BTF_HEADER_BYTES} bytes). */
export function readBtfHeader(r: ByteReader): BtfHeader {
  return {
    magic: r.u16(0),
    version: r.u8(2),
    hdrLen: r.u32(4),
    typeOff: r.u32(8),
    typeLen: r.u32(12),
    strOff: r.u32(16),
    strLen: r.u32(20),
  };
}

/** A type's head: what every kind has. */
export interface BtfTypeHead {
  nameOff: number;
  kind: BtfKind;
  vlen: number;
  kflag: boolean;
  /** `size` or `type`, by kind. */
  sizeOrType: number;
}

/** Reads the head of the type at `at`. */
export function readBtfTypeHead(r: ByteReader, at: number): BtfTypeHead {
  const nameOff = r.u32(at);
  const info = r.u32(at + 4);
  return {
    nameOff,
    kind: (info >>> 24) & 0x1f,
    vlen: info & 0xffff,
    kflag: (info >>> 31) !== 0,
    sizeOrType: r.u32(at + 8),
  };
}

/** Bytes of a type's head plus its kind's data, by kind; undefined for an unknown kind. */
export function btfTypeBytes(kind: number, vlen: number): number | undefined {
  switch (kind) {
    case BtfKind.INT:
    case BtfKind.VAR:
    case BtfKind.DECL_TAG:
      return 16;
    case BtfKind.ARRAY:
      return 24;
    case BtfKind.STRUCT:
    case BtfKind.UNION:
    case BtfKind.DATASEC:
    case BtfKind.ENUM64:
      return 12 + 12 * vlen;
    case BtfKind.ENUM:
    case BtfKind.FUNC_PROTO:
      return 12 + 8 * vlen;
    case BtfKind.PTR:
    case BtfKind.FWD:
    case BtfKind.TYPEDEF:
    case BtfKind.VOLATILE:
    case BtfKind.CONST:
    case BtfKind.RESTRICT:
    case BtfKind.FUNC:
    case BtfKind.FLOAT:
    case BtfKind.TYPE_TAG:
      return 12;
  }
  return undefined;
}
