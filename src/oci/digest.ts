/** sha256 digests in the OCI form, `sha256:<hex>`, computed with WebCrypto. */

import { OciError } from "./reference.ts";

/** The OCI digest of `bytes`. */
export async function sha256Digest(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Throws an OciError naming both digests unless `bytes` hash to `expected`. */
export async function checkDigest(
  what: string,
  bytes: Uint8Array<ArrayBuffer>,
  expected: string,
): Promise<void> {
  const actual = await sha256Digest(bytes);
  if (actual !== expected) {
    throw new OciError(`${what}: digest mismatch: expected ${expected}, got ${actual}`);
  }
}
