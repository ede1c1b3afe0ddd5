/**
 * Signatures in cosign's format, by key, with WebCrypto (ECDSA P-256 over SHA-256):
 * - the signature of manifest `sha256:HEX` is the manifest tagged `sha256-HEX.sig` in the same
 *   repository;
 * - each of its layers of type `application/vnd.dev.cosign.simplesigning.v1+json` is a "simple
 *   signing" payload naming the signed manifest digest, with the base64 of the payload's
 *   ASN.1 DER signature in the layer annotation `dev.cosignproject.cosign/signature`.
 * Verification needs only the key and those two blobs, so it works offline from the cache.
 * Not covered: keyless (Fulcio certificates), the Rekor transparency log and bundles,
 * cosign's encrypted private key files, and the OCI 1.1 referrers API.
 */

import { sha256Digest } from "./digest.ts";
import { type Descriptor, type ImageManifest, OCI_MANIFEST, parseManifest } from "./media.ts";
import { OciError } from "./reference.ts";

export const SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
const COSIGN_TYPE = "cosign container image signature";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
/** The largest signature payload read. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** The tag of the signature of manifest `digest`. */
export function signatureTag(digest: string): string {
  return digest.replace(":", "-") + ".sig";
}

function pemBody(pem: string, label: string, file: string): Uint8Array<ArrayBuffer> {
  const m = pem.match(
    new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`),
  );
  if (!m) {
    const found = pem.match(/-----BEGIN ([A-Z0-9 ]+)-----/)?.[1];
    throw new OciError(
      `${file}: expected a PEM "${label}"` + (found ? `, found "${found}"` : "") +
        (found === "ENCRYPTED PRIVATE KEY"
          ? " (encrypted keys are not read: openssl pkcs8 -nocrypt decrypts one)"
          : found?.includes("ENCRYPTED")
          ? " (cosign's encrypted keys are not read: use an openssl P-256 key in PKCS#8)"
          : ""),
    );
  }
  return Uint8Array.from(atob(m[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
}

/**
 * Imports an ECDSA P-256 key from PEM: a public key as `PUBLIC KEY` (SPKI, as cosign and
 * `openssl pkey -pubout` write it), a private key as `PRIVATE KEY` (unencrypted PKCS#8, as
 * `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` writes it).
 */
export async function importKey(
  pem: string,
  file: string,
  kind: "public" | "private",
): Promise<CryptoKey> {
  const [format, label, usage] = kind === "public"
    ? ["spki", "PUBLIC KEY", "verify"] as const
    : ["pkcs8", "PRIVATE KEY", "sign"] as const;
  try {
    return await crypto.subtle.importKey(format, pemBody(pem, label, file), ALGORITHM, false, [
      usage,
    ]);
  } catch (e) {
    if (e instanceof OciError) throw e;
    throw new OciError(`${file}: not an ECDSA P-256 ${kind} key: ${(e as Error).message}`);
  }
}

/** WebCrypto's r||s signature as ASN.1 DER (what cosign and openssl write). */
export function rawToDer(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const integer = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const body = bytes[i] & 0x80 ? [0, ...bytes.subarray(i)] : [...bytes.subarray(i)];
    return [0x02, body.length, ...body];
  };
  const content = [...integer(raw.subarray(0, 32)), ...integer(raw.subarray(32, 64))];
  return new Uint8Array([0x30, content.length, ...content]);
}

/** An ASN.1 DER ECDSA signature as r||s; undefined when it is not well-formed DER. */
export function derToRaw(der: Uint8Array): Uint8Array<ArrayBuffer> | undefined {
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) return undefined;
  const raw = new Uint8Array(64);
  let at = 2;
  for (const offset of [0, 32]) {
    if (der[at] !== 0x02) return undefined;
    const len = der[at + 1];
    if (len < 1 || len > 33 || at + 2 + len > der.length) return undefined;
    let value = der.subarray(at + 2, at + 2 + len);
    if (value[0] & 0x80) return undefined; // negative
    if (len > 1 && value[0] === 0 && !(value[1] & 0x80)) return undefined; // not minimal
    if (value.length === 33) value = value.subarray(1);
    raw.set(value, offset + 32 - value.length);
    at += 2 + len;
  }
  return at === der.length ? raw : undefined;
}

/** The "simple signing" payload for manifest `digest` of `repository` (REGISTRY/REPO). */
export function signaturePayload(repository: string, digest: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify({
    critical: {
      identity: { "docker-reference": repository },
      image: { "docker-manifest-digest": digest },
      type: COSIGN_TYPE,
    },
    optional: null,
  }));
}

/** The blobs and manifest of a signature artifact, ready to push. */
export interface SignatureArtifact {
  payload: Uint8Array<ArrayBuffer>;
  config: Uint8Array<ArrayBuffer>;
  manifest: Uint8Array<ArrayBuffer>;
}

/** Signs manifest `digest` of `repository` with `key`, as cosign's `sign --key` does. */
export async function makeSignature(
  repository: string,
  digest: string,
  key: CryptoKey,
): Promise<SignatureArtifact> {
  const payload = signaturePayload(repository, digest);
  const raw = new Uint8Array(await crypto.subtle.sign(SIGN, key, payload));
  const signature = btoa(String.fromCharCode(...rawToDer(raw)));
  const payloadDigest = await sha256Digest(payload);
  const config = new TextEncoder().encode(JSON.stringify({
    architecture: "",
    created: "0001-01-01T00:00:00Z",
    history: [{ created: "0001-01-01T00:00:00Z" }],
    os: "",
    rootfs: { type: "layers", diff_ids: [payloadDigest] },
    config: {},
  }));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, size: config.length, digest: await sha256Digest(config) },
    layers: [{
      mediaType: SIMPLE_SIGNING,
      size: payload.length,
      digest: payloadDigest,
      annotations: { [SIGNATURE_ANNOTATION]: signature },
    }],
  };
  return { payload, config, manifest: new TextEncoder().encode(JSON.stringify(manifest)) };
}

/**
 * Checks that a signature manifest holds a valid signature by `key` of manifest `digest`.
 * `getPayload` fetches (and digest-checks) a layer. Returns the payload descriptors that were
 * read, for caching; throws an OciError saying what failed.
 */
export async function verifySignature(
  signatureManifest: Uint8Array,
  digest: string,
  key: CryptoKey,
  getPayload: (layer: Descriptor) => Promise<Uint8Array<ArrayBuffer>>,
  what: string,
): Promise<Descriptor[]> {
  const doc = parseManifest(signatureManifest, `${what}: signature`);
  if (doc.kind !== "manifest") throw new OciError(`${what}: the signature is not a manifest`);
  const layers = doc.manifest.layers.filter((l) =>
    l.mediaType === SIMPLE_SIGNING && typeof l.annotations?.[SIGNATURE_ANNOTATION] === "string"
  );
  if (layers.length === 0) {
    throw new OciError(`${what}: bad signature: the signature manifest has no signed payload`);
  }
  const reasons: string[] = [];
  for (const layer of layers) {
    if (layer.size > MAX_PAYLOAD_BYTES) {
      reasons.push(`payload of ${layer.size} bytes is too large`);
      continue;
    }
    const payload = await getPayload(layer);
    let der: Uint8Array;
    try {
      der = Uint8Array.from(atob(layer.annotations![SIGNATURE_ANNOTATION]), (c) => c.charCodeAt(0));
    } catch {
      reasons.push("the signature is not base64");
      continue;
    }
    const raw = derToRaw(der);
    if (!raw) {
      reasons.push("the signature is not an ASN.1 DER ECDSA signature");
      continue;
    }
    if (!await crypto.subtle.verify(SIGN, key, raw, payload)) {
      reasons.push("the signature does not verify with this key");
      continue;
    }
    let named: unknown;
    let type: unknown;
    try {
      const critical = JSON.parse(new TextDecoder().decode(payload)).critical;
      named = critical?.image?.["docker-manifest-digest"];
      type = critical?.type;
    } catch {
      reasons.push("the signed payload is not JSON");
      continue;
    }
    if (type !== COSIGN_TYPE) {
      reasons.push(`the signed payload's type is ${JSON.stringify(type)}`);
    } else if (named !== digest) {
      reasons.push(`the signed payload names ${named}, not ${digest}`);
    } else {
      return layers;
    }
  }
  throw new OciError(`${what}: bad signature: ${[...new Set(reasons)].join("; ")}`);
}
