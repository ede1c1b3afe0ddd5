/**
 * A real CNCF distribution registry (Debian's `docker-registry`, v2.8) for tests: started on
 * 127.0.0.1 on a free port with a temporary config and storage, ready once `/v2/` answers, and
 * stopped (and its directory removed) on dispose. Optional htpasswd or token auth. Plus plain
 * HTTP calls (independent of src/oci) to push hand-written manifests.
 */

import {
  type RegistryAuth,
  registryMissing,
  startRegistry as launch,
} from "../../scripts/registry.ts";
export { registryMissing };

/** Whether the registry tests of a file run: `ignore` when `missing` names a tool they need
 * (default: the registry's own), and `name(n)`, the test name that says so when skipped. */
export function registryGate(prefix: string, missing: string | null = registryMissing()) {
  return {
    ignore: missing !== null,
    name: (n: string) => `${prefix}: ${n}${missing ? ` (skipped: needs ${missing})` : ""}`,
  };
}

export interface TestRegistry extends AsyncDisposable {
  /** HOST:PORT, e.g. `127.0.0.1:41234`. */
  host: string;
  /** Where the registry keeps its blobs (to corrupt one). */
  storage: string;
  /** A fresh cache directory for the client side. */
  cacheDir: string;
}

/** Starts a registry in a temporary directory, on a free port; `await using` stops it and
 * removes the directory. */
export async function startRegistry(auth?: RegistryAuth): Promise<TestRegistry> {
  const dir = await Deno.makeTempDir({ prefix: "wasm-bpf-registry-" });
  try {
    const registry = await launch(dir, `${dir}/storage`, { auth });
    return {
      host: registry.host,
      storage: `${dir}/storage`,
      cacheDir: `${dir}/cache`,
      async [Symbol.asyncDispose]() {
        await registry[Symbol.asyncDispose]();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

/** sha256 of bytes, as an OCI digest (computed here, independently of src/oci). */
export async function digestOf(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return "sha256:" + Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Uploads a blob with plain HTTP calls (POST, then PUT ?digest=); returns its descriptor. */
export async function rawPushBlob(
  host: string,
  repo: string,
  bytes: Uint8Array<ArrayBuffer>,
  mediaType: string,
): Promise<{ mediaType: string; digest: string; size: number }> {
  const digest = await digestOf(bytes);
  const post = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  await post.body?.cancel();
  if (post.status !== 202) throw new Error(`POST upload: ${post.status}`);
  const url = new URL(post.headers.get("location")!, `http://${host}`);
  url.searchParams.set("digest", digest);
  const put = await fetch(url, { method: "PUT", body: bytes });
  await put.body?.cancel();
  if (put.status !== 201) throw new Error(`PUT blob: ${put.status}`);
  return { mediaType, digest, size: bytes.length };
}

/** Uploads a manifest document with a plain HTTP PUT; returns its digest. */
export async function rawPushManifest(
  host: string,
  repo: string,
  tag: string,
  manifest: unknown,
  mediaType: string,
): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    headers: { "content-type": mediaType },
    body: bytes,
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`PUT manifest: ${res.status} ${text}`);
  return await digestOf(bytes);
}

/** Pushes an image manifest (OCI media type) with plain HTTP calls: a config blob and layers,
 * each given as bytes and media type. Returns the manifest and its digest. */
export async function rawPushImage(
  host: string,
  repo: string,
  tag: string,
  config: [Uint8Array<ArrayBuffer>, string],
  layers: [Uint8Array<ArrayBuffer>, string][],
  annotations?: Record<string, string>,
): Promise<{ digest: string; manifest: Record<string, unknown> }> {
  const mediaType = "application/vnd.oci.image.manifest.v1+json";
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: await rawPushBlob(host, repo, ...config),
    layers: await Promise.all(layers.map((l) => rawPushBlob(host, repo, ...l))),
    ...(annotations ? { annotations } : {}),
  };
  return { digest: await rawPushManifest(host, repo, tag, manifest, mediaType), manifest };
}

/** The file in the registry's storage that holds blob `digest`. */
export function blobFile(storage: string, digest: string): string {
  const hex = digest.slice("sha256:".length);
  return `${storage}/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
}

/** Every file under `dir` (relative paths), or [] if it does not exist. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(d)];
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory) walk(`${d}/${e.name}`, `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  walk(dir, "");
  return out.sort();
}
