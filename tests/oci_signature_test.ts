// cosign-format signatures by key, against the real registry: sign then verify (online and
// offline), a tampered manifest, a replayed signature, the wrong key, a missing signature, and
// both directions with openssl, which shows the encoding is standard ASN.1 DER ECDSA.
import assert from "node:assert/strict";
import { parseReference, pullModule, pushModule } from "../src/oci/mod.ts";
import { signaturePayload } from "../src/oci/signature.ts";
import { describeRun, guest, runCli } from "./helpers/kernel.ts";
import {
  filesUnder,
  rawPushBlob,
  rawPushManifest,
  registryGate,
  startRegistry,
} from "./helpers/registry.ts";

const exitcode = Deno.readFileSync(guest("api/exitcode.wasm"));
const { ignore, name } = registryGate("oci signatures");
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

function openssl(args: string[]): { ok: boolean; out: string } {
  const o = new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" }).outputSync();
  const dec = new TextDecoder();
  return { ok: o.success, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

/** A P-256 key pair as openssl writes it: PKCS#8 private key, SPKI public key. */
function keyPair(dir: string, stem: string): { key: string; pub: string } {
  const key = `${dir}/${stem}.pem`;
  const pub = `${dir}/${stem}.pub`;
  assert.ok(
    openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]).ok,
  );
  assert.ok(openssl(["pkey", "-in", key, "-pubout", "-out", pub]).ok);
  return { key, pub };
}

/** Runs `ref` (api/exitcode.wasm: "exit3" makes it exit 3) with a cache and flags. */
function runRef(cacheDir: string, flags: string[], ref: string) {
  return runCli(["--cache-dir", cacheDir, ...flags, ref, "exit3"]);
}

async function manifestJson(host: string, repo: string, tag: string) {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    headers: { accept: OCI_MANIFEST },
  });
  return await res.json();
}

