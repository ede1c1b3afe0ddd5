/**
 * What the command line needs of the registry side before it knows it is wanted: the help text
 * and the test for a registry subcommand. The subcommands themselves (src/cli/registry.ts, with
 * the OCI client under them) are imported only when one runs: a module run does not load them.
 */

import { REGISTRY_OPTIONS_USAGE } from "../options/registry_options.ts";

export const REGISTRY_USAGE =
  `REGISTRIES (the module may be REGISTRY/REPO[:TAG][@sha256:...] or oci://...;
an existing file of that name always wins):
${REGISTRY_OPTIONS_USAGE}  wasm-bpf --oci-pull REF [-o FILE]                 Pull (and cache) a module
  wasm-bpf --oci-push FILE REF [--annotation K=V]   Push a module as \`ecli push\` does
  wasm-bpf --oci-sign REF --key KEY.pem             Push a cosign signature of REF
  wasm-bpf --oci-cache ls | rm REF... | prune       List or clean the cache
  Credentials: ~/.docker/config.json "auths", or --registry-user USER with
  --registry-password-stdin (pull, push, sign).
`;

const SUBCOMMANDS = new Set(["--oci-pull", "--oci-push", "--oci-sign", "--oci-cache"]);

/** Whether argv is a registry subcommand (its first word is one). */
export function isRegistryCommand(argv: readonly string[]): boolean {
  return SUBCOMMANDS.has(argv[0]);
}

/** A usage message for a registry subcommand given after other options (the run's parser
 * knows no such option); undefined for any other message. */
export function misplacedSubcommand(usageMessage: string): string | undefined {
  const flag = /^unknown option (--oci-[a-z]+)(=|$)/.exec(usageMessage)?.[1];
  if (flag === undefined || !SUBCOMMANDS.has(flag)) return undefined;
  return `${flag} must be the first argument (wasm-bpf ${flag} ...)`;
}
