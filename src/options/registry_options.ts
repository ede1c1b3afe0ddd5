/**
 * The registry's rows of the command line's option table (option_table.ts): how a module
 * named by a registry reference is fetched. Read by a run (run_options.ts) and by the
 * registry subcommands (src/cli/registry.ts), written for a guest run in a child process.
 */

import type { PullPolicy, RegistryOptions } from "../oci/mod.ts";
import { findOption, optionHelp, type OptionSpec, stringOption } from "./option_table.ts";

/** Registry options being built from flags. */
export type MutableRegistryOptions = {
  -readonly [K in keyof RegistryOptions]: RegistryOptions[K];
};

const PULL_POLICIES: readonly string[] = ["missing", "always", "never"];

export const REGISTRY_OPTIONS: readonly OptionSpec<MutableRegistryOptions>[] = [
  {
    long: "--pull",
    value: "missing|always|never",
    help: [
      "When to ask the registry (default: missing for",
      "a digest, always for a tag; unreachable: cache)",
    ],
    parse(registry, value) {
      if (!PULL_POLICIES.includes(value)) {
        return `--pull takes missing, always or never, got "${value}"`;
      }
      registry.pull = value as PullPolicy;
      return undefined;
    },
    format: ({ pull }) => pull ? [`--pull=${pull}`] : [],
  },
  stringOption({
    long: "--verify-key",
    value: "KEY.pub",
    help: ["Run only if the manifest has a cosign signature", "by this PEM ECDSA P-256 key"],
  }, "verifyKey"),
  {
    long: "--insecure-registry",
    value: "HOST",
    help: ["Allow plain http to HOST (loopback always may)"],
    parse(registry, value) {
      registry.insecureRegistries = [...(registry.insecureRegistries ?? []), value];
      return undefined;
    },
    format: ({ insecureRegistries: hosts }) =>
      (hosts ?? []).flatMap((host) => ["--insecure-registry", host]),
  },
  stringOption({
    long: "--cache-dir",
    value: "DIR",
    help: ["Cache (default $XDG_CACHE_HOME/wasm-bpf or", "~/.cache/wasm-bpf)"],
  }, "cacheDir"),
];

/** Run flags that say how a registry reference is fetched. */
export const REGISTRY_FLAGS: ReadonlySet<string> = new Set(REGISTRY_OPTIONS.map((o) => o.long));

/** Their lines for the CLI's usage text. */
export const REGISTRY_OPTIONS_USAGE: string = optionHelp(REGISTRY_OPTIONS);

/** Applies one registry run flag; returns a usage error message, or undefined. */
export function applyRegistryFlag(
  options: MutableRegistryOptions,
  flag: string,
  value: string,
): string | undefined {
  const spec = findOption(REGISTRY_OPTIONS, flag);
  return spec ? spec.parse(options, value) : `unknown option ${flag}`;
}
