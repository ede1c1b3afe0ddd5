/**
 * What a module declares before any of its code runs, read from its bytes: the function types
 * of its imports, every memory and table (imported or defined, with their limits), and the
 * WebAssembly proposals it needs beyond those every toolchain emits. The host decides from it,
 * before compiling, what the guest may take (memory_limit.ts) and whether it links
 * (guest_module.ts).
 *
 * Only the sections that declare something are read (types, imports, tables, memories,
 * globals, tags, and the local declarations of each function body); the rest is skipped by
 * its size. What this reader does not know, V8 may not accept either: it is refused.
 */

import { WasmFormatError, WasmReader } from "../format/wasm.ts";

/** Proposals a guest needs a flag for: no wasm-bpf toolchain (clang with wasi-libc, Rust,
 * TinyGo) emits them. */
export const OPTIONAL_WASM_FEATURES = ["gc", "exceptions", "memory64", "multi-memory"] as const;
export type OptionalWasmFeature = typeof OPTIONAL_WASM_FEATURES[number];
/** Proposals this host never runs. */
export type RefusedWasmFeature = "shared-memory";

export interface FuncType {
  kind: "func";
  params: string[];
  results: string[];
}
/** A type of the type section: a function type, or a WasmGC struct or array type. */
export type TypeDef = FuncType | { kind: "struct" | "array" };

/** The limits of a memory (in pages) or a table (in elements). */
export interface Limits {
  /** The flags byte: bit 0 a maximum follows, bit 1 shared, bit 2 64-bit. */
  flags: number;
  initial: bigint;
  maximum?: bigint;
}

export const LIMITS_HAS_MAX = 0x01;
export const LIMITS_SHARED = 0x02;
export const LIMITS_64 = 0x04;

/** A memory or table the module defines: where its entry is, to write new limits. */
export interface DefinedEntry {
  limits: Limits;
  /** Entry bytes before the limits (a table's element type), kept as they are. */
  prefix: Uint8Array;
  /** Entry bytes after the limits (a table's initializer), kept as they are. */
  suffix: Uint8Array;
}

export interface ImportEntry {
  module: string;
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
  /** A function's type, when its index names a function type. */
  type?: FuncType;
  /** A table's or memory's limits. */
  limits?: Limits;
}

/** A section the cap may rewrite: its bounds in the module and its entries. */
export interface DefinedSection {
  start: number;
  end: number;
  entries: DefinedEntry[];
}

export interface ModuleLayout {
  imports: ImportEntry[];
  /** The type of each exported function, by export name. */
  functionExports: Map<string, FuncType | undefined>;
  memorySection?: DefinedSection;
  tableSection?: DefinedSection;
  /** Elements of passive element segments: V8 keeps them as arrays for `table.init`. */
  passiveElements: bigint;
  /** For each proposal the module needs, the first place that needs it. */
  features: Map<OptionalWasmFeature | RefusedWasmFeature, string>;
}

const SECTION = {
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  element: 9,
  code: 10,
  tag: 13,
};

const NUMERIC: Record<number, string> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
  0x70: "funcref",
  0x6f: "externref",
};
/** Shorthand reference types of WasmGC and of exception handling. */
const GC_REFS: Record<number, string> = {
  0x6e: "anyref",
  0x6d: "eqref",
  0x6c: "i31ref",
  0x6b: "structref",
  0x6a: "arrayref",
  0x71: "nullref",
  0x72: "nullexternref",
  0x73: "nullfuncref",
};
const EXN_REFS: Record<number, string> = { 0x69: "exnref", 0x74: "nullexnref" };
const HEAP_TYPES: Record<number, string> = {
  0x70: "func",
  0x6f: "extern",
  0x6e: "any",
  0x6d: "eq",
  0x6c: "i31",
  0x6b: "struct",
  0x6a: "array",
  0x71: "none",
  0x72: "noextern",
  0x73: "nofunc",
  0x69: "exn",
  0x74: "noexn",
};

/** Reads the layout of a module (its first 8 bytes, "\0asm" and the version, are the
 * caller's to check). Throws WasmFormatError. */
