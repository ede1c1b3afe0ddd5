/**
 * Pulling a module: resolve the reference (cache or registry, per the pull policy), pick the
 * wasm layer (through an index if need be), verify the signature when a key is given, check
 * every digest, and only then cache: a failure leaves the cache as it was.
 */

import { MAX_MODULE_BYTES } from "../module_limit.ts";
import { Cache } from "./cache.ts";
import { type ClientOptions, RegistryClient, RegistryUnreachableError } from "./client.ts";
import { sha256Digest } from "./digest.ts";
import {
  hasWasmLayer,
  type ImageManifest,
  MANIFEST_ACCEPT,
  parseManifest,
  wasmLayerOf,
} from "./media.ts";
import { progressLine } from "./progress.ts";
import { formatReference, OciError, type Reference } from "./reference.ts";
import { importKey, signatureTag, verifySignature } from "./signature.ts";

/** When to ask the registry: `missing` (only if not cached), `always`, or `never` (cache
 * only). */
export type PullPolicy = "missing" | "always" | "never";

/** How a module named by a registry reference is fetched. */
export interface RegistryOptions {
  /** When to ask the registry; default `missing` for a digest reference, `always` for a tag.
   * When the registry cannot be reached, a cached copy is used, with a warning. */
  pull?: PullPolicy;
  /** A PEM ECDSA P-256 public key file: the manifest must carry a cosign signature by it
   * (tag `sha256-<hex>.sig`), checked before anything runs, offline from the cache too. */
  verifyKey?: string;
  /** Registries (HOST or HOST:PORT) that may be spoken to in plain http; loopback always may. */
  insecureRegistries?: readonly string[];
  /** The cache directory (default `$XDG_CACHE_HOME/wasm-bpf` or `~/.cache/wasm-bpf`). */
  cacheDir?: string;
}

/** Registry options of a pull or a run by reference. */
export interface PullOptions extends RegistryOptions, ClientOptions {
  /** Show a progress line on a terminal stderr for a slow download. */
  progress?: boolean;
  /** Receives one-line warnings (the registry is unreachable, using the cache). */
  warn?: (message: string) => void;
}

/** A pulled module. */
export interface PulledModule {
  bytes: Uint8Array<ArrayBuffer>;
  /** Digest of the manifest (or index) the reference names. */
  digest: string;
  /** Whether it came from the cache without asking the registry. */
  cached: boolean;
}

/** The largest index walked for a wasm manifest. */
const MAX_INDEX_ENTRIES = 16;

/** Pulls the module `ref` names, as `options.pull` says. */
export async function pullModule(ref: Reference, options: PullOptions = {}): Promise<PulledModule> {
  const what = formatReference(ref);
  const cache = new Cache(options.cacheDir);
  const key = options.verifyKey ? await readPublicKey(options.verifyKey) : undefined;
  const policy = options.pull ?? (ref.digest ? "missing" : "always");
  if (policy !== "always") {
    const cached = await fromCache(cache, ref, key, what);
    if (cached) return cached;
    if (policy === "never") {
      throw new OciError(
        `${what}: not in the cache (${cache.root})${key ? " with a verified signature" : ""}, ` +
          "and --pull=never",
      );
    }
  }
  try {
    return await fromRegistry(cache, ref, key, options, what);
  } catch (e) {
    if (!(e instanceof RegistryUnreachableError)) throw e;
    const cached = await fromCache(cache, ref, key, what);
    if (!cached) throw new OciError(`${e.message}, and it is not in the cache`, { cause: e });
    options.warn?.(`${e.message}: running the cached copy (${cached.digest})`);
    return cached;
  }
}

async function readPublicKey(path: string): Promise<CryptoKey> {
  let pem: string;
  try {
    pem = await Deno.readTextFile(path);
  } catch (e) {
    throw new OciError(`--verify-key ${path}: ${(e as Error).message}`, { cause: e });
  }
  return await importKey(pem, path, "public");
}

/** The cached module, verified from cached blobs when a key is given; undefined on a miss. */
async function fromCache(
  cache: Cache,
  ref: Reference,
  key: CryptoKey | undefined,
  what: string,
): Promise<PulledModule | undefined> {
  const record = await cache.getRef(ref);
  if (!record) return ref.digest && !key ? await fromCachedManifest(cache, ref.digest) : undefined;
  // The record only points: the module must be the one the (hash-checked) manifest names.
  const pulled = await fromCachedManifest(cache, record.manifest, record.image);
  if (!pulled) return undefined;
  if (key) {
    const signature = record.signature && await cache.getBlob(record.signature);
    if (!signature) return undefined;
    await verifySignature(signature, record.manifest, key, async (layer) => {
      const payload = await cache.getBlob(layer.digest);
      if (!payload) throw new OciError(`${what}: the cached signature payload is missing`);
      return payload;
    }, what);
  }
  return pulled;
}

