/**
 * Checks of an object's `.BTF` and `.BTF.ext` sections, and of the map definitions they
 * describe, before libbpf 1.1 parses them (used by object_check.ts).
 *
 * libbpf 1.1 trusts the type graph: a type id out of range makes it dereference NULL; a cycle
 * of typedefs or modifiers makes `skip_mods_and_typedefs` spin forever inside
 * `bpf_object__open_mem`; a struct or array that contains itself recurses without end; a
 * `BPF_MAP_TYPE_STRUCT_OPS` map without its `.struct_ops` data dereferences NULL in
 * `bpf_object__load`. Later libbpf releases validate some of this (1.3's `btf_validate_type`).
 * So this checks, on the bytes:
 *
 * - layout: header, type and string sections in range, every type of a kind libbpf 1.1 knows;
 * - references: every type id and string offset in range, and every reference to a kind that
 *   can stand there (a variable's type is data, never a function; a function's type is a
 *   prototype; a section lists variables and functions...);
 * - the graph: C can only build a recursive type through a pointer *and* a struct or union
 *   (`struct s { struct s *next; }`), and those are the only cycles libbpf's loops survive. So a
 *   cycle with no pointer edge (libbpf resolves every other edge eagerly), or one that does not
 *   pass through a struct or union (a pointer chain with no end), is refused, and so is a chain
 *   of eagerly resolved edges deeper than {@link MAX_RESOLVE_DEPTH};
 * - `.BTF.ext`: every record in range, its type ids naming what they must (func_info a FUNC);
 * - maps: in `.maps`, no struct_ops map, sizes bounded (one map at most {@link MAX_MAP_BYTES},
 *   a per-CPU map at most {@link MAX_PERCPU_ENTRIES} entries).
 *
 * Every failure throws {@link ObjectRefusal} with a one-line reason.
 */

import {
  BTF_HEADER_BYTES,
  BTF_MAGIC,
  BTF_TYPE_HEAD_BYTES,
  BtfKind as K,
  btfKindName,
  btfTypeBytes,
  type BtfTypeHead,
  readBtfHeader,
  readBtfTypeHead,
} from "../format/btf.ts";
import { ByteReader } from "../format/elf.ts";

/** One decoder for every name: constructing a TextDecoder costs more than a short decode. */
const decoder = new TextDecoder();

/** A reason to refuse an object (a malformed or unsupported one), as one line. */
export class ObjectRefusal extends Error {}

/** Throws an {@link ObjectRefusal}. */
export function refuse(why: string): never {
  throw new ObjectRefusal(why);
}

/** How deep a chain of eagerly resolved references may go (libbpf 1.1 resolves sizes to 32
 * levels and recurses through structs on the stack; clang's objects stay far below). */
export const MAX_RESOLVE_DEPTH = 64;
/** The most memory one map may ask for: key + value, times its entries. */
export const MAX_MAP_BYTES = 1 << 30;
/** The most entries a per-CPU map may have (each is allocated once per CPU). */
export const MAX_PERCPU_ENTRIES = 1 << 20;

// BPF map types this check must know by number (linux/bpf.h).
const MAP_PERCPU_HASH = 5;
const MAP_PERCPU_ARRAY = 6;
const MAP_LRU_PERCPU_HASH = 10;
const MAP_STRUCT_OPS = 26;
const MAP_PERCPU_CGROUP_STORAGE = 21;
// Hash maps allocate an element header per entry besides the key and value (struct htab_elem,
// with its list node and hash; 48 bytes on x86-64, taken as 64 with slack).
const HASH_MAPS = new Set([1, MAP_PERCPU_HASH, 9, MAP_LRU_PERCPU_HASH, 13]);
const HASH_ENTRY_OVERHEAD = 64;
const PERCPU_MAPS = new Set([
  MAP_PERCPU_HASH,
  MAP_PERCPU_ARRAY,
  MAP_LRU_PERCPU_HASH,
  MAP_PERCPU_CGROUP_STORAGE,
]);

/** One BTF type: its kind, the fields libbpf reads, and where it lies in the type section. */
export interface BtfType extends BtfTypeHead {
  id: number;
  /** Byte offset of the type in the type section. */
  at: number;
}