export function readLayout(bytes: Uint8Array): ModuleLayout {
  const layout: ModuleLayout = {
    imports: [],
    functionExports: new Map(),
    passiveElements: 0n,
    features: new Map(),
  };
  const uses = (feature: OptionalWasmFeature | RefusedWasmFeature, where: string) => {
    if (!layout.features.has(feature)) layout.features.set(feature, where);
  };
  const types: TypeDef[] = [];
  /** The type of each function, imported ones first. */
  const functions: (FuncType | undefined)[] = [];
  const r = new WasmReader(bytes, 8);
  while (!r.done) {
    const start = r.pos;
    const id = r.byte();
    const s = r.sub(r.u32());
    switch (id) {
      case SECTION.type:
        readTypes(s, types, uses);
        break;
      case SECTION.import:
        readImports(s, types, layout.imports, uses);
        for (const imp of layout.imports) if (imp.kind === "function") functions.push(imp.type);
        break;
      case SECTION.function:
        for (let n = s.u32(), i = 0; i < n; i++) {
          const t = types[s.u32()];
          functions.push(t?.kind === "func" ? t : undefined);
        }
        break;
      case SECTION.export:
        for (let n = s.u32(), i = 0; i < n; i++) {
          const name = s.name();
          const kind = s.byte();
          const index = s.u32();
          if (kind === 0x00) layout.functionExports.set(name, functions[index]);
        }
        break;
      case SECTION.table:
      case SECTION.memory: {
        const isTable = id === SECTION.table;
        const entries: DefinedEntry[] = [];
        for (let n = s.u32(), i = 0; i < n; i++) {
          entries.push(isTable ? readTable(s, i, uses) : readMemory(s, i, uses));
        }
        const section = { start, end: s.end, entries };
        if (isTable) layout.tableSection = section;
        else layout.memorySection = section;
        break;
      }
      case SECTION.global:
        for (let n = s.u32(), i = 0; i < n; i++) {
          valType(s, uses, `global ${i}`);
          s.byte(); // mutability
          skipConstExpr(s, uses);
        }
        break;
      case SECTION.element:
        for (let n = s.u32(), i = 0; i < n; i++) {
          layout.passiveElements += BigInt(readElementSegment(s, i, uses));
        }
        break;
      case SECTION.code:
        for (let n = s.u32(), i = 0; i < n; i++) {
          const body = s.sub(s.u32());
          for (let k = body.u32(), j = 0; j < k; j++) {
            body.u32(); // how many locals of this type
            valType(body, uses, `a local of function body ${i}`);
          }
        }
        s.pos = s.end;
        break;
      case SECTION.tag:
        if (s.u32() > 0) uses("exceptions", "a tag (exception handling)");
        s.pos = s.end;
        break;
      default:
        s.pos = s.end;
    }
    if (!s.done) throw new WasmFormatError(`section ${id} has bytes past its entries`);
  }
  const memories = [
    ...layout.imports.filter((i) => i.kind === "memory").map((i) => i.limits!),
    ...(layout.memorySection?.entries ?? []).map((e) => e.limits),
  ];
  if (memories.length > 1) uses("multi-memory", `${memories.length} memories`);
  return layout;
}

type Uses = (feature: OptionalWasmFeature | RefusedWasmFeature, where: string) => void;

function readTypes(s: WasmReader, types: TypeDef[], uses: Uses): void {
  for (let n = s.u32(), i = 0; i < n; i++) {
    const form = s.byte();
    if (form === 0x4e) { // rec group
      uses("gc", `a recursive type group (type ${types.length})`);
      for (let k = s.u32(), j = 0; j < k; j++) types.push(subType(s, s.byte(), types, uses));
    } else {
      types.push(subType(s, form, types, uses));
    }
  }
}

