/**
 * BTF surgery for tests: a copy of a compiled BPF object whose BTF types, BTF.ext records and
 * section headers can be found by name and rewritten in place, to build each broken shape
 * (a cycle, a misplaced reference, a huge map...) from a real object.
 */

import { type Btf, btfString, type BtfType, parseBtf } from "../../src/guest/btf_check.ts";
import { checkElf, type Section } from "../../src/guest/object_check.ts";
import { BtfKind as K } from "../../src/format/btf.ts";
import { ByteReader, readElfHeader, sectionHeaderOffset } from "../../src/format/elf.ts";

export { K };

/** A mutable copy of an object, with its sections and BTF parsed. */
export class ObjectSurgery {
  readonly bytes: Uint8Array;
  readonly sections: Section[];
  readonly btf: Btf;
  readonly #elf: ByteReader;

  constructor(object: Uint8Array | string) {
    this.bytes = typeof object === "string" ? Deno.readFileSync(object) : object.slice();
    this.#elf = new ByteReader(this.bytes, "the object");
    this.sections = checkElf(this.bytes);
    const btf = this.section(".BTF");
    this.btf = parseBtf(this.bytes.subarray(btf.offset, btf.offset + btf.size));
  }

  section(name: string): Section {
    const s = this.sections.find((s) => s.name === name);
    if (!s) throw new Error(`no section ${name}`);
    return s;
  }

  /** The first type of `kind` (named `name`, when given). */
  type(kind: number, name?: string): BtfType {
    const t = this.btf.types.find((t) =>
      t?.kind === kind && (name === undefined || btfString(this.btf, t.nameOff, "") === name)
    );
    if (!t) throw new Error(`no BTF type of kind ${kind} named ${name}`);
    return t;
  }

  /** Sets the `type` (or `size`) field of a type. */
  setRef(t: BtfType, to: number): this {
    this.btf.tv.setUint32(t.at + 8, to, true);
    return this;
  }

  /** Sets the type of member `index` of a struct or union. */
  setMemberType(t: BtfType, index: number, to: number): this {
    this.btf.tv.setUint32(t.at + 12 + 12 * index + 4, to, true);
    return this;
  }

  /** Sets the element count of an array type. */
  setArrayLength(t: BtfType, n: number): this {
    this.btf.tv.setUint32(t.at + 12 + 8, n, true);
    return this;
  }

  /** Sets the kind of a type, keeping its other info bits. */
  setKind(t: BtfType, kind: number): this {
    const info = this.btf.tv.getUint32(t.at + 4, true);
    this.btf.tv.setUint32(t.at + 4, ((info & ~(0x1f << 24)) | (kind << 24)) >>> 0, true);
    return this;
  }

  /** The type of the member named `member` of the map `map` in `.maps` (its `int (*)[N]`). */
  mapMember(map: string, member: string): BtfType {
    const v = this.type(K.VAR, map);
    const def = this.btf.types[v.sizeOrType]!;
    for (let j = 0; j < def.vlen; j++) {
      const name = btfString(this.btf, this.btf.tv.getUint32(def.at + 12 + 12 * j, true), "");
      if (name === member) {
        const ptr = this.btf.types[this.btf.tv.getUint32(def.at + 12 + 12 * j + 4, true)]!;
        return this.btf.types[ptr.sizeOrType]!;
      }
    }
    throw new Error(`map ${map} has no member ${member}`);
  }

  /** Sets the type id of the first func_info record of `.BTF.ext`. */
  setFirstFuncInfoType(to: number): this {
    const ext = this.section(".BTF.ext");
    const hdrLen = this.#elf.u32(ext.offset + 4);
    const funcInfoOff = this.#elf.u32(ext.offset + 8);
    // rec_size (4), then the first section's name (4) and count (4), then {insn_off, type_id}
    const rec = ext.offset + hdrLen + funcInfoOff + 4 + 8;
    this.#elf.dv.setUint32(rec + 4, to, true);
    return this;
  }

  /** Gives section `name` the name of section `as` (two sections of one name). */
  renameSection(name: string, as: string): this {
    const header = (s: Section) => sectionHeaderOffset(readElfHeader(this.#elf), s.index);
    this.#elf.dv.setUint32(header(this.section(name)), this.section(as).nameOff, true);
    return this;
  }
}