/** A parsed `.BTF` section: its types (index = id, 0 = void) and its strings. */
export interface Btf {
  types: (BtfType | undefined)[];
  strings: Uint8Array;
  /** The type section. */
  tv: DataView;
}

/** Parses the layout of a `.BTF` section (header, strings, every type's extent). */
export function parseBtf(btf: Uint8Array): Btf {
  if (btf.length < BTF_HEADER_BYTES) refuse(".BTF: shorter than its header");
  const { magic, version, hdrLen, typeOff, typeLen, strOff, strLen } = readBtfHeader(
    new ByteReader(btf, ".BTF"),
  );
  if (magic !== BTF_MAGIC) refuse(".BTF: bad magic (or not little-endian)");
  if (version !== 1) refuse(`.BTF: version ${version}`);
  if (hdrLen < BTF_HEADER_BYTES || hdrLen > btf.length) refuse(".BTF: bad header length");
  const data = btf.subarray(hdrLen);
  if (typeOff % 4 !== 0 || typeOff + typeLen > data.length || strOff + strLen > data.length) {
    refuse(".BTF: type or string section outside the section");
  }
  if (strLen === 0 || data[strOff] !== 0 || data[strOff + strLen - 1] !== 0) {
    refuse(".BTF: malformed string section");
  }
  const tr = new ByteReader(data.subarray(typeOff, typeOff + typeLen), ".BTF types");
  const types: (BtfType | undefined)[] = [undefined];
  for (let o = 0; o < typeLen;) {
    if (o + BTF_TYPE_HEAD_BYTES > typeLen) refuse(".BTF: truncated type");
    const head = readBtfTypeHead(tr, o);
    const size = btfTypeBytes(head.kind, head.vlen);
    if (size === undefined || head.kind === K.VOID) {
      refuse(`.BTF: type ${types.length} has a kind libbpf 1.1 does not know (${head.kind})`);
    }
    if (o + size > typeLen) refuse(".BTF: truncated type");
    types.push({ id: types.length, ...head, at: o });
    o += size;
  }
  return { types, strings: data.subarray(strOff, strOff + strLen), tv: tr.dv };
}

/** The string at `off` of the BTF string section (checked to be in range). */
export function btfString(btf: Btf, off: number, what: string): string {
  checkStringOffset(btf, off, what);
  const end = btf.strings.indexOf(0, off);
  return decoder.decode(btf.strings.subarray(off, end));
}

/** Refuses a string offset outside the string section. Enough for a name nobody reads: the
 * section ends with a NUL (parseBtf checks it), so every offset in it starts a C string, and
 * decoding each of an object's thousands of names cost a cold start milliseconds. */
function checkStringOffset(btf: Btf, off: number, what: string): void {
  if (off >= btf.strings.length) {
    refuse(`${what.startsWith(".BTF") ? "" : ".BTF: "}${what}: string offset out of range`);
  }
}

/** The type ids a type refers to, with whether each edge is a pointer's (resolved lazily). */
function refsOf(btf: Btf, t: BtfType): { to: number; role: string }[] {
  const m = t.at + 12;
  const u32 = (o: number) => btf.tv.getUint32(o, true);
  switch (t.kind) {
    case K.PTR:
      return [{ to: t.sizeOrType, role: "pointer" }];
    case K.TYPEDEF:
    case K.VOLATILE:
    case K.CONST:
    case K.RESTRICT:
    case K.TYPE_TAG:
      return [{ to: t.sizeOrType, role: "modifier" }];
    case K.VAR:
      return [{ to: t.sizeOrType, role: "variable" }];
    case K.DECL_TAG:
      return [{ to: t.sizeOrType, role: "tag" }];
    case K.FUNC:
      return [{ to: t.sizeOrType, role: "function" }];
    case K.ARRAY:
      return [{ to: u32(m), role: "element" }, { to: u32(m + 4), role: "index" }];
    case K.STRUCT:
    case K.UNION:
      return Array.from(
        { length: t.vlen },
        (_, j) => ({ to: u32(m + 12 * j + 4), role: "member" }),
      );
    case K.FUNC_PROTO:
      return [
        { to: t.sizeOrType, role: "return" },
        ...Array.from({ length: t.vlen }, (_, j) => ({ to: u32(m + 8 * j + 4), role: "param" })),
      ];
    case K.DATASEC:
      return Array.from({ length: t.vlen }, (_, j) => ({ to: u32(m + 12 * j), role: "entry" }));
  }
  return [];
}