/** The module of manifest `digest` from cached blobs alone (each re-hashed as it is read);
 * for an index, through its entry `image`. Undefined when a blob is missing. */
async function fromCachedManifest(
  cache: Cache,
  digest: string,
  image?: string,
): Promise<PulledModule | undefined> {
  const top = await cache.getBlob(digest);
  if (!top) return undefined;
  let doc = parseManifest(top, digest);
  if (doc.kind === "index") {
    if (!image || !doc.index.manifests.some((m) => m.digest === image)) return undefined;
    const chosen = await cache.getBlob(image);
    if (!chosen) return undefined;
    doc = parseManifest(chosen, image);
  }
  if (doc.kind !== "manifest" || !hasWasmLayer(doc.manifest)) return undefined;
  const bytes = await cache.getBlob(wasmLayerOf(doc.manifest, digest).digest);
  return bytes && { bytes, digest, cached: true };
}

async function fromRegistry(
  cache: Cache,
  ref: Reference,
  key: CryptoKey | undefined,
  options: PullOptions,
  what: string,
): Promise<PulledModule> {
  const client = new RegistryClient(ref.registry, options);
  const toCache: [string, Uint8Array<ArrayBuffer>][] = [];
  const top = await client.getManifest(ref.repository, ref.digest ?? ref.tag!);
  const digest = ref.digest ?? await sha256Digest(top.bytes);
  toCache.push([digest, top.bytes]);
  const doc = parseManifest(top.bytes, what);
  let manifest: ImageManifest;
  let image: string | undefined;
  if (doc.kind === "manifest") {
    manifest = doc.manifest;
  } else {
    const found: string[] = [];
    let chosen: ImageManifest | undefined;
    for (const entry of doc.index.manifests.slice(0, MAX_INDEX_ENTRIES)) {
      if (!MANIFEST_ACCEPT.includes(entry.mediaType)) {
        found.push(entry.mediaType);
        continue;
      }
      const sub = await client.getManifest(ref.repository, entry.digest);
      const subDoc = parseManifest(sub.bytes, `${what}: ${entry.digest}`);
      if (subDoc.kind !== "manifest") continue; // nested indexes are not walked
      if (hasWasmLayer(subDoc.manifest)) {
        chosen = subDoc.manifest;
        image = entry.digest;
        toCache.push([entry.digest, sub.bytes]);
        break;
      }
      found.push(...subDoc.manifest.layers.map((l) => l.mediaType));
    }
    if (!chosen) {
      throw new OciError(
        `${what}: the index has no manifest with a wasm layer (media types found: ` +
          `${[...new Set(found)].join(", ") || "none"})`,
      );
    }
    manifest = chosen;
  }
  const layer = wasmLayerOf(manifest, what);
  let signature: string | undefined;
  if (key) {
    const tag = signatureTag(digest);
    const sig = await client.getManifest(ref.repository, tag, true);
    if (!sig) {
      throw new OciError(
        `${what}: no signature: ${ref.registry}/${ref.repository}:${tag} does not exist`,
      );
    }
    await verifySignature(sig.bytes, digest, key, async (payloadLayer) => {
      const payload = await client.getBlob(ref.repository, payloadLayer, payloadLayer.size, what);
      toCache.push([payloadLayer.digest, payload]);
      return payload;
    }, what);
    signature = await sha256Digest(sig.bytes);
    toCache.push([signature, sig.bytes]);
  }
  const progress = options.progress ? progressLine(what) : undefined;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await client.getBlob(
      ref.repository,
      layer,
      MAX_MODULE_BYTES,
      `${what}: module`,
      progress?.onProgress,
    );
  } finally {
    progress?.done();
  }
  toCache.push([layer.digest, bytes]);
  // Everything is verified: now the cache may change, blobs before the record naming them.
  for (const [d, b] of toCache) await cache.putBlob(d, b);
  await cache.putRef(ref, { manifest: digest, module: layer.digest, image, signature });
  return { bytes, digest, cached: false };
}
