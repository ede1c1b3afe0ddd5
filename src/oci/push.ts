/** Pushing a module as upstream's `ecli push` does, and signing a pushed manifest. */

import { type ClientOptions, RegistryClient } from "./client.ts";
import { sha256Digest } from "./digest.ts";
import {
  moduleManifest,
  OCI_MANIFEST,
  TITLE_ANNOTATION,
  WASM_CONFIG,
  WASM_LAYER,
} from "./media.ts";
import { formatReference, OciError, type Reference } from "./reference.ts";
import { importKey, makeSignature, signatureTag } from "./signature.ts";

/**
 * Pushes `module` to `ref`: config `{}` (`application/vnd.wasm.config.v1+json`), one layer
 * (`application/vnd.wasm.content.layer.v1+wasm`), the title annotation set to `title` plus
 * `annotations`. Returns the manifest digest.
 */
export async function pushModule(
  module: Uint8Array<ArrayBuffer>,
  title: string,
  ref: Reference,
  annotations: Record<string, string>,
  options: ClientOptions = {},
): Promise<string> {
  const client = new RegistryClient(ref.registry, options);
  const config = new TextEncoder().encode("{}");
  const configDigest = await sha256Digest(config);
  const moduleDigest = await sha256Digest(module);
  await client.putBlob(ref.repository, config, configDigest);
  await client.putBlob(ref.repository, module, moduleDigest);
  const manifest = new TextEncoder().encode(JSON.stringify(moduleManifest(
    { mediaType: WASM_CONFIG, digest: configDigest, size: config.length },
    { mediaType: WASM_LAYER, digest: moduleDigest, size: module.length },
    { [TITLE_ANNOTATION]: title, ...annotations },
  )));
  const digest = await sha256Digest(manifest);
  if (ref.digest && ref.digest !== digest) {
    throw new OciError(
      `${formatReference(ref)}: the pushed manifest's digest is ${digest}, not ${ref.digest}`,
    );
  }
  await client.putManifest(ref.repository, ref.tag ?? digest, manifest, OCI_MANIFEST);
  return digest;
}

/** Signs the manifest `ref` names with the PEM private key in `keyFile`, pushing the signature
 * under the tag `sha256-<hex>.sig`. Returns the signed digest and the signature's tag. */
export async function signReference(
  ref: Reference,
  keyFile: string,
  options: ClientOptions = {},
): Promise<{ digest: string; tag: string }> {
  let pem: string;
  try {
    pem = await Deno.readTextFile(keyFile);
  } catch (e) {
    throw new OciError(`--key ${keyFile}: ${(e as Error).message}`, { cause: e });
  }
  const key = await importKey(pem, keyFile, "private");
  const client = new RegistryClient(ref.registry, options);
  const digest = ref.digest ??
    await sha256Digest((await client.getManifest(ref.repository, ref.tag!)).bytes);
  const artifact = await makeSignature(`${ref.registry}/${ref.repository}`, digest, key);
  const manifest = JSON.parse(new TextDecoder().decode(artifact.manifest));
  await client.putBlob(ref.repository, artifact.config, manifest.config.digest);
  await client.putBlob(ref.repository, artifact.payload, manifest.layers[0].digest);
  const tag = signatureTag(digest);
  await client.putManifest(ref.repository, tag, artifact.manifest, OCI_MANIFEST);
  return { digest, tag };
}