function subType(s: WasmReader, form: number, types: TypeDef[], uses: Uses): TypeDef {
  if (form === 0x50 || form === 0x4f) { // sub, sub final
    uses("gc", `a subtype declaration (type ${types.length})`);
    for (let k = s.u32(), j = 0; j < k; j++) s.u32();
    form = s.byte();
  }
  const index = types.length;
  switch (form) {
    case 0x60: {
      const params = readValTypes(s, uses, `the parameters of type ${index}`);
      const results = readValTypes(s, uses, `the results of type ${index}`);
      return { kind: "func", params, results };
    }
    case 0x5f:
      uses("gc", `a struct type (type ${index})`);
      for (let k = s.u32(), j = 0; j < k; j++) fieldType(s, uses, index);
      return { kind: "struct" };
    case 0x5e:
      uses("gc", `an array type (type ${index})`);
      fieldType(s, uses, index);
      return { kind: "array" };
    default:
      throw new WasmFormatError(`type ${index} has an unknown form 0x${hex(form)}`);
  }
}

function fieldType(s: WasmReader, uses: Uses, index: number): void {
  const b = s.peek();
  if (b === 0x78 || b === 0x77) s.byte(); // packed i8, i16
  else valType(s, uses, `a field of type ${index}`);
  s.byte(); // mutability
}

function readValTypes(s: WasmReader, uses: Uses, where: string): string[] {
  const out: string[] = [];
  for (let n = s.u32(), i = 0; i < n; i++) out.push(valType(s, uses, where));
  return out;
}

function valType(s: WasmReader, uses: Uses, where: string): string {
  const b = s.byte();
  if (NUMERIC[b]) return NUMERIC[b];
  if (GC_REFS[b]) {
    uses("gc", `reference type ${GC_REFS[b]} in ${where}`);
    return GC_REFS[b];
  }
  if (EXN_REFS[b]) {
    uses("exceptions", `reference type ${EXN_REFS[b]} in ${where}`);
    return EXN_REFS[b];
  }
  if (b === 0x63 || b === 0x64) { // (ref null ht), (ref ht): typed references
    const type = `(ref ${b === 0x63 ? "null " : ""}${heapType(s)})`;
    uses("gc", `reference type ${type} in ${where}`);
    return type;
  }
  throw new WasmFormatError(`unknown value type 0x${hex(b)} in ${where}`);
}

function heapType(s: WasmReader): string {
  const v = s.sleb(33);
  if (v >= 0n) return String(v);
  const name = HEAP_TYPES[Number(v & 0x7fn)];
  if (!name) throw new WasmFormatError(`unknown heap type ${v}`);
  return name;
}

function readLimits(s: WasmReader, where: string, uses: Uses): Limits {
  const flags = s.byte();
  if (flags & ~(LIMITS_HAS_MAX | LIMITS_SHARED | LIMITS_64)) {
    throw new WasmFormatError(`${where} has unknown limits flags 0x${hex(flags)}`);
  }
  if (flags & LIMITS_SHARED) uses("shared-memory", `${where} is shared`);
  if (flags & LIMITS_64) uses("memory64", `${where} has 64-bit limits`);
  const bits = flags & LIMITS_64 ? 64 : 32;
  const initial = s.uleb(bits);
  const maximum = flags & LIMITS_HAS_MAX ? s.uleb(bits) : undefined;
  return { flags, initial, maximum };
}

function readMemory(s: WasmReader, i: number, uses: Uses): DefinedEntry {
  const limits = readLimits(s, `memory ${i}`, uses);
  return { limits, prefix: new Uint8Array(), suffix: new Uint8Array() };
}

function readTable(s: WasmReader, i: number, uses: Uses): DefinedEntry {
  const prefixStart = s.pos;
  const withInit = s.peek() === 0x40;
  if (withInit) {
    s.byte();
    if (s.byte() !== 0x00) throw new WasmFormatError(`table ${i} has a malformed initializer`);
    uses("gc", `an initializer of table ${i}`);
  }
  valType(s, uses, `the element type of table ${i}`);
  const prefix = s.bytes.subarray(prefixStart, s.pos);
  const limits = readLimits(s, `table ${i}`, uses);
  const suffixStart = s.pos;
  if (withInit) skipConstExpr(s, uses);
  return { limits, prefix, suffix: s.bytes.subarray(suffixStart, s.pos) };
}

