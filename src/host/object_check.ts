/**
 * Structural checks of a guest's BPF ELF object before libbpf parses it.
 *
 * libbpf 1.1 trusts the object it opens more than a host running untrusted guests can: a
 * corrupted `.BTF` section whose types reference type ids that do not exist makes
 * `bpf_object__open_mem` dereference NULL and crash the host (found by scripts/fuzz.ts; later
 * libbpf releases added `btf_validate_type` for the same reason). So before libbpf sees the
 * bytes, this checks what libbpf relies on: the ELF header and section table lie inside the
 * buffer, every section's data too, and the BTF and BTF.ext sections are well formed, with
 * every type id and string offset in range (the checks of libbpf 1.3's btf_validate_type).
 *
 * A failed check returns a one-line reason; the load then fails with LIBBPF_ERRNO__FORMAT.
 */

const SHT_NOBITS = 8;
const SHT_SYMTAB = 2;
const SHT_REL = 9;
const BTF_MAGIC = 0xeb9f;

// BTF kinds (linux/btf.h)
const K = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

interface Section {
  index: number;
  name: string;
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

class CheckError extends Error {}

function fail(why: string): never {
  throw new CheckError(why);
}

/** Null when `bytes` is an object libbpf can parse safely; otherwise why it is not. */
export function checkBpfObject(bytes: Uint8Array): string | null {
  try {
    const sections = checkElf(bytes);
    const btf = sections.find((s) => s.name === ".BTF");
    let strLen = 0;
    if (btf) strLen = checkBtf(bytes.subarray(btf.offset, btf.offset + btf.size));
    const ext = sections.find((s) => s.name === ".BTF.ext");
    if (ext) {
      if (!btf) fail(".BTF.ext without .BTF");
      checkBtfExt(bytes.subarray(ext.offset, ext.offset + ext.size), strLen);
    }
    return null;
  } catch (e) {
    if (e instanceof CheckError) return e.message;
    throw e;
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkElf(bytes: Uint8Array): Section[] {
  if (bytes.length < 64) fail("shorter than an ELF header");
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    fail("not an ELF file");
  }
  if (bytes[4] !== 2) fail("not a 64-bit ELF object");
  if (bytes[5] !== 1) fail("not a little-endian ELF object");
  const dv = view(bytes);
  const shoff = Number(dv.getBigUint64(0x28, true));
  const shentsize = dv.getUint16(0x3a, true);
  const shnum = dv.getUint16(0x3c, true);
  const shstrndx = dv.getUint16(0x3e, true);
  if (shnum === 0) fail("no section headers");
  if (shentsize !== 64) fail(`section header size ${shentsize}, not 64`);
  if (shoff > bytes.length || shoff + shnum * 64 > bytes.length) {
    fail("the section header table lies outside the object");
  }
  if (shstrndx >= shnum) fail("the section name table index is out of range");
  const raw: Omit<Section, "name">[] = [];
  const names: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * 64;
    const s = {
      index: i,
      type: dv.getUint32(o + 4, true),
      offset: Number(dv.getBigUint64(o + 24, true)),
      size: Number(dv.getBigUint64(o + 32, true)),
      link: dv.getUint32(o + 40, true),
      entsize: Number(dv.getBigUint64(o + 56, true)),
    };
    names.push(dv.getUint32(o, true));
    if (i > 0 && s.type !== SHT_NOBITS && s.offset + s.size > bytes.length) {
      fail(`section ${i} lies outside the object`);
    }
    if (s.link >= shnum) fail(`section ${i} links to section ${s.link}, out of range`);
    raw.push(s);
  }
  const shstr = raw[shstrndx];
  const cstr = (table: { offset: number; size: number }, off: number, what: string): string => {
    if (off >= table.size) fail(`${what}: name offset out of range`);
    const start = table.offset + off;
    const end = bytes.subarray(start, table.offset + table.size).indexOf(0);
    if (end < 0) fail(`${what}: name not NUL-terminated`);
    return new TextDecoder().decode(bytes.subarray(start, start + end));
  };
  const sections = raw.map((s, i) => ({ ...s, name: cstr(shstr, names[i], `section ${i}`) }));
  for (const s of sections) {
    if (s.type === SHT_SYMTAB) {
      if (s.entsize !== 24 || s.size % 24 !== 0) fail("malformed symbol table");
      const strtab = sections[s.link];
      for (let o = s.offset + 24; o < s.offset + s.size; o += 24) {
        cstr(strtab, dv.getUint32(o, true), "symbol");
        const shndx = dv.getUint16(o + 6, true);
        if (shndx >= shnum && shndx < 0xff00) fail("a symbol names a section out of range");
      }
    }
    if (s.type === SHT_REL) {
      if (s.entsize !== 16 || s.size % 16 !== 0) fail(`malformed relocation section ${s.name}`);
      const symtab = sections[s.link];
      const nsyms = symtab.type === SHT_SYMTAB ? symtab.size / 24 : 0;
      for (let o = s.offset; o < s.offset + s.size; o += 16) {
        const sym = Number(dv.getBigUint64(o + 8, true) >> 32n);
        if (sym >= nsyms) fail(`a relocation in ${s.name} names symbol ${sym}, out of range`);
      }
    }
  }
  return sections;
}

/** Checks a .BTF section; returns the length of its string section. */
function checkBtf(btf: Uint8Array): number {
  if (btf.length < 24) fail(".BTF: shorter than its header");
  const dv = view(btf);
  if (dv.getUint16(0, true) !== BTF_MAGIC) fail(".BTF: bad magic (or not little-endian)");
  if (btf[2] !== 1) fail(`.BTF: version ${btf[2]}`);
  const hdrLen = dv.getUint32(4, true);
  const typeOff = dv.getUint32(8, true);
  const typeLen = dv.getUint32(12, true);
  const strOff = dv.getUint32(16, true);
  const strLen = dv.getUint32(20, true);
  if (hdrLen < 24 || hdrLen > btf.length) fail(".BTF: bad header length");
  const data = btf.subarray(hdrLen);
  if (typeOff % 4 !== 0 || typeOff + typeLen > data.length || strOff + strLen > data.length) {
    fail(".BTF: type or string section outside the section");
  }
  if (strLen === 0 || data[strOff] !== 0 || data[strOff + strLen - 1] !== 0) {
    fail(".BTF: malformed string section");
  }
  const tv = new DataView(data.buffer, data.byteOffset + typeOff, typeLen);
  // First pass: the offset and kind of every type, so ids can be checked.
  const offsets: number[] = [];
  const kinds: number[] = [];
  let o = 0;
  while (o < typeLen) {
    if (o + 12 > typeLen) fail(".BTF: truncated type");
    const info = tv.getUint32(o + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    let size = 12;
    switch (kind) {
      case K.INT:
        size += 4;
        break;
      case K.ARRAY:
        size += 12;
        break;
      case K.STRUCT:
      case K.UNION:
        size += 12 * vlen;
        break;
      case K.ENUM:
        size += 8 * vlen;
        break;
      case K.ENUM64:
        size += 12 * vlen;
        break;
      case K.FUNC_PROTO:
        size += 8 * vlen;
        break;
      case K.VAR:
        size += 4;
        break;
      case K.DATASEC:
        size += 12 * vlen;
        break;
      case K.DECL_TAG:
        size += 4;
        break;
      case K.PTR:
      case K.FWD:
      case K.TYPEDEF:
      case K.VOLATILE:
      case K.CONST:
      case K.RESTRICT:
      case K.FUNC:
      case K.FLOAT:
      case K.TYPE_TAG:
        break;
      default:
        fail(`.BTF: type ${offsets.length + 1} has unknown kind ${kind}`);
    }
    if (o + size > typeLen) fail(".BTF: truncated type");
    offsets.push(o);
    kinds.push(kind);
    o += size;
  }
  const nTypes = offsets.length + 1; // id 0 is void
  const str = (off: number, what: string) => {
    if (off >= strLen) fail(`.BTF: ${what}: string offset out of range`);
  };
  const id = (t: number, what: string) => {
    if (t >= nTypes) fail(`.BTF: ${what}: type id ${t} out of range (${nTypes - 1} types)`);
  };
  // Second pass: every reference.
  for (let i = 0; i < offsets.length; i++) {
    const at = offsets[i];
    const tid = i + 1;
    const what = `type ${tid}`;
    str(tv.getUint32(at, true), what);
    const vlen = tv.getUint32(at + 4, true) & 0xffff;
    const ref = tv.getUint32(at + 8, true);
    const m = at + 12;
    switch (kinds[i]) {
      case K.PTR:
      case K.TYPEDEF:
      case K.VOLATILE:
      case K.CONST:
      case K.RESTRICT:
      case K.VAR:
      case K.DECL_TAG:
      case K.TYPE_TAG:
        id(ref, what);
        break;
      case K.FUNC:
        id(ref, what);
        if (ref === 0 || kinds[ref - 1] !== K.FUNC_PROTO) fail(`.BTF: ${what}: not a function`);
        break;
      case K.ARRAY:
        id(tv.getUint32(m, true), what);
        id(tv.getUint32(m + 4, true), what);
        break;
      case K.STRUCT:
      case K.UNION:
        for (let j = 0; j < vlen; j++) {
          str(tv.getUint32(m + 12 * j, true), what);
          id(tv.getUint32(m + 12 * j + 4, true), what);
        }
        break;
      case K.ENUM:
      case K.ENUM64:
        for (let j = 0; j < vlen; j++) {
          str(tv.getUint32(m + (kinds[i] === K.ENUM ? 8 : 12) * j, true), what);
        }
        break;
      case K.FUNC_PROTO:
        id(ref, what);
        for (let j = 0; j < vlen; j++) {
          str(tv.getUint32(m + 8 * j, true), what);
          id(tv.getUint32(m + 8 * j + 4, true), what);
        }
        break;
      case K.DATASEC:
        for (let j = 0; j < vlen; j++) {
          const v = tv.getUint32(m + 12 * j, true);
          id(v, what);
          if (v === 0 || kinds[v - 1] !== K.VAR && kinds[v - 1] !== K.FUNC) {
            fail(`.BTF: ${what}: a section entry is not a variable`);
          }
        }
        break;
    }
  }
  return strLen;
}

/** Checks a .BTF.ext section against the string section length of .BTF. */
function checkBtfExt(ext: Uint8Array, btfStrLen: number): void {
  if (ext.length < 8) fail(".BTF.ext: shorter than its header");
  const dv = view(ext);
  if (dv.getUint16(0, true) !== BTF_MAGIC) fail(".BTF.ext: bad magic");
  const hdrLen = dv.getUint32(4, true);
  if (hdrLen < 24 || hdrLen > ext.length) fail(".BTF.ext: bad header length");
  const data = ext.subarray(hdrLen);
  // func_info, line_info and (when the header is long enough) core_relo: offset, length
  const parts: [string, number, number][] = [["func_info", 8, 8], ["line_info", 16, 16]];
  if (hdrLen >= 32) parts.push(["core_relo", 24, 16]);
  for (const [name, at, minRec] of parts) {
    const off = dv.getUint32(at, true);
    const len = dv.getUint32(at + 4, true);
    if (len === 0) continue;
    if (off % 4 !== 0 || off + len > data.length) fail(`.BTF.ext: ${name} outside the section`);
    const pv = new DataView(data.buffer, data.byteOffset + off, len);
    if (len < 4) fail(`.BTF.ext: ${name} truncated`);
    const recSize = pv.getUint32(0, true);
    if (recSize < minRec || recSize % 4 !== 0) fail(`.BTF.ext: ${name} record size ${recSize}`);
    let o = 4;
    while (o < len) {
      if (o + 8 > len) fail(`.BTF.ext: ${name} truncated`);
      const secName = pv.getUint32(o, true);
      const num = pv.getUint32(o + 4, true);
      if (secName >= btfStrLen) fail(`.BTF.ext: ${name} section name out of range`);
      if (num === 0) fail(`.BTF.ext: ${name} has an empty section`);
      o += 8;
      if (o + num * recSize > len) fail(`.BTF.ext: ${name} records outside the section`);
      o += num * recSize;
    }
  }
}