Deno.test(
  { name: name("sign then verify; offline from the cache; failures say which"), ignore },
  async () => {
    await using reg = await startRegistry();
    const dir = await Deno.makeTempDir();
    try {
      const good = keyPair(dir, "good");
      const other = keyPair(dir, "other");
      const ref = `${reg.host}/s/m:v1`;
      const digest = await pushModule(exitcode, "exitcode.wasm", parseReference(ref)!, {});
      // Missing: nothing signed yet, nothing cached.
      const unsigned = await runRef(reg.cacheDir, ["--verify-key", good.pub], ref);
      assert.equal(unsigned.code, 1, describeRun(unsigned));
      assert.match(
        unsigned.stderr,
        new RegExp(`no signature: \\S+/s/m:sha256-${digest.slice(7)}\\.sig does not exist`),
      );
      assert.deepEqual(filesUnder(reg.cacheDir), []);
      // Sign, then a verified run.
      const signed = await runCli(["--oci-sign", ref, "--key", good.key]);
      assert.equal(signed.code, 0, describeRun(signed));
      assert.match(
        signed.stdout,
        new RegExp(`signed ${digest} as \\S+/s/m:sha256-${digest.slice(7)}\\.sig`),
      );
      const ok = await runRef(reg.cacheDir, ["--verify-key", good.pub], ref);
      assert.equal(ok.code, 3, describeRun(ok));
      // Offline: the signature is checked again from the cache alone.
      const offline = await runRef(reg.cacheDir, ["--pull=never", "--verify-key", good.pub], ref);
      assert.equal(offline.code, 3, describeRun(offline));
      const offlineWrong = await runRef(
        reg.cacheDir,
        ["--pull=never", "--verify-key", other.pub],
        ref,
      );
      assert.equal(offlineWrong.code, 1, describeRun(offlineWrong));
      assert.match(
        offlineWrong.stderr,
        /bad signature: the signature does not verify with this key/,
      );
      // The wrong key, online.
      const fresh = `${reg.cacheDir}-2`;
      const wrong = await runRef(fresh, ["--verify-key", other.pub], ref);
      assert.equal(wrong.code, 1, describeRun(wrong));
      assert.match(wrong.stderr, /bad signature: the signature does not verify with this key/);
      assert.deepEqual(filesUnder(fresh), []);
      // Tampered: the tag now names another manifest (another annotation), which nobody signed.
      await pushModule(exitcode, "exitcode.wasm", parseReference(ref)!, { evil: "1" });
      const tampered = await runRef(fresh, ["--verify-key", good.pub], ref);
      assert.equal(tampered.code, 1, describeRun(tampered));
      assert.match(tampered.stderr, /no signature: /);
      // Replayed: the old manifest's valid signature copied to the new digest's signature tag.
      const newDigest = (await pullModule(parseReference(ref)!, { cacheDir: `${fresh}-x` })).digest;
      const sig = await manifestJson(reg.host, "s/m", `sha256-${digest.slice(7)}.sig`);
      await rawPushManifest(reg.host, "s/m", `sha256-${newDigest.slice(7)}.sig`, sig, OCI_MANIFEST);
      const replayed = await runRef(fresh, ["--verify-key", good.pub], ref);
      assert.equal(replayed.code, 1, describeRun(replayed));
      assert.match(
        replayed.stderr,
        new RegExp(`bad signature: the signed payload names ${digest}, not ${newDigest}`),
      );
      // A signature annotation that is not a DER signature.
      sig.layers[0].annotations["dev.cosignproject.cosign/signature"] = btoa("garbage");
      await rawPushManifest(reg.host, "s/m", `sha256-${newDigest.slice(7)}.sig`, sig, OCI_MANIFEST);
      await assert.rejects(
        pullModule(parseReference(ref)!, { cacheDir: fresh, verifyKey: good.pub }),
        /bad signature: the signature is not an ASN\.1 DER ECDSA signature/,
      );
      assert.deepEqual(filesUnder(fresh), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  { name: name("openssl's signatures verify here, and ours verify with openssl"), ignore },
  async () => {
    await using reg = await startRegistry();
    const dir = await Deno.makeTempDir();
    try {
      const { key, pub } = keyPair(dir, "k");
      // openssl -> us: a signature made by `openssl dgst -sha256 -sign`, in a hand-built
      // cosign signature manifest.
      const ref = `${reg.host}/o/m:v1`;
      const digest = await pushModule(exitcode, "exitcode.wasm", parseReference(ref)!, {});
      const payload = signaturePayload(`${reg.host}/o/m`, digest);
      Deno.writeFileSync(`${dir}/payload`, payload);
      assert.ok(
        openssl(["dgst", "-sha256", "-sign", key, "-out", `${dir}/sig.der`, `${dir}/payload`]).ok,
      );
      const der = Deno.readFileSync(`${dir}/sig.der`);
      const payloadDesc = await rawPushBlob(
        reg.host,
        "o/m",
        payload,
        "application/vnd.dev.cosign.simplesigning.v1+json",
      );
      const config = await rawPushBlob(
        reg.host,
        "o/m",
        new TextEncoder().encode("{}"),
        "application/vnd.oci.image.config.v1+json",
      );
      await rawPushManifest(reg.host, "o/m", `sha256-${digest.slice(7)}.sig`, {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config,
        layers: [{
          ...payloadDesc,
          annotations: { "dev.cosignproject.cosign/signature": btoa(String.fromCharCode(...der)) },
        }],
      }, OCI_MANIFEST);
      const pulled = await pullModule(parseReference(ref)!, {
        cacheDir: reg.cacheDir,
        verifyKey: pub,
      });
      assert.deepEqual(pulled.bytes, exitcode);
      // us -> openssl: sign with our code, verify the annotation and payload with openssl.
      const ref2 = `${reg.host}/o/n:v1`;
      const digest2 = await pushModule(exitcode, "exitcode.wasm", parseReference(ref2)!, {
        n: "2",
      });
      const signed = await runCli(["--oci-sign", ref2, "--key", key]);
      assert.equal(signed.code, 0, describeRun(signed));
      const sig = await manifestJson(reg.host, "o/n", `sha256-${digest2.slice(7)}.sig`);
      assert.equal(sig.layers[0].mediaType, "application/vnd.dev.cosign.simplesigning.v1+json");
      const ours = sig.layers[0].annotations["dev.cosignproject.cosign/signature"];
      Deno.writeFileSync(`${dir}/ours.der`, Uint8Array.from(atob(ours), (c) => c.charCodeAt(0)));
      const payload2 = new Uint8Array(
        await (await fetch(`http://${reg.host}/v2/o/n/blobs/${sig.layers[0].digest}`))
          .arrayBuffer(),
      );
      Deno.writeFileSync(`${dir}/payload2`, payload2);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(payload2)), {
        critical: {
          identity: { "docker-reference": `${reg.host}/o/n` },
          image: { "docker-manifest-digest": digest2 },
          type: "cosign container image signature",
        },
        optional: null,
      });
      const verified = openssl([
        "dgst",
        "-sha256",
        "-verify",
        pub,
        "-signature",
        `${dir}/ours.der`,
        `${dir}/payload2`,
      ]);
      assert.ok(verified.ok, verified.out);
      assert.match(verified.out, /Verified OK/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
