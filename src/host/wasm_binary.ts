/**
 * The wasm binary primitives now live in src/format/wasm.ts; this re-export stays only until
 * the record pump (pump_wasm.ts) imports them from there.
 */

export * from "../format/wasm.ts";
