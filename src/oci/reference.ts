/**
 * Registry references: `REGISTRY/REPOSITORY[:TAG][@sha256:HEX]`, optionally written
 * `oci://...`. The registry part is required (it must look like a host: a dot, a port, or
 * `localhost`), so a relative path such as `examples/runqlat.wasm` is never taken for one.
 */

/** A failure to pull, push, verify or cache a registry artifact; the message says why. */
export class OciError extends Error {
  /** An error whose message names the reference or digest and what went wrong. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OciError";
  }
}

/** A parsed reference. A digest, when present, is what is fetched; the tag is then only a
 * label. */
export interface Reference {
  /** Host and optional port, e.g. `ghcr.io` or `localhost:5000`. */
  registry: string;
  /** The repository path, e.g. `eunomia-bpf/execve`. */
  repository: string;
  /** The tag; `latest` when neither tag nor digest is given. */
  tag?: string;
  /** `sha256:<64 hex>`. */
  digest?: string;
}

const REGISTRY = /^(localhost|\[[0-9a-f:]+\]|[a-z0-9-]+(\.[a-z0-9-]+)*)(:[0-9]{1,5})?$/i;
const REPOSITORY =
  /^[a-z0-9]+([._]|__|-+)?[a-z0-9]*(([._]|__|-+)[a-z0-9]+)*(\/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** The only digest algorithm accepted: sha256, lowercase hex. */
export const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The prefix of the explicit form. */
export const OCI_SCHEME = "oci://";

/** Parses `spec`; returns undefined when it is not a reference (the caller then treats it as a
 * path). With the `oci://` prefix, a malformed reference is an OciError instead. */
export function parseReference(spec: string): Reference | undefined {
  const explicit = spec.startsWith(OCI_SCHEME);
  const text = explicit ? spec.slice(OCI_SCHEME.length) : spec;
  const fail = (why: string) => {
    if (explicit) throw new OciError(`${spec}: not a registry reference: ${why}`);
    return undefined;
  };
  let name = text;
  let digest: string | undefined;
  const at = text.indexOf("@");
  if (at >= 0) {
    name = text.slice(0, at);
    digest = text.slice(at + 1);
    if (!DIGEST.test(digest)) return fail(`the digest must be sha256:<64 lowercase hex>`);
  }
  const slash = name.indexOf("/");
  if (slash <= 0) return fail("it needs REGISTRY/REPOSITORY");
  const registry = name.slice(0, slash);
  const isHost = REGISTRY.test(registry) &&
    (registry.includes(".") || registry.includes(":") || registry === "localhost");
  if (!isHost) return fail(`"${registry}" is not a registry host`);
  let repository = name.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(":");
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!TAG.test(tag)) return fail(`"${tag}" is not a valid tag`);
  }
  if (!REPOSITORY.test(repository) || repository.length > 255) {
    return fail(`"${repository}" is not a valid repository name (lowercase, digits, . _ - /)`);
  }
  if (tag === undefined && digest === undefined) tag = "latest";
  return { registry, repository, tag, digest };
}

/** The canonical text of a reference (no `oci://`). */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${
    ref.digest ? `@${ref.digest}` : ""
  }`;
}

/** Whether the registry may be spoken to in plain http: loopback always, others only when the
 * user names them (`--insecure-registry HOST`). */
export function isPlainHttpAllowed(registry: string, insecure: readonly string[] = []): boolean {
  const host = registry.replace(/:[0-9]+$/, "");
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]" ||
    insecure.includes(registry) || insecure.includes(host);
}
