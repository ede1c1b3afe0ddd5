/**
 * Capping what a guest may take: the sum of all its memories and tables, initial sizes and
 * growth, is kept under one budget (`--max-memory`), with the elements V8 keeps for its passive
 * element segments. The module declares them all (an
 * imported one would come from this host, which offers none), so the cap is written into the
 * module before it is compiled, as the maximum of each memory and table. `memory.grow` and
 * `table.grow` past it then fail the way wasm growth fails (they return -1, and the guest's
 * malloc returns NULL) instead of taking the host's memory.
 *
 * The budget goes first to what the module starts with; the room left goes to the defined
 * memories in order (a C, Rust or TinyGo guest has one), then to the tables (their sizes are
 * fixed by the linker in those guests: their maximum is their initial size).
 */

import { concatBytes } from "../bytes.ts";
import { uleb } from "../format/wasm.ts";
import {
  type DefinedSection,
  type Limits,
  LIMITS_64,
  LIMITS_HAS_MAX,
  type ModuleLayout,
} from "./wasm_layout.ts";

/** Bytes in a wasm page. */
export const WASM_PAGE = 65536;
/** The most pages a wasm32 memory can have (4 GiB). */
export const MAX_WASM32_PAGES = 65536;
/** What a table element costs the host, counted against the budget: V8 15 takes 24 bytes per
 * funcref element (its dispatch table) and 8 per externref one, measured. */
export const TABLE_ELEMENT_BYTES = 32;
/** The most elements V8 lets a table have. */
const MAX_TABLE_ELEMENTS = 10_000_000n;

/** The module's memories and tables do not fit under the cap. */
export class MemoryLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MemoryLimitError";
  }
}

/** The sizes a guest gets, in pages (memories) and elements (tables). */
export interface Sizes {
  initial: number;
  maximum: number;
}

/** What {@link capGuest} found and did. */
export interface GuestCapResult {
  /** The module bytes to compile: the input itself when nothing had to change. */
  bytes: Uint8Array<ArrayBuffer>;
  /** Each memory the module defines, with its new maximum. */
  memories: Sizes[];
  /** Each table the module defines, with its new maximum. */
  tables: Sizes[];
}

/**
 * Returns `bytes` with the maximum of every memory and table the module defines set so that
 * all of them together stay within `maxMiB`. Throws MemoryLimitError when what the module
 * starts with is already over it.
 */
export function capGuest(
  bytes: Uint8Array<ArrayBuffer>,
  layout: ModuleLayout,
  maxMiB: number,
): GuestCapResult {
  const budget = BigInt(Math.floor(maxMiB * 1024 * 1024));
  const page = BigInt(WASM_PAGE);
  const element = BigInt(TABLE_ELEMENT_BYTES);
  const memories = layout.memorySection?.entries.map((e) => e.limits) ?? [];
  const tables = layout.tableSection?.entries.map((e) => e.limits) ?? [];

  // What the guest starts with; an imported memory or table counts at its maximum, which
  // nothing here can lower.
  let reserved = 0n;
  for (const imp of layout.imports) {
    if (!imp.limits) continue;
    if (imp.limits.maximum === undefined) {
      throw new MemoryLimitError(
        `it imports ${imp.kind} ${imp.module}.${imp.name} with no maximum size, which ` +
          `--max-memory cannot bound`,
      );
    }
    reserved += imp.limits.maximum * (imp.kind === "memory" ? page : element);
  }
  for (const m of memories) reserved += m.initial * page;
  for (const t of tables) reserved += t.initial * element;
  reserved += layout.passiveElements * element;
  if (reserved > budget) {
    const single = memories.length === 1 && memories[0].initial * page > budget;
    throw new MemoryLimitError(
      single
        ? `its memory starts at ${mib(memories[0].initial * page)} MiB (${
          memories[0].initial
        } pages), more than the ${maxMiB} MiB allowed (--max-memory)`
        : `its memories, tables and element segments take ${mib(reserved)} MiB at the start, ` +
          `more than the ${maxMiB} MiB allowed (--max-memory)`,
    );
  }

  let room = budget - reserved;
  const grant = (limits: Limits, unit: bigint, most: bigint): bigint => {
    const wanted = (limits.maximum ?? most) - limits.initial;
    const given = min(wanted < 0n ? 0n : wanted, room / unit);
    room -= given * unit;
    return limits.initial + given;
  };
  const memoryMax = memories.map((m) =>
    grant(m, page, m.flags & LIMITS_64 ? 1n << 48n : BigInt(MAX_WASM32_PAGES))
  );
  const tableMax = tables.map((t) => grant(t, element, max(MAX_TABLE_ELEMENTS, t.initial)));

  const parts: Uint8Array[] = [];
  let copiedUpTo = 0;
  const rewrite = (section: DefinedSection | undefined, maxima: bigint[]) => {
    if (!section || section.entries.every((e, i) => e.limits.maximum === maxima[i])) return;
    const body: number[] = [...uleb(section.entries.length)];
    section.entries.forEach((e, i) => {
      body.push(...e.prefix, e.limits.flags | LIMITS_HAS_MAX);
      body.push(...uleb(e.limits.initial), ...uleb(maxima[i]), ...e.suffix);
    });
    parts.push(bytes.subarray(copiedUpTo, section.start));
    parts.push(new Uint8Array([bytes[section.start], ...uleb(body.length), ...body]));
    copiedUpTo = section.end;
  };
  // tables (section 4) come before memories (section 5) in a module
  rewrite(layout.tableSection, tableMax);
  rewrite(layout.memorySection, memoryMax);
  const sizes = (limits: Limits[], maxima: bigint[]) =>
    limits.map((l, i) => ({ initial: Number(l.initial), maximum: Number(maxima[i]) }));
  const result = { memories: sizes(memories, memoryMax), tables: sizes(tables, tableMax) };
  if (parts.length === 0) return { bytes, ...result };
  parts.push(bytes.subarray(copiedUpTo));
  return { bytes: concatBytes(parts), ...result };
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function mib(bytes: bigint): string {
  const value = Number(bytes) / (1024 * 1024);
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
