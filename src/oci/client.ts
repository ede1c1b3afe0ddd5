/**
 * The registry HTTP API (OCI distribution spec), spoken with `fetch`: manifests and blobs in
 * and out, the Basic and Bearer challenges, redirects followed by hand (bounded, loops caught,
 * credentials never sent to another host), and every body read under a size limit.
 */

import {
  basicAuthorization,
  type Challenge,
  type Credentials,
  dockerCredentials,
  parseChallenge,
} from "./auth.ts";
import { checkDigest } from "./digest.ts";
import { type Descriptor, MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from "./media.ts";
import { isPlainHttpAllowed, OciError } from "./reference.ts";

/** How long one request may take before it is abandoned. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Redirects followed for one request. */
const MAX_REDIRECTS = 5;

/** The registry could not be reached at all (as opposed to answering with an error): the
 * caller may fall back to its cache. */
export class RegistryUnreachableError extends OciError {
  /** An error naming the registry and the network failure. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RegistryUnreachableError";
  }
}

/** Options of {@link RegistryClient}. */
export interface ClientOptions {
  /** Registries (HOST or HOST:PORT) that may be spoken to in plain http. Loopback always may. */
  insecureRegistries?: readonly string[];
  /** Credentials; by default those of `~/.docker/config.json`, if any. */
  credentials?: Credentials;
}

/** What a manifest fetch returns: the exact bytes (their digest is the manifest's identity). */
export interface FetchedManifest {
  bytes: Uint8Array<ArrayBuffer>;
  mediaType: string;
}

/** One registry's API, with the authorization it has earned so far. */
export class RegistryClient {
  readonly registry: string;
  readonly #base: URL;
  readonly #options: ClientOptions;
  #credentials: Credentials | undefined | null = null; // null: not looked up yet
  #authorization: string | undefined;

  /** A client for `registry` (HOST[:PORT]); https unless plain http is allowed for it. */
  constructor(registry: string, options: ClientOptions = {}) {
    this.registry = registry;
    this.#options = options;
    const scheme = isPlainHttpAllowed(registry, options.insecureRegistries) ? "http" : "https";
    this.#base = new URL(`${scheme}://${registry}/v2/`);
  }

  #creds(): Credentials | undefined {
    if (this.#credentials === null) {
      this.#credentials = this.#options.credentials ?? dockerCredentials(this.registry);
    }
    return this.#credentials;
  }

  /** Fetches a manifest by tag or digest. A manifest asked for by digest must hash to it.
   * With `optional`, a 404 gives undefined instead of an error. */
  async getManifest(repository: string, tagOrDigest: string): Promise<FetchedManifest>;
  async getManifest(
    repository: string,
    tagOrDigest: string,
    optional: true,
  ): Promise<FetchedManifest | undefined>;
  async getManifest(
    repository: string,
    tagOrDigest: string,
    optional = false,
  ): Promise<FetchedManifest | undefined> {
    const what = `${this.registry}/${repository}:${tagOrDigest}`.replace(":sha256:", "@sha256:");
    const res = await this.#send("GET", `${repository}/manifests/${tagOrDigest}`, {
      scope: `repository:${repository}:pull`,
      headers: { accept: MANIFEST_ACCEPT.join(", ") },
    }, what);
    if (optional && res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) throw await statusError(res, `${what}: cannot get the manifest`);
    const bytes = await readLimited(res, MAX_MANIFEST_BYTES, `${what}: the manifest`);
    if (tagOrDigest.startsWith("sha256:")) {
      await checkDigest(`${what}: manifest`, bytes, tagOrDigest);
    }
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0].trim();
    return { bytes, mediaType };
  }

  /** Downloads a blob, reading at most `descriptor.size` bytes (after checking that size
   * against `limit`), and checks its digest. `onProgress` sees the bytes so far and the
   * total. */
  async getBlob(
    repository: string,
    descriptor: Descriptor,
    limit: number,
    what: string,
    onProgress?: (received: number, total: number) => void,
  ): Promise<Uint8Array<ArrayBuffer>> {
    if (descriptor.size > limit) {
      throw new OciError(
        `${what}: the blob is ${mib(descriptor.size)} MiB, over the ${mib(limit)} MiB limit`,
      );
    }
    const res = await this.#send("GET", `${repository}/blobs/${descriptor.digest}`, {
      scope: `repository:${repository}:pull`,
    }, what);
    if (!res.ok) throw await statusError(res, `${what}: cannot get blob ${descriptor.digest}`);
    const bytes = await readLimited(res, descriptor.size, what, onProgress);
    if (bytes.length !== descriptor.size) {
      throw new OciError(
        `${what}: blob ${descriptor.digest} has ${bytes.length} bytes, its descriptor says ` +
          `${descriptor.size}`,
      );
    }
    await checkDigest(what, bytes, descriptor.digest);
    return bytes;
  }

  /** Uploads a blob unless the registry has it already (monolithic upload: POST then PUT). */
  async putBlob(repository: string, bytes: Uint8Array<ArrayBuffer>, digest: string): Promise<void> {
    const what = `${this.registry}/${repository}`;
    const scope = `repository:${repository}:pull,push`;
    const head = await this.#send("HEAD", `${repository}/blobs/${digest}`, { scope }, what);
    await head.body?.cancel();
    if (head.ok) return;
    const start = await this.#send("POST", `${repository}/blobs/uploads/`, { scope }, what);
    const location = start.headers.get("location");
    if (start.status !== 202 || !location) {
      throw await statusError(start, `${what}: cannot start a blob upload`);
    }
    await start.body?.cancel();
    const url = new URL(location, this.#base);
    url.searchParams.set("digest", digest);
    const put = await this.#send("PUT", url, {
      scope,
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
    }, what);
    if (put.status !== 201) throw await statusError(put, `${what}: cannot upload ${digest}`);
    await put.body?.cancel();
  }

  /** Uploads a manifest under a tag or its digest. */
  async putManifest(
    repository: string,
    tagOrDigest: string,
    bytes: Uint8Array<ArrayBuffer>,
    mediaType: string,
  ): Promise<void> {
    const what = `${this.registry}/${repository}:${tagOrDigest}`;
    const res = await this.#send("PUT", `${repository}/manifests/${tagOrDigest}`, {
      scope: `repository:${repository}:pull,push`,
      headers: { "content-type": mediaType },
      body: bytes,
    }, what);
    if (res.status !== 201) throw await statusError(res, `${what}: cannot push the manifest`);
    await res.body?.cancel();
  }

  /** One request, answering one auth challenge if the registry sends one. */
  async #send(
    method: string,
    path: string | URL,
    init: { scope: string; headers?: Record<string, string>; body?: Uint8Array<ArrayBuffer> },
    what: string,
  ): Promise<Response> {
    const url = path instanceof URL ? path : new URL(path, this.#base);
    for (let attempt = 0;; attempt++) {
      const headers = new Headers(init.headers);
      if (this.#authorization) headers.set("authorization", this.#authorization);
      const res = await this.#fetchFollowing(method, url, headers, init.body, what);
      if (res.status !== 401 || attempt > 0) return res;
      const header = res.headers.get("www-authenticate");
      await res.body?.cancel();
      if (!header) return res;
      await this.#answer(parseChallenge(header), init.scope, what);
    }
  }

  async #answer(challenge: Challenge, scope: string, what: string): Promise<void> {
    const creds = this.#creds();
    if (challenge.scheme === "basic") {
      if (!creds) throw new OciError(`${what}: 401 Unauthorized: ${NEED_CREDENTIALS}`);
      this.#authorization = basicAuthorization(creds);
      return;
    }
    if (challenge.scheme !== "bearer" || !challenge.params.realm) {
      throw new OciError(`${what}: unsupported auth challenge "${challenge.scheme}"`);
    }
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm);
    } catch {
      throw new OciError(`${what}: bad token realm ${JSON.stringify(challenge.params.realm)}`);
    }
    if (
      realm.protocol !== "https:" &&
      !(realm.protocol === "http:" &&
        isPlainHttpAllowed(realm.host, this.#options.insecureRegistries))
    ) {
      throw new OciError(`${what}: the token realm ${realm.href} is not https`);
    }
    if (challenge.params.service) realm.searchParams.set("service", challenge.params.service);
    realm.searchParams.set("scope", challenge.params.scope ?? scope);
    const headers = new Headers();
    if (creds) headers.set("authorization", basicAuthorization(creds));
    const res = await this.#fetchFollowing("GET", realm, headers, undefined, what);
    if (!res.ok) {
      throw await statusError(
        res,
        `${what}: the token server ${realm.origin} refused a token` +
          (creds ? "" : ` (anonymous; ${NEED_CREDENTIALS})`),
      );
    }
    const body = JSON.parse(
      new TextDecoder().decode(await readLimited(res, 1 << 20, `${what}: token`)),
    );
    const token = body?.token ?? body?.access_token;
    if (typeof token !== "string" || token === "") {
      throw new OciError(`${what}: the token server's answer has no token`);
    }
    this.#authorization = `Bearer ${token}`;
  }

  /** fetch(), following redirects by hand: at most MAX_REDIRECTS, never in a loop, and
   * without our Authorization once the target is another host (blob storage). */
  async #fetchFollowing(
    method: string,
    start: URL,
    headers: Headers,
    body: Uint8Array<ArrayBuffer> | undefined,
    what: string,
  ): Promise<Response> {
    const seen = new Set<string>();
    let url = start;
    for (let hop = 0;; hop++) {
      seen.add(url.href);
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers,
          body,
          redirect: "manual",
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (e) {
        if (e instanceof Deno.errors.NotCapable) {
          throw new OciError(`${what}: needs --allow-net=${url.host}`, { cause: e });
        }
        const why = (e as Error).name === "TimeoutError"
          ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
          : networkReason(e as Error);
        throw new RegistryUnreachableError(`${what}: cannot reach ${url.host}: ${why}`, {
          cause: e,
        });
      }
      const location = res.headers.get("location");
      if (![301, 302, 303, 307, 308].includes(res.status) || !location) return res;
      await res.body?.cancel();
      const next = new URL(location, url);
      if (seen.has(next.href)) {
        throw new OciError(`${what}: redirect loop at ${next.href}`);
      }
      if (hop + 1 >= MAX_REDIRECTS) {
        throw new OciError(`${what}: more than ${MAX_REDIRECTS} redirects`);
      }
      if (next.protocol !== "https:" && !(next.protocol === "http:" && url.protocol === "http:")) {
        throw new OciError(`${what}: refusing a redirect to ${next.protocol} ${next.host}`);
      }
      if (next.host !== url.host) headers.delete("authorization");
      if (res.status === 303) {
        method = "GET";
        body = undefined;
      }
      url = next;
    }
  }
}

