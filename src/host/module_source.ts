/**
 * Where a guest module comes from: a file path, a `file:` URL, or an `http(s):` URL fetched
 * with a size limit. Every failure is a GuestModuleError whose message names the cause.
 */

import { concatBytes } from "../bytes.ts";
import { checkModuleSize, GuestModuleError, MAX_MODULE_BYTES } from "./guest_module.ts";

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
