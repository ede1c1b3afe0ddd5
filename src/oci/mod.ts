/**
 * OCI registries: references, the distribution API client, manifests, the content-addressed
 * cache and cosign-format signatures. Depends on nothing above it but the module size limit.
 */

export { Cache, defaultCacheDir, type RefRecord } from "./cache.ts";
export { type ClientOptions, RegistryClient, RegistryUnreachableError } from "./client.ts";
export type { Credentials } from "./auth.ts";
export {
  type PulledModule,
  pullModule,
  type PullOptions,
  type PullPolicy,
  type RegistryOptions,
} from "./pull.ts";
export { pushModule, signReference } from "./push.ts";
export {
  formatReference,
  isPlainHttpAllowed,
  OCI_SCHEME,
  OciError,
  parseReference,
  type Reference,
} from "./reference.ts";
