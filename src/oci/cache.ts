/**
 * The local cache, content-addressed: `blobs/sha256/<hex>` holds manifests and modules by
 * digest, and `refs/<registry>/<repository>/<tag>.json` (or `@sha256-<hex>.json`) records what
 * a reference resolved to, and when. Every write is a temporary file renamed into place, so
 * concurrent pulls never leave a partial file; a blob is re-hashed whenever it is read.
 */

import { sha256Digest } from "./digest.ts";
import { formatReference, OciError, type Reference } from "./reference.ts";

/** What a pulled reference resolved to. */
export interface RefRecord {
  /** The reference as pulled. */
  reference: string;
  /** Digest of the manifest the reference named. */
  manifest: string;
  /** Digest of the module (its layer). */
  module: string;
  /** When `manifest` is an index: the digest of the manifest chosen in it. */
  image?: string;
  /** Digest of the cosign signature manifest verified with it, if any. */
  signature?: string;
  /** When it was resolved (ms since the epoch). */
  time: number;
}

/** `$XDG_CACHE_HOME/wasm-bpf`, else `~/.cache/wasm-bpf`. */
export function defaultCacheDir(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/wasm-bpf`;
  const home = Deno.env.get("HOME");
  if (!home) throw new Error("no cache directory: set XDG_CACHE_HOME or HOME");
  return `${home}/.cache/wasm-bpf`;
}

export class Cache {
  readonly root: string;

  /** A cache under `root` (default: {@link defaultCacheDir}); nothing is created until a
   * write. Throws an OciError when `root` is there but no directory. */
  constructor(root?: string) {
    this.root = root ?? defaultCacheDir();
    let isDirectory = true;
    try {
      isDirectory = Deno.statSync(this.root).isDirectory;
    } catch {
      // missing (made at the first write) or unreadable (said by the first use)
    }
    if (!isDirectory) throw new OciError(`the cache ${this.root} is not a directory (--cache-dir)`);
  }

  #blobPath(digest: string): string {
    return `${this.root}/blobs/sha256/${digest.slice("sha256:".length)}`;
  }

  #refPath(ref: Reference): string {
    const name = ref.digest ? `@${ref.digest.replace(":", "-")}` : ref.tag;
    return `${this.root}/refs/${ref.registry}/${ref.repository}/${name}.json`;
  }

  /** The blob's bytes if cached and intact; a damaged blob is removed and reported missing. */
  async getBlob(digest: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await Deno.readFile(this.#blobPath(digest)) as Uint8Array<ArrayBuffer>;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
    if (await sha256Digest(bytes) === digest) return bytes;
    await Deno.remove(this.#blobPath(digest)).catch(() => {});
    return undefined;
  }

  /** Stores a blob whose digest the caller has checked. */
  async putBlob(digest: string, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    await atomicWrite(this.#blobPath(digest), bytes);
  }

  /** What `ref` resolved to when last pulled. */
  async getRef(ref: Reference): Promise<RefRecord | undefined> {
    try {
      return JSON.parse(await Deno.readTextFile(this.#refPath(ref))) as RefRecord;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof SyntaxError) return undefined;
      throw e;
    }
  }

  /** Records a resolution (after its blobs are stored). */
  async putRef(ref: Reference, record: Omit<RefRecord, "reference" | "time">): Promise<void> {
    const full: RefRecord = { reference: formatReference(ref), ...record, time: Date.now() };
    await atomicWrite(this.#refPath(ref), new TextEncoder().encode(JSON.stringify(full) + "\n"));
  }

  /** Every recorded reference. */
  async listRefs(): Promise<RefRecord[]> {
    const out: RefRecord[] = [];
    const walk = async (dir: string) => {
      try {
        for await (const entry of Deno.readDir(dir)) {
          const path = `${dir}/${entry.name}`;
          if (entry.isDirectory) await walk(path);
          else if (entry.name.endsWith(".json")) {
            try {
              out.push(JSON.parse(await Deno.readTextFile(path)));
            } catch { /* a damaged record is skipped; prune removes nothing it names */ }
          }
        }
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    };
    await walk(`${this.root}/refs`);
    return out.sort((a, b) => a.reference.localeCompare(b.reference));
  }

  /** Forgets a reference; true if it was recorded. Its blobs go at the next prune. */
  async removeRef(ref: Reference): Promise<boolean> {
    try {
      await Deno.remove(this.#refPath(ref));
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  /** Removes every blob no recorded reference names (and stray temporary files); returns how
   * many files and bytes went. */
  async prune(): Promise<{ files: number; bytes: number }> {
    const keep = new Set<string>();
    for (const r of await this.listRefs()) {
      for (const d of [r.manifest, r.module, r.image, r.signature]) if (d) keep.add(d);
      // A signature manifest's own blobs (its payload) are kept with it.
      if (r.signature) {
        const sig = await this.getBlob(r.signature);
        try {
          for (const l of JSON.parse(new TextDecoder().decode(sig)).layers ?? []) {
            keep.add(l.digest);
          }
        } catch { /* unreadable: its payload goes */ }
      }
    }
    let files = 0;
    let bytes = 0;
    const dir = `${this.root}/blobs/sha256`;
    try {
      for await (const entry of Deno.readDir(dir)) {
        if (keep.has(`sha256:${entry.name}`)) continue;
        const path = `${dir}/${entry.name}`;
        const size = (await Deno.stat(path)).size;
        await Deno.remove(path);
        files++;
        bytes += size;
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return { files, bytes };
  }
}

/** Writes `path` whole or not at all: a private temporary file in the same directory, then a
 * rename (atomic on one filesystem; the last of two concurrent writers wins, both complete). */
async function atomicWrite(path: string, bytes: Uint8Array): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    await Deno.writeFile(tmp, bytes, { mode: 0o644 });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
