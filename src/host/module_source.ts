/**
 * Where a guest module comes from: a file path, a `file:` URL, or an `http(s):` URL fetched
 * with a size limit. Every failure is a GuestModuleError whose message names the cause.
 */

import { concatBytes } from "../bytes.ts";
import { checkModuleSize, GuestModuleError, MAX_MODULE_BYTES } from "./guest_module.ts";
import {
  formatReference,
  OCI_SCHEME,
  OciError,
  parseReference,
  pullModule,
  type PullOptions,
  type Reference,
} from "../oci/mod.ts";

/** How long a module download may take before it is abandoned. */
export const FETCH_TIMEOUT_MS = 30_000;

/** True when `spec` names a remote module (http: or https:). */
export function isRemoteModule(spec: string | URL): boolean {
  const s = String(spec);
  return s.startsWith("https://") || s.startsWith("http://");
}

/** Reads module bytes from a path or URL. */
export async function readModuleBytes(spec: string | URL): Promise<Uint8Array<ArrayBuffer>> {
  if (isRemoteModule(spec)) return await fetchModule(new URL(String(spec)));
  const path = spec instanceof URL || String(spec).startsWith("file:")
    ? decodeURIComponent(new URL(String(spec)).pathname)
    : String(spec);
  try {
    const info = await Deno.stat(path);
    if (info.isDirectory) throw new GuestModuleError("is a directory, not a module");
    checkModuleSize(info.size);
    return await Deno.readFile(path) as Uint8Array<ArrayBuffer>;
  } catch (e) {
    if (e instanceof GuestModuleError) throw e;
    if (e instanceof Deno.errors.NotFound) throw new GuestModuleError("no such file");
    if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
      throw new GuestModuleError("permission denied");
    }
    throw new GuestModuleError(`cannot read it: ${(e as Error).message}`, { cause: e });
  }
}

/** Downloads a module, refusing more than MAX_MODULE_BYTES whatever Content-Length says. */
async function fetchModule(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) {
      throw new GuestModuleError(`fetching it needs --allow-net=${url.host}`, { cause: e });
    }
    const why = (e as Error).name === "TimeoutError"
      ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s`
      : (e as Error).message;
    throw new GuestModuleError(`cannot fetch it: ${why}`, { cause: e });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new GuestModuleError(`cannot fetch it: HTTP ${response.status} ${response.statusText}`);
  }
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared)) {
    try {
      checkModuleSize(declared);
    } catch (e) {
      await response.body?.cancel();
      throw e;
    }
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_MODULE_BYTES) {
      await reader.cancel().catch(() => {});
      checkModuleSize(total); // throws: the server sent more than it may
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}

/** The registry reference `spec` names, if it is one: `oci://...`, or a string that parses as
 * REGISTRY/REPO[:TAG][@DIGEST] and names no existing file (a file always wins). */
export function registryReferenceOf(spec: string | URL): Reference | undefined {
  if (spec instanceof URL) return spec.protocol === "oci:" ? parseReference(spec.href) : undefined;
  if (isRemoteModule(spec)) return undefined;
  if (spec.startsWith(OCI_SCHEME)) return parseReference(spec);
  const ref = parseReference(spec);
  if (!ref) return undefined;
  try {
    Deno.statSync(spec);
    return undefined;
  } catch (e) {
    return e instanceof Deno.errors.NotFound ? ref : undefined;
  }
}

/** Module bytes from a registry reference (through src/oci: cache, digests, signature), or
 * else from a path or URL as {@link readModuleBytes} reads them. */
export async function readModuleOrReference(
  spec: string | URL,
  registry: PullOptions = {},
): Promise<Uint8Array<ArrayBuffer>> {
  let ref: Reference | undefined;
  try {
    ref = registryReferenceOf(spec);
    if (!ref) return await readModuleBytes(spec);
    return (await pullModule(ref, registry)).bytes;
  } catch (e) {
    if (!(e instanceof OciError)) throw e;
    // The CLI prefixes the module's name already.
    const prefix = ref ? `${formatReference(ref)}: ` : "";
    const message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    throw new GuestModuleError(message, { cause: e });
  }
}
