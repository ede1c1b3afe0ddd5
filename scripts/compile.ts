/**
 * Builds the single executable `./wasm-bpf` with `deno compile`.
 *
 * `deno compile` needs `denort`, the Deno runtime without the CLI, which it downloads unless
 * DENORT_BIN points at one. Offline (as on our build VMs), set DENORT_BIN to a denort of the
 * same Deno version; without it, this script says so plainly instead of failing on DNS.
 *
 * Usage: deno task compile [--output PATH] [--target TRIPLE]
 */

import { parseArgs } from "node:util";

/** Exactly what the binary needs: FFI for libbpf and libc; reading modules, /proc/self/status
 * and preopened directories; writing into preopened directories, --log-file and the registry
 * cache; LIBBPF_PATH, and HOME/XDG_CACHE_HOME/DOCKER_CONFIG for the cache and registry
 * credentials; the network for http(s): module URLs and registries. */
export const COMPILE_PERMISSIONS = [
  "--allow-ffi",
  "--allow-read",
  "--allow-write",
  "--allow-env=LIBBPF_PATH,HOME,XDG_CACHE_HOME,DOCKER_CONFIG",
  "--allow-net",
];

/** Modules that are loaded dynamically (workers, lazy imports) and so must be named to be
 * embedded. mod.ts imports the CLI lazily when run as main. */
export const COMPILE_INCLUDES = ["src/cli/main.ts"];

export function compileArgs(output: string, target?: string): string[] {
  return [
    "compile",
    ...COMPILE_PERMISSIONS,
    ...COMPILE_INCLUDES.flatMap((p) => ["--include", p]),
    ...(target ? ["--target", target] : []),
    "--output",
    output,
    "mod.ts",
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      output: { type: "string", default: "wasm-bpf" },
      target: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log("usage: deno task compile [--output PATH] [--target TRIPLE]");
    return 0;
  }
  const root = new URL("..", import.meta.url).pathname;
  const denort = Deno.env.get("DENORT_BIN");
  if (denort !== undefined) {
    try {
      if (!Deno.statSync(denort).isFile) throw new Error("not a file");
    } catch {
      console.error(`compile: DENORT_BIN=${denort} is not a file`);
      return 1;
    }
  }
  const args = compileArgs(values.output!, values.target);
  console.error(`compile: deno ${args.join(" ")}`);
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "inherit",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.success) {
    Deno.stderr.writeSync(out.stderr);
    console.error(`compile: wrote ${values.output}`);
    return 0;
  }
  if (denort === undefined && /dl\.deno\.land|error sending request|dns error/i.test(stderr)) {
    console.error(
      "compile: deno compile needs the denort runtime and could not download it (offline?).\n" +
        `compile: download denort ${Deno.version.deno} for this platform elsewhere and run ` +
        "DENORT_BIN=/path/to/denort deno task compile",
    );
    return 1;
  }
  console.error(stderr.trimEnd());
  return out.code || 1;
}

if (import.meta.main) Deno.exit(await main());
