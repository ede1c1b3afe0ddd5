/** A GuestPolicy as the CLI flags that give it, for a guest run in a child process. */

import type { GuestPolicy } from "../host/policy.ts";

export function policyToFlags(policy: GuestPolicy | undefined): string[] {
  if (!policy) return [];
  const flags: string[] = [];
  // An empty allow-list must stay an allow-list of nothing, not vanish into "allow all".
  if (policy.allowProgramTypes !== undefined) {
    flags.push(`--allow-program-type=${[...policy.allowProgramTypes].join(",")}`);
  }
  if (policy.allowAttach !== undefined) {
    flags.push(`--allow-attach=${policy.allowAttach.join(",")}`);
  }
  if (policy.allowMapWrite !== undefined) flags.push(`--allow-map-write=${policy.allowMapWrite}`);
  if (policy.maxObjects !== undefined) flags.push(`--max-objects=${policy.maxObjects}`);
  if (policy.maxMemoryMiB !== undefined) flags.push(`--max-memory=${policy.maxMemoryMiB}`);
  if (policy.allowWasmFeatures?.length) {
    flags.push(`--allow-wasm-feature=${policy.allowWasmFeatures.join(",")}`);
  }
  if (policy.pinRoot !== undefined) flags.push(`--pin-root=${policy.pinRoot}`);
  return flags;
}
