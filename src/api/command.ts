/** `WasmBpfCommand`: a guest module as a command, in the manner of `Deno.Command`. */

import { resolveOptions } from "./child_base.ts";
import { checkCommandArguments } from "./check_options.ts";
import { InlineChild } from "./inline_child.ts";
import { ProcessChild } from "./process_child.ts";
import type {
  ModuleSource,
  StdioMode,
  WasmBpfChild,
  WasmBpfCommandOptions,
  WasmBpfOutput,
} from "./types.ts";

/**
 * A wasm-bpf guest to run, as `Deno.Command` is a program to run.
 *
 * @example Run to the end and collect the output
 * ```ts
 * import { WasmBpfCommand } from "./mod.ts";
 * const { code, stdout } = await new WasmBpfCommand("examples/runqlat/runqlat.wasm", {
 *   args: ["1", "1"],
 * }).output();
 * console.log(code, new TextDecoder().decode(stdout));
 * ```
 *
 * @example Read events while doing other work, then stop
 * ```ts
 * import { WasmBpfCommand } from "./mod.ts";
 * const child = new WasmBpfCommand("examples/bootstrap/bootstrap.wasm", { stdout: "piped" })
 *   .spawn();
 * setTimeout(() => child.kill(), 5000);
 * for await (const chunk of child.stdout) Deno.stdout.writeSync(chunk);
 * console.log(await child.status); // { success: false, code: 143, signal: "SIGTERM" }
 * ```
 */
export class WasmBpfCommand {
  readonly #source: ModuleSource;
  readonly #options: WasmBpfCommandOptions;

  /**
   * Describes a run; nothing starts until `spawn()` or `output()`. Throws a TypeError or
   * RangeError, naming the option, for a module or option of the wrong type or range.
   *
   * @param module a path, a `file:`/`http(s):` URL, the module's bytes, or a compiled module
   *   (inline isolation only)
   * @param options arguments, environment, stdio, isolation, policy... (see
   *   {@link WasmBpfCommandOptions})
   */
  constructor(module: ModuleSource, options: WasmBpfCommandOptions = {}) {
    checkCommandArguments(module, options);
    this.#source = module;
    this.#options = options;
  }

  /** Starts the guest and returns at once; the guest runs while the caller goes on. Throws a
   * TypeError for options that cannot go together (see `isolation`). */
  spawn(): WasmBpfChild {
    return this.#start({ stdin: "inherit", stdout: "inherit", stderr: "inherit" });
  }

  /** Runs the guest to the end, collecting stdout and stderr (piped unless set). */
  output(): Promise<WasmBpfOutput> {
    try {
      return this.#start({ stdin: "null", stdout: "piped", stderr: "piped" }).output();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #start(defaults: { stdin: StdioMode; stdout: StdioMode; stderr: StdioMode }): WasmBpfChild {
    const o = this.#options;
    if (o.signal?.aborted) throw o.signal.reason ?? new DOMException("aborted", "AbortError");
    const resolved = resolveOptions(argv0Of(this.#source), o, defaults);
    const child = (o.isolation ?? "process") === "inline"
      ? new InlineChild(this.#source, resolved)
      : ProcessChild.start(this.#source, resolved);
    if (o.signal) {
      const onAbort = () => child.kill();
      o.signal.addEventListener("abort", onAbort, { once: true });
      child.status.finally(() => o.signal!.removeEventListener("abort", onAbort)).catch(
        () => {},
      );
    }
    return child;
  }
}

/** argv[0] as the guest sees it: the module path or URL as given. */
function argv0Of(source: ModuleSource): string {
  if (typeof source === "string") return source;
  if (source instanceof URL) return source.href;
  return "module.wasm";
}