// What may stand at each place a type is referenced (by edge role).
const NOT_DATA = new Set<number>([K.FUNC, K.FUNC_PROTO, K.VAR, K.DATASEC, K.DECL_TAG]);
const VOID = 0;

function placementError(role: string, target: BtfType | undefined, t: BtfType): string | null {
  const k = target ? target.kind : VOID;
  switch (role) {
    case "pointer":
    case "modifier":
      // void and function prototypes are fine behind a pointer, typedef or modifier
      return k !== VOID && k !== K.FUNC_PROTO && NOT_DATA.has(k) ? "data" : null;
    case "variable":
    case "element":
    case "member":
      return k === VOID || NOT_DATA.has(k) ? "data" : null;
    case "index":
      return NOT_DATA.has(k) ? "data" : null;
    case "function":
      return k === K.FUNC_PROTO ? null : "a function prototype";
    case "return":
      return k !== VOID && NOT_DATA.has(k) ? "data" : null;
    case "param":
      return k === VOID && t.kind === K.FUNC_PROTO ? null : NOT_DATA.has(k) ? "data" : null;
    case "entry":
      return k === K.VAR || k === K.FUNC ? null : "a variable or function";
    case "tag":
      return k === VOID || k === K.DECL_TAG || k === K.DATASEC ? "a declaration" : null;
  }
  return null;
}

/** Checks a parsed `.BTF`: names, references, placement, cycles and depth. */
export function checkBtfTypes(btf: Btf): void {
  const n = btf.types.length;
  const refs: { to: number; role: string }[][] = [[]];
  for (let id = 1; id < n; id++) {
    const t = btf.types[id]!;
    const what = `type ${id} (${btfKindName(t.kind)})`;
    checkStringOffset(btf, t.nameOff, what);
    checkScalar(btf, t, what);
    const r = refsOf(btf, t);
    for (const { to, role } of r) {
      if (to >= n) refuse(`.BTF: ${what}: type id ${to} out of range (${n - 1} types)`);
      const bad = placementError(role, btf.types[to], t);
      if (bad) {
        const target = to === 0 ? "void" : `type ${to} (${btfKindName(btf.types[to]!.kind)})`;
        refuse(`.BTF: ${what}: its ${role} is ${target}, where libbpf expects ${bad}`);
      }
    }
    refs.push(r);
  }
  // C builds recursive types only through a pointer to a struct or union. So: no cycle without
  // a pointer edge (every other edge is resolved eagerly), and no cycle without a struct/union.
  const eager = (id: number) => refs[id].filter((e) => e.role !== "pointer").map((e) => e.to);
  const noAggregate = (id: number) => {
    const k = btf.types[id]?.kind;
    return k === K.STRUCT || k === K.UNION ? [] : refs[id].map((e) => e.to);
  };
  const depth = walkAcyclic(n, eager, "a reference cycle");
  walkAcyclic(n, noAggregate, "a pointer cycle through no struct or union");
  const deepest = depth.reduce((a, b) => Math.max(a, b), 0);
  if (deepest > MAX_RESOLVE_DEPTH) {
    refuse(`.BTF: a chain of ${deepest} type references, more than ${MAX_RESOLVE_DEPTH}`);
  }
}

