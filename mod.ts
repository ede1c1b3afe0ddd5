/**
 * wasm-bpf for Deno: run eBPF programs packaged as WebAssembly modules.
 *
 * Run as a program, this is the `wasm-bpf` CLI:
 * `deno run --allow-ffi --allow-read mod.ts <module.wasm> [guest args...]`.
 *
 * @module
 */

export { main as cliMain, parseCli, USAGE } from "./src/host/cli.ts";
export { compileGuest, GuestModuleError } from "./src/host/guest_module.ts";
export { runGuest } from "./src/host/run.ts";
export type { GuestRunOptions, GuestRunResult } from "./src/host/run.ts";
export { RunStop } from "./src/host/stop.ts";
export { LibbpfError, setLibbpfLogger } from "./src/libbpf_ffi.ts";
export { VERSION } from "./src/version.ts";

if (import.meta.main) {
  const { main } = await import("./src/host/cli.ts");
  Deno.exit(await main(Deno.args));
}
