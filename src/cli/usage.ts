/**
 * The command line's syntax: `wasm-bpf [options] <module.wasm> [guest args...]`, its usage
 * text and its parser (generated from the option table, run_options.ts). The program that runs
 * it, on top of the library, is src/cli/main.ts.
 */

import { VERSION } from "../version.ts";
import { POLICY_USAGE } from "../options/policy_flags.ts";
import { REGISTRY_USAGE } from "./registry_usage.ts";
import {
  type CliOptions,
  HOST_OPTIONS_USAGE,
  parseCli,
  type ParsedCli,
} from "../options/run_options.ts";
import { UsageError } from "../options/option_table.ts";

export { type CliOptions, parseCli, type ParsedCli, UsageError };

export const USAGE = `wasm-bpf ${VERSION}: run eBPF programs packaged as WebAssembly modules.

USAGE: wasm-bpf [options] <module.wasm | https://.../module.wasm | REGISTRY/REPO:TAG> [guest args...]

Everything after the module path is passed to the guest unchanged.

OPTIONS:
${HOST_OPTIONS_USAGE}${POLICY_USAGE}
${REGISTRY_USAGE}
EXAMPLES:
  sudo wasm-bpf runqlat.wasm 1 10    # run-queue latency: 1 s summaries, 10 times
  sudo wasm-bpf runqlat.wasm -h      # the guest's own help
  sudo wasm-bpf bootstrap.wasm -d 50 # process exec/exit events lasting >= 50 ms
  sudo wasm-bpf --dir /tmp:/data --env LANG=C guest.wasm
  sudo wasm-bpf --attach-dir /sys/fs/cgroup/unified/app:/cgroup cgroup_skb.wasm /cgroup
  sudo wasm-bpf https://example.com/guests/execve.wasm
  sudo wasm-bpf localhost:5000/examples/runqlat:latest 1 3

EXIT STATUS:
  the guest's exit code; 1 host error; 2 usage error; 130 Ctrl-C; 143 SIGTERM
`;