/** Size fields libbpf divides by or trusts. */
function checkScalar(btf: Btf, t: BtfType, what: string): void {
  const size = t.sizeOrType;
  switch (t.kind) {
    case K.INT: {
      const enc = btf.tv.getUint32(t.at + 12, true);
      const bits = enc & 0xff;
      const offset = (enc >>> 16) & 0xff;
      if (![1, 2, 4, 8, 16].includes(size) || bits === 0 || offset + bits > size * 8) {
        refuse(`.BTF: ${what}: malformed integer (size ${size}, ${bits} bits at ${offset})`);
      }
      break;
    }
    case K.FLOAT:
      if (![2, 4, 8, 12, 16].includes(size)) refuse(`.BTF: ${what}: float of size ${size}`);
      break;
    case K.ENUM:
    case K.ENUM64: {
      if (![1, 2, 4, 8].includes(size)) refuse(`.BTF: ${what}: enum of size ${size}`);
      const rec = t.kind === K.ENUM ? 8 : 12;
      for (let j = 0; j < t.vlen; j++) {
        checkStringOffset(btf, btf.tv.getUint32(t.at + 12 + rec * j, true), what);
      }
      break;
    }
    case K.STRUCT:
    case K.UNION:
      for (let j = 0; j < t.vlen; j++) {
        checkStringOffset(btf, btf.tv.getUint32(t.at + 12 + 12 * j, true), what);
      }
      break;
    case K.FUNC_PROTO:
      for (let j = 0; j < t.vlen; j++) {
        checkStringOffset(btf, btf.tv.getUint32(t.at + 12 + 8 * j, true), what);
        const type = btf.tv.getUint32(t.at + 12 + 8 * j + 4, true);
        if (type === 0 && j !== t.vlen - 1) {
          refuse(`.BTF: ${what}: a void parameter before the last`);
        }
      }
      break;
    case K.DECL_TAG: {
      const idx = btf.tv.getInt32(t.at + 12, true);
      const target = btf.types[t.sizeOrType];
      if (idx < -1) refuse(`.BTF: ${what}: component index ${idx}`);
      if (idx >= 0 && target) {
        const proto = target.kind === K.FUNC ? btf.types[target.sizeOrType] : target;
        if (
          !proto ||
          ![K.STRUCT, K.UNION, K.FUNC_PROTO].includes(proto.kind) ||
          idx >= proto.vlen
        ) refuse(`.BTF: ${what}: component index ${idx} out of range`);
      }
      break;
    }
  }
}

/** Iterative DFS with colours over `edges`: refuses a cycle; returns each type's depth (the
 * longest chain of edges below it). */
function walkAcyclic(n: number, edges: (id: number) => number[], cycle: string): number[] {
  const WHITE = 0, GREY = 1, BLACK = 2;
  const colour = new Uint8Array(n);
  const depth = new Array<number>(n).fill(0);
  for (let root = 1; root < n; root++) {
    if (colour[root] !== WHITE) continue;
    const stack: { id: number; next: number[]; i: number }[] = [
      { id: root, next: edges(root), i: 0 },
    ];
    colour[root] = GREY;
    while (stack.length) {
      const top = stack[stack.length - 1];
      if (top.i < top.next.length) {
        const to = top.next[top.i++];
        if (to === 0) continue;
        if (colour[to] === GREY) refuse(`.BTF: ${cycle} (at type ${to})`);
        if (colour[to] === WHITE) {
          colour[to] = GREY;
          stack.push({ id: to, next: edges(to), i: 0 });
        }
        continue;
      }
      colour[top.id] = BLACK;
      depth[top.id] = top.next.reduce((d, to) => Math.max(d, to === 0 ? 1 : depth[to] + 1), 0);
      stack.pop();
    }
  }
  return depth;
}

/** Skips typedefs and modifiers (bounded: the graph is checked acyclic first). */
function skipMods(btf: Btf, id: number): BtfType | undefined {
  let t = btf.types[id];
  while (
    t &&
    [K.TYPEDEF, K.VOLATILE, K.CONST, K.RESTRICT, K.TYPE_TAG].includes(t.kind)
  ) t = btf.types[t.sizeOrType];
  return t;
}

/** The size of a type as libbpf's btf__resolve_size computes it; Infinity past 2^53. */
export function resolveSize(btf: Btf, id: number): number {
  let t = btf.types[id];
  let mult = 1;
  for (let guard = 0; t && guard <= MAX_RESOLVE_DEPTH; guard++) {
    switch (t.kind) {
      case K.INT:
      case K.STRUCT:
      case K.UNION:
      case K.ENUM:
      case K.ENUM64:
      case K.FLOAT:
      case K.DATASEC:
        return mult * t.sizeOrType;
      case K.PTR:
        return mult * 8;
      case K.ARRAY:
        mult *= btf.tv.getUint32(t.at + 12 + 8, true);
        if (mult > Number.MAX_SAFE_INTEGER) return Infinity;
        t = btf.types[btf.tv.getUint32(t.at + 12, true)];
        break;
      case K.TYPEDEF:
      case K.VOLATILE:
      case K.CONST:
      case K.RESTRICT:
      case K.TYPE_TAG:
      case K.VAR:
        t = btf.types[t.sizeOrType];
        break;
      default:
        return 0;
    }
  }
  return 0;
}