/** Reads an element segment; returns how many elements it keeps for `table.init` (those of
 * a passive segment), 0 for one applied at instantiation or only declared. */
function readElementSegment(s: WasmReader, i: number, uses: Uses): number {
  const flags = s.u32();
  if (flags > 7) throw new WasmFormatError(`element segment ${i} has unknown flags ${flags}`);
  const declared = (flags & 1) !== 0; // passive or declarative, not active
  const expressions = (flags & 4) !== 0;
  if (!declared) {
    if (flags & 2) s.u32(); // table index
    skipConstExpr(s, uses); // offset
  }
  if (declared || flags & 2) { // an element kind (0: funcref) or a reference type
    if (expressions) valType(s, uses, `element segment ${i}`);
    else if (s.byte() !== 0x00) throw new WasmFormatError(`element segment ${i} is malformed`);
  }
  const count = s.u32();
  for (let k = 0; k < count; k++) {
    if (expressions) skipConstExpr(s, uses);
    else s.u32(); // function index
  }
  return flags === 1 || flags === 5 ? count : 0;
}

function readImports(s: WasmReader, types: TypeDef[], out: ImportEntry[], uses: Uses): void {
  for (let n = s.u32(), i = 0; i < n; i++) {
    const module = s.name();
    const name = s.name();
    const kind = s.byte();
    const what = `import ${module}.${name}`;
    switch (kind) {
      case 0x00: {
        const t = types[s.u32()];
        out.push({ module, name, kind: "function", type: t?.kind === "func" ? t : undefined });
        break;
      }
      case 0x01:
        valType(s, uses, what);
        out.push({ module, name, kind: "table", limits: readLimits(s, what, uses) });
        break;
      case 0x02:
        out.push({ module, name, kind: "memory", limits: readLimits(s, what, uses) });
        break;
      case 0x03:
        valType(s, uses, what);
        s.byte(); // mutability
        out.push({ module, name, kind: "global" });
        break;
      case 0x04:
        s.byte(); // attribute
        s.u32(); // type
        uses("exceptions", `a tag (exception handling), ${what}`);
        out.push({ module, name, kind: "tag" });
        break;
      default:
        throw new WasmFormatError(`${what} has an unknown kind 0x${hex(kind)}`);
    }
  }
}

/** Skips a constant expression (a global's or a table's initializer) up to its `end`. */
function skipConstExpr(s: WasmReader, uses: Uses): void {
  for (;;) {
    const op = s.byte();
    switch (op) {
      case 0x0b: // end
        return;
      case 0x41: // i32.const
        s.sleb(32);
        break;
      case 0x42: // i64.const
        s.sleb(64);
        break;
      case 0x43: // f32.const
        s.skip(4);
        break;
      case 0x44: // f64.const
        s.skip(8);
        break;
      case 0x23: // global.get
      case 0xd2: // ref.func
        s.u32();
        break;
      case 0xd0: // ref.null
        heapType(s);
        break;
      case 0x6a: // i32.add, sub, mul (extended constant expressions)
      case 0x6b:
      case 0x6c:
      case 0x7c: // i64.add, sub, mul
      case 0x7d:
      case 0x7e:
        break;
      case 0xfd: // v128.const
        if (s.u32() !== 12) throw new WasmFormatError("a constant expression is malformed");
        s.skip(16);
        break;
      case 0xfb: { // WasmGC
        const sub = s.u32();
        uses("gc", "a WasmGC instruction in a constant expression");
        // struct.new(_default) and array.new(_default) take a type, array.new_fixed a type
        // and a length; any.convert_extern, extern.convert_any and ref.i31 take nothing.
        const immediates = [0, 1, 6, 7].includes(sub) ? 1 : sub === 8 ? 2 : 0;
        if (immediates === 0 && (sub < 0x1a || sub > 0x1c)) {
          throw new WasmFormatError("a constant expression is malformed");
        }
        for (let k = 0; k < immediates; k++) s.u32();
        break;
      }
      default:
        throw new WasmFormatError(
          `a constant expression has instruction 0x${hex(op)}, not a constant one`,
        );
    }
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}
