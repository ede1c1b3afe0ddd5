/** RegistryOptions as the CLI flags that give them, for a guest run in a child process. */

import type { RegistryOptions } from "./types.ts";

export function registryToFlags(registry: RegistryOptions | undefined): string[] {
  if (!registry) return [];
  return [
    ...(registry.pull ? [`--pull=${registry.pull}`] : []),
    ...(registry.verifyKey ? ["--verify-key", registry.verifyKey] : []),
    ...(registry.insecureRegistries ?? []).flatMap((host) => ["--insecure-registry", host]),
    ...(registry.cacheDir ? ["--cache-dir", registry.cacheDir] : []),
  ];
}