/** A map definition as libbpf reads it from `.maps` (only the fields this check bounds). */
interface MapDef {
  type?: number;
  maxEntries?: number;
  keySize: number;
  valueSize: number;
  inner?: BtfType;
}

/** `__uint(name, N)` is `int (*name)[N]`: N, or undefined when the member is not that shape. */
function uintMember(btf: Btf, typeId: number): number | undefined {
  const ptr = skipMods(btf, typeId);
  if (ptr?.kind !== K.PTR) return undefined;
  const arr = skipMods(btf, ptr.sizeOrType);
  if (arr?.kind !== K.ARRAY) return undefined;
  return btf.tv.getUint32(arr.at + 12 + 8, true);
}

function parseMapDef(btf: Btf, def: BtfType): MapDef {
  const out: MapDef = { keySize: 0, valueSize: 0 };
  for (let j = 0; j < def.vlen; j++) {
    const name = btfString(btf, btf.tv.getUint32(def.at + 12 + 12 * j, true), "map member");
    const type = btf.tv.getUint32(def.at + 12 + 12 * j + 4, true);
    switch (name) {
      case "type":
        out.type = uintMember(btf, type);
        break;
      case "max_entries":
        out.maxEntries = uintMember(btf, type);
        break;
      case "key_size":
        out.keySize = uintMember(btf, type) ?? 0;
        break;
      case "value_size":
        out.valueSize = uintMember(btf, type) ?? 0;
        break;
      case "key":
      case "value": {
        const ptr = skipMods(btf, type);
        const size = ptr?.kind === K.PTR ? resolveSize(btf, ptr.sizeOrType) : 0;
        if (name === "key") out.keySize = size;
        else out.valueSize = size;
        break;
      }
      case "values": {
        // map-in-map: `values` is an array of pointers to the inner map's definition
        const arr = skipMods(btf, type);
        const ptr = arr?.kind === K.ARRAY
          ? skipMods(btf, btf.tv.getUint32(arr.at + 12, true))
          : undefined;
        const inner = ptr?.kind === K.PTR ? skipMods(btf, ptr.sizeOrType) : undefined;
        if (inner?.kind === K.STRUCT) out.inner = inner;
        break;
      }
    }
  }
  return out;
}

function checkMapDef(btf: Btf, def: MapDef, what: string): void {
  if (def.type === MAP_STRUCT_OPS) {
    refuse(`${what}: struct_ops maps are not supported (libbpf 1.1 crashes on them)`);
  }
  const entries = def.maxEntries ?? 0;
  if (def.keySize > MAX_MAP_BYTES || def.valueSize > MAX_MAP_BYTES) {
    refuse(`${what}: key or value size above ${MAX_MAP_BYTES} bytes`);
  }
  if (def.type !== undefined && PERCPU_MAPS.has(def.type) && entries > MAX_PERCPU_ENTRIES) {
    refuse(`${what}: a per-CPU map of ${entries} entries, more than ${MAX_PERCPU_ENTRIES}`);
  }
  // what the kernel allocates up front (hash maps preallocate every element)
  const round8 = (n: number) => Math.ceil(n / 8) * 8;
  const overhead = def.type !== undefined && HASH_MAPS.has(def.type) ? HASH_ENTRY_OVERHEAD : 0;
  const bytes = (round8(def.keySize) + round8(def.valueSize) + overhead) * entries;
  if (bytes > MAX_MAP_BYTES) {
    refuse(
      `${what}: ${entries} entries of ${def.keySize}+${def.valueSize} bytes, more than ` +
        `${MAX_MAP_BYTES} bytes`,
    );
  }
  if (def.inner) checkMapDef(btf, parseMapDef(btf, def.inner), `${what} (inner map)`);
}

