/**
 * wasm-bpf for Deno: run eBPF programs packaged as WebAssembly modules, from the command line
 * or from a script.
 *
 * As a program, this module is the `wasm-bpf` CLI:
 * `deno run --allow-ffi --allow-read --allow-write
 * --allow-env=LIBBPF_PATH,HOME,XDG_CACHE_HOME,DOCKER_CONFIG --allow-net mod.ts
 * <module.wasm> [guest args...]` (as root).
 *
 * @example Count exec events per command name for 5 seconds
 * ```ts
 * import { WasmBpfCommand } from "./mod.ts";
 *
 * const child = new WasmBpfCommand("examples/bootstrap/bootstrap.wasm", { stdout: "piped" })
 *   .spawn();
 * setTimeout(() => child.kill(), 5000);
 * const counts = new Map<string, number>();
 * const lines = child.stdout.pipeThrough(new TextDecoderStream());
 * let pending = "";
 * for await (const text of lines) {
 *   const all = (pending + text).split("\n");
 *   pending = all.pop()!;
 *   for (const line of all) {
 *     const [, event, comm] = line.split(/\s+/);
 *     if (event === "EXEC") counts.set(comm, (counts.get(comm) ?? 0) + 1);
 *   }
 * }
 * await child.status;
 * console.table([...counts].sort((a, b) => b[1] - a[1]).slice(0, 10));
 * ```
 *
 * @module
 */

export { WasmBpfCommand } from "./src/api/command.ts";
export type {
  GuestPolicy,
  HostImports,
  LogRecord,
  ModuleSource,
  PullPolicy,
  RegistryOptions,
  StdioMode,
  WasmBpfChild,
  WasmBpfCommandOptions,
  WasmBpfOutput,
  WasmBpfStatus,
} from "./src/api/types.ts";
export { GuestModuleError } from "./src/guest/guest_module.ts";
export { VERSION } from "./src/version.ts";

// Static, though only the CLI uses it: a dynamic import made every CLI start build and load a
// second module graph (~0.7 MB of peak memory, a few ms); for the library it adds three small
// modules over what it loads anyway.
import { main } from "./src/cli/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
