/**
 * Manifests and media types: what upstream's `ecli push` writes (an OCI image manifest whose
 * single layer is the module), the CNCF wasm artifact layout, and image indexes that point to
 * either. Everything read from a registry is checked for shape before use.
 */

import { DIGEST, OciError } from "./reference.ts";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
/** The manifest types we ask a registry for, most wanted first. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST];

/** Config and layer types of upstream's `ecli push` (the bpf-oci crate). */
export const WASM_CONFIG = "application/vnd.wasm.config.v1+json";
export const WASM_LAYER = "application/vnd.wasm.content.layer.v1+wasm";
/** Config and layer types of the CNCF wasm artifact layout. */
export const CNCF_WASM_CONFIG = "application/vnd.wasm.config.v0+json";
export const CNCF_WASM_LAYER = "application/wasm";
const OCI_EMPTY_CONFIG = "application/vnd.oci.empty.v1+json";
const WASM_CONFIGS = [WASM_CONFIG, CNCF_WASM_CONFIG, OCI_EMPTY_CONFIG];
const WASM_LAYERS = [WASM_LAYER, CNCF_WASM_LAYER];

/** The annotation `ecli push` sets to the module's file name. */
export const TITLE_ANNOTATION = "org.opencontainers.image.title";

/** The largest manifest or index we read: distribution's own limit. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A content descriptor: what a manifest says about a blob. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

/** An OCI (or Docker v2) image manifest. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** An image index (or Docker manifest list). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

/** A manifest document as read: one or the other. */
export type ManifestDocument =
  | { kind: "manifest"; manifest: ImageManifest }
  | { kind: "index"; index: ImageIndex };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function descriptorOf(v: unknown, where: string): Descriptor {
  if (
    !isObject(v) || typeof v.mediaType !== "string" || typeof v.digest !== "string" ||
    !Number.isSafeInteger(v.size) || (v.size as number) < 0
  ) {
    throw new OciError(`${where}: not a descriptor (mediaType, digest, size)`);
  }
  if (!DIGEST.test(v.digest)) {
    throw new OciError(`${where}: unsupported digest ${JSON.stringify(v.digest)} (only sha256)`);
  }
  if (v.annotations !== undefined && !isObject(v.annotations)) {
    throw new OciError(`${where}: annotations must be an object`);
  }
  return v as unknown as Descriptor;
}

/** Parses manifest bytes; `what` names them in errors. Accepts image manifests and indexes. */
export function parseManifest(bytes: Uint8Array, what: string): ManifestDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new OciError(`${what}: the manifest is not JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc) || doc.schemaVersion !== 2) {
    throw new OciError(`${what}: not a schemaVersion 2 manifest`);
  }
  const mediaType = doc.mediaType;
  if (Array.isArray(doc.manifests)) {
    if (mediaType !== undefined && mediaType !== OCI_INDEX && mediaType !== DOCKER_MANIFEST_LIST) {
      throw new OciError(`${what}: unknown index media type ${mediaType}`);
    }
    doc.manifests.forEach((m, i) => descriptorOf(m, `${what}: manifests[${i}]`));
    return { kind: "index", index: doc as unknown as ImageIndex };
  }
  if (mediaType !== undefined && mediaType !== OCI_MANIFEST && mediaType !== DOCKER_MANIFEST) {
    throw new OciError(
      `${what}: media type ${mediaType} is not an image manifest or index ` +
        `(accepted: ${MANIFEST_ACCEPT.join(", ")})`,
    );
  }
  descriptorOf(doc.config, `${what}: config`);
  if (!Array.isArray(doc.layers)) throw new OciError(`${what}: the manifest has no layers`);
  doc.layers.forEach((l, i) => descriptorOf(l, `${what}: layers[${i}]`));
  return { kind: "manifest", manifest: doc as unknown as ImageManifest };
}

/** The layer holding the module: the first of a wasm type, under a wasm (or empty) config.
 * Anything else is refused with the media types found. */
export function wasmLayerOf(manifest: ImageManifest, what: string): Descriptor {
  const layer = manifest.layers.find((l) => WASM_LAYERS.includes(l.mediaType));
  if (layer && WASM_CONFIGS.includes(manifest.config.mediaType)) return layer;
  const found = [manifest.config.mediaType, ...manifest.layers.map((l) => l.mediaType)];
  throw new OciError(
    `${what}: not a wasm module artifact: found media types ${found.join(", ")}; ` +
      `expected config ${WASM_CONFIGS.join(" or ")} with a layer ${WASM_LAYERS.join(" or ")}`,
  );
}

/** Whether a manifest carries a wasm module (for picking one out of an index). */
export function hasWasmLayer(manifest: ImageManifest): boolean {
  try {
    wasmLayerOf(manifest, "");
    return true;
  } catch {
    return false;
  }
}

/** The manifest `ecli push` writes for a module: config `{}`, one layer, the title. */
export function moduleManifest(
  config: Descriptor,
  layer: Descriptor,
  annotations: Record<string, string>,
): ImageManifest & { mediaType: string } {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config,
    layers: [layer],
    annotations,
  };
}
