/**
 * Types shared by the WASI providers.
 *
 * @module
 */

/** A provider's share of the `wasi_snapshot_preview1` import object. */
// deno-lint-ignore ban-types
export type Imports = Record<string, Function>;