/** The innermost cause of a fetch failure ("tcp connect error: Connection refused..."),
 * without the URL, which the message names already. */
function networkReason(e: Error): string {
  let inner: unknown = e;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  return String((inner as Error).message ?? inner).replace(
    /^error sending request for url \([^)]*\): /,
    "",
  );
}

const NEED_CREDENTIALS = "log in with `docker login` (~/.docker/config.json) " +
  "or give --registry-user with --registry-password-stdin";

function mib(n: number): string {
  return (n / 1024 / 1024).toFixed(1);
}

/** Reads a body, refusing more than `limit` bytes whatever Content-Length says. */
export async function readLimited(
  res: Response,
  limit: number,
  what: string,
  onProgress?: (received: number, total: number) => void,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel();
    throw new OciError(`${what}: ${declared} bytes announced, over the limit of ${limit}`);
  }
  const out = new Uint8Array(
    Math.min(limit, Number.isFinite(declared) ? declared : limit, 1 << 20),
  );
  let buffer = out;
  let total = 0;
  const reader = res.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.length > limit) {
      await reader.cancel().catch(() => {});
      throw new OciError(`${what}: more than the ${limit} bytes expected`);
    }
    if (total + value.length > buffer.length) {
      const grown = new Uint8Array(
        Math.min(limit, Math.max(buffer.length * 2, total + value.length)),
      );
      grown.set(buffer.subarray(0, total));
      buffer = grown;
    }
    buffer.set(value, total);
    total += value.length;
    onProgress?.(total, limit);
  }
  return buffer.slice(0, total);
}

/** An error for a non-success answer, with the registry's own error messages. */
async function statusError(res: Response, what: string): Promise<OciError> {
  let detail = "";
  try {
    const text = new TextDecoder().decode(await readLimited(res, 4096, what));
    const errors = JSON.parse(text)?.errors;
    if (Array.isArray(errors)) {
      detail = errors.map((e) => `${e?.code}: ${e?.message}`).join("; ");
    }
  } catch {
    // no readable error body
  }
  const hint = res.status === 401 ? `; ${NEED_CREDENTIALS}` : "";
  return new OciError(
    `${what}: HTTP ${res.status} ${res.statusText}${detail ? ` (${detail})` : ""}${hint}`,
  );
}