/** Checks the map definitions of the `.maps` section, and refuses struct_ops data sections. */
export function checkBtfMaps(btf: Btf): void {
  for (const t of btf.types) {
    if (t?.kind !== K.DATASEC) continue;
    const sec = btfString(btf, t.nameOff, `type ${t.id}`);
    if (sec.startsWith(".struct_ops")) {
      refuse(`.BTF: a ${sec} section: struct_ops is not supported (libbpf 1.1 crashes on it)`);
    }
    if (sec !== ".maps") continue;
    for (let j = 0; j < t.vlen; j++) {
      const v = btf.types[btf.tv.getUint32(t.at + 12 + 12 * j, true)];
      if (v?.kind !== K.VAR) continue;
      const name = btfString(btf, v.nameOff, `type ${v.id}`);
      const def = skipMods(btf, v.sizeOrType);
      if (def?.kind !== K.STRUCT) continue; // libbpf refuses it with a message
      checkMapDef(btf, parseMapDef(btf, def), `map ${JSON.stringify(name)}`);
    }
  }
}

/** Checks a `.BTF.ext` section: layout, and every record against the BTF and the sections. */
export function checkBtfExt(ext: Uint8Array, btf: Btf, sectionSizes: Map<string, number>): void {
  if (ext.length < 8) refuse(".BTF.ext: shorter than its header");
  const { dv } = new ByteReader(ext, ".BTF.ext");
  if (dv.getUint16(0, true) !== BTF_MAGIC) refuse(".BTF.ext: bad magic");
  const hdrLen = dv.getUint32(4, true);
  if (hdrLen < 24 || hdrLen > ext.length) refuse(".BTF.ext: bad header length");
  const data = ext.subarray(hdrLen);
  // func_info, line_info and (when the header is long enough) core_relo: offset, length
  const parts: [string, number, number][] = [["func_info", 8, 8], ["line_info", 16, 16]];
  if (hdrLen >= 32) parts.push(["core_relo", 24, 16]);
  const nTypes = btf.types.length;
  for (const [name, at, minRec] of parts) {
    const off = dv.getUint32(at, true);
    const len = dv.getUint32(at + 4, true);
    if (len === 0) continue;
    if (off % 4 !== 0 || off + len > data.length) refuse(`.BTF.ext: ${name} outside the section`);
    const pv = new DataView(data.buffer, data.byteOffset + off, len);
    if (len < 4) refuse(`.BTF.ext: ${name} truncated`);
    const recSize = pv.getUint32(0, true);
    if (recSize < minRec || recSize % 4 !== 0 || recSize > 256) {
      refuse(`.BTF.ext: ${name} record size ${recSize}`);
    }
    const seen = new Set<string>();
    for (let o = 4; o < len;) {
      if (o + 8 > len) refuse(`.BTF.ext: ${name} truncated`);
      const sec = btfString(btf, pv.getUint32(o, true), `.BTF.ext ${name} section name`);
      const num = pv.getUint32(o + 4, true);
      if (num === 0) refuse(`.BTF.ext: ${name} has an empty section`);
      if (seen.has(sec)) refuse(`.BTF.ext: ${name} lists section ${sec} twice`);
      seen.add(sec);
      const secSize = sectionSizes.get(sec);
      if (secSize === undefined) refuse(`.BTF.ext: ${name} names section ${sec}, which is missing`);
      o += 8;
      if (o + num * recSize > len) refuse(`.BTF.ext: ${name} records outside the section`);
      for (let r = 0; r < num; r++, o += recSize) {
        const insnOff = pv.getUint32(o, true);
        const what = `.BTF.ext: ${name} record ${r} of ${sec}`;
        if (insnOff % 8 !== 0 || insnOff >= secSize) refuse(`${what}: instruction out of range`);
        const a = pv.getUint32(o + 4, true);
        if (name === "func_info") {
          if (a >= nTypes || btf.types[a]?.kind !== K.FUNC) refuse(`${what}: not a function`);
        } else if (name === "line_info") {
          checkStringOffset(btf, a, what);
          checkStringOffset(btf, pv.getUint32(o + 8, true), what);
        } else {
          if (a === 0 || a >= nTypes) refuse(`${what}: type id ${a} out of range`);
          checkStringOffset(btf, pv.getUint32(o + 8, true), what);
          const kind = pv.getUint32(o + 12, true);
          if (kind > 12) refuse(`${what}: relocation kind ${kind}`);
        }
      }
    }
  }
}
