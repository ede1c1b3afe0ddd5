/**
 * Where a guest module comes from: a file path, a `file:` URL, or an `http(s):` URL fetched
 * with a size limit. Every failure is a GuestModuleError whose message names the cause.
 */

import { concatBytes } from "../bytes.ts";
import { checkModuleSize, GuestModuleError } from "./guest_module.ts";
import { MAX_MODULE_BYTES } from "../module_limit.ts";
import {
  formatReference,
  OCI_SCHEME,
  OciError,
  parseReference,
  type Reference,
} from "../oci/reference.ts";
import type { PullOptions } from "../oci/pull.ts";
import {
  close,
  ENOENT,
  fstat,
  LinuxError,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  openat,
  read,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
} from "../wasi/linux.ts";

const AT_FDCWD = -100;
const EACCES = 13;
const EPERM = 1;

/** How long a module download may take before it is abandoned. */
export const FETCH_TIMEOUT_MS = 30_000;

/** True when `spec` names a remote module (http: or https:). */
export function isRemoteModule(spec: string | URL): boolean {
  const s = String(spec);
  return s.startsWith("https://") || s.startsWith("http://");
}

/** Reads module bytes from a path or URL. */
export async function readModuleBytes(spec: string | URL): Promise<Uint8Array<ArrayBuffer>> {
  if (isRemoteModule(spec)) {
    let url: URL;
    try {
      url = new URL(String(spec));
    } catch {
      throw new GuestModuleError("not a valid URL");
    }
    return await fetchModule(url);
  }
  const path = spec instanceof URL || String(spec).startsWith("file:")
    ? decodeURIComponent(new URL(String(spec)).pathname)
    : String(spec);
  try {
    return await readModuleFile(path);
  } catch (e) {
    if (e instanceof GuestModuleError) throw e;
    const errno = e instanceof LinuxError ? e.linuxErrno : undefined;
    if (errno === ENOENT) throw new GuestModuleError("no such file");
    if (errno === EACCES || errno === EPERM) throw new GuestModuleError("permission denied");
    throw new GuestModuleError(`cannot read it: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Reads a module file: only a regular file, and never more than MAX_MODULE_BYTES. The file is
 * opened non-blocking, so that a FIFO with no writer is refused instead of waiting forever, and
 * what it is is decided on the open file itself (no race between a check and the open).
 *
 * Deno's own file API cannot open non-blocking, so libc does it (src/wasi/linux.ts: the FFI
 * every run needs anyway), not node:fs: loading Deno's Node layer costs a CLI run ~25 ms of
 * start-up and ~12 MB of memory. Deno's read permission is asked as its own open would.
 */
async function readModuleFile(path: string): Promise<Uint8Array<ArrayBuffer>> {
  if ((await Deno.permissions.request({ name: "read", path })).state !== "granted") {
    throw new GuestModuleError("permission denied");
  }
  const fd = openat(AT_FDCWD, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  try {
    const info = fstat(fd);
    const type = info.mode & S_IFMT;
    if (type === S_IFDIR) throw new GuestModuleError("is a directory, not a module");
    if (type !== S_IFREG) {
      throw new GuestModuleError(
        `is ${fileKind(type)}, not a regular file: give the path of a .wasm file`,
      );
    }
    checkModuleSize(Number(info.size));
    return await readAtMost((buf) => read(fd, buf), MAX_MODULE_BYTES, Number(info.size));
  } finally {
    close(fd);
  }
}

function fileKind(type: number): string {
  if (type === S_IFIFO) return "a FIFO (named pipe)";
  if (type === S_IFCHR) return "a character device";
  if (type === S_IFBLK) return "a block device";
  if (type === S_IFSOCK) return "a socket";
  return "a special file";
}

/** Reads to the end through `readInto` (the bytes it put at the start of the buffer it is
 * given; 0 at the end), throwing a GuestModuleError once it has given more than `limit` bytes:
 * the size `stat` gave can change while it is read, and some files report none.
 *
 * The first buffer holds `expectedBytes` and one more (so a file of the size stat gave ends
 * in it), not READ_CHUNK: a zeroed 1 MiB buffer for a 40 KB module was 1 MB of peak memory. */
export async function readAtMost(
  readInto: (buf: Uint8Array) => number | Promise<number>,
  limit: number,
  expectedBytes = READ_CHUNK,
): Promise<Uint8Array<ArrayBuffer>> {
  const full: Uint8Array[] = [];
  let chunk = new Uint8Array(Math.min(READ_CHUNK, Math.max(0, expectedBytes) + 1));
  let used = 0;
  let total = 0;
  for (;;) {
    if (used === chunk.length) {
      full.push(chunk);
      chunk = new Uint8Array(READ_CHUNK);
      used = 0;
    }
    const bytesRead = await readInto(chunk.subarray(used));
    if (bytesRead === 0) return concatBytes([...full, chunk.subarray(0, used)]);
    used += bytesRead;
    total += bytesRead;
    if (total > limit) checkModuleSize(total, limit); // throws
  }
}

const READ_CHUNK = 1 << 20;

/** Downloads a module, refusing more than MAX_MODULE_BYTES whatever Content-Length says. */
/** Why a fetch failed, for a user: a timeout as such; otherwise the innermost cause (Deno's
 * "fetch failed" hides "dns error: ..." or "Connection refused" in `cause`). */
function fetchFailure(e: unknown): string {
  if ((e as Error).name === "TimeoutError") return `no answer within ${FETCH_TIMEOUT_MS / 1000} s`;
  let inner = e as Error;
  while (inner.cause instanceof Error) inner = inner.cause;
  return inner.message;
}

async function fetchModule(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) {
      throw new GuestModuleError(`fetching it needs --allow-net=${url.host}`, { cause: e });
    }
    throw new GuestModuleError(`cannot fetch it: ${fetchFailure(e)}`, { cause: e });
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
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (e) {
      // The connection broke (or timed out) in the middle of the body.
      throw new GuestModuleError(`cannot fetch it: after ${total} bytes, ${fetchFailure(e)}`, {
        cause: e,
      });
    }
    const { done, value } = chunk;
    if (done) break;
    total += value.length;
    if (total > MAX_MODULE_BYTES) {
      await reader.cancel().catch(() => {});
      throw new GuestModuleError(
        `the module is over the ${MAX_MODULE_BYTES / 1024 / 1024} MiB this host accepts ` +
          `(the server sent more, and said no length)`,
      );
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
    if (!ref && registry.verifyKey !== undefined) {
      // Asked to check a signature, never run unchecked code silently.
      throw new GuestModuleError(
        "a signature check was asked for (--verify-key), but only registry references carry " +
          "signatures: a file or URL cannot be verified",
      );
    }
    if (!ref) return await readModuleBytes(spec);
    // The OCI client is loaded only for a registry reference: a file run does not need it.
    const { pullModule } = await import("../oci/pull.ts");
    return (await pullModule(ref, registry)).bytes;
  } catch (e) {
    if (!(e instanceof OciError)) throw e;
    // The CLI prefixes the module's name already.
    const prefix = ref ? `${formatReference(ref)}: ` : "";
    const message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    throw new GuestModuleError(message, { cause: e });
  }
}
