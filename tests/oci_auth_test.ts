// Registry auth against the real registry: htpasswd basic auth, and the bearer-token flow
// with a token server here that signs (ES256, WebCrypto) tokens the registry verifies.
import assert from "node:assert/strict";
import { parseReference, pullModule, pushModule } from "../src/oci/mod.ts";
import { describeRun, guest, runCli } from "./helpers/kernel.ts";
import { registryGate, registryMissing, startRegistry } from "./helpers/registry.ts";

const exitcode = Deno.readFileSync(guest("api/exitcode.wasm"));
const missing = registryMissing() ??
  (commandMissing("htpasswd") ? "htpasswd (apt-get install apache2-utils)" : null) ??
  (commandMissing("openssl") ? "openssl" : null);
const { ignore, name } = registryGate("oci auth", missing);

function commandMissing(cmd: string): boolean {
  try {
    new Deno.Command(cmd, { args: ["version"], stdout: "null", stderr: "null" }).outputSync();
    return false;
  } catch {
    return true;
  }
}

function run(cmd: string, args: string[], cwd?: string): string {
  const o = new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).outputSync();
  if (!o.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
  }
  return new TextDecoder().decode(o.stdout);
}

Deno.test({
  name: name(
    "htpasswd: 401 without credentials; --registry-password-stdin and docker's config.json work",
  ),
  ignore,
}, async () => {
  const htpasswd = run("htpasswd", ["-Bbn", "alice", "s3cret"]);
  await using reg = await startRegistry({ htpasswd });
  const ref = `${reg.host}/a/m:v1`;
  const dir = await Deno.makeTempDir();
  Deno.writeFileSync(`${dir}/exitcode.wasm`, exitcode);
  // No credentials (and no docker config): a clear 401.
  const env = { DOCKER_CONFIG: `${dir}/nodocker` };
  const anon = await runCli(["--oci-push", `${dir}/exitcode.wasm`, ref], { env });
  assert.equal(anon.code, 1, describeRun(anon));
  assert.match(
    anon.stderr,
    /401 Unauthorized: log in with `docker login`.*--registry-password-stdin/,
  );
  // A password on the command line is refused.
  const argPass = await runCli([
    "--oci-push",
    `${dir}/exitcode.wasm`,
    ref,
    "--registry-password",
    "x",
  ]);
  assert.equal(argPass.code, 2);
  assert.match(argPass.stderr, /a password on the command line is refused/);
  const pushed = await runCli(
    [
      "--oci-push",
      `${dir}/exitcode.wasm`,
      ref,
      "--registry-user",
      "alice",
      "--registry-password-stdin",
    ],
    { stdin: "s3cret\n", env },
  );
  assert.equal(pushed.code, 0, describeRun(pushed));
  // A wrong password is refused too.
  await assert.rejects(
    pullModule(parseReference(ref)!, {
      cacheDir: reg.cacheDir,
      credentials: { username: "alice", password: "no" },
    }),
    /HTTP 401/,
  );
  // docker's config.json ("auths", base64 user:password) for a run.
  Deno.mkdirSync(`${dir}/docker`);
  Deno.writeTextFileSync(
    `${dir}/docker/config.json`,
    JSON.stringify({
      auths: { [reg.host]: { auth: btoa("alice:s3cret") } },
    }),
  );
  const r = await runCli(["--cache-dir", reg.cacheDir, ref, "exit3"], {
    env: { DOCKER_CONFIG: `${dir}/docker` },
  });
  assert.equal(r.code, 3, describeRun(r));
  await Deno.remove(dir, { recursive: true });
});

/** libtrust's key id, by which distribution finds a token's key: base32 of the first 240
 * bits of the SPKI's sha256, in groups of 4. */
async function libtrustKeyId(spki: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", spki)).subarray(0, 30);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const b of hash) bits += b.toString(2).padStart(8, "0");
  let out = "";
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return out.match(/.{4}/g)!.join(":");
}

function b64url(bytes: Uint8Array | string): string {
  const raw = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

function pemToDer(pem: string): Uint8Array<ArrayBuffer> {
  const body = pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

/** A token server: anonymous users get pull; alice:s3cret gets what she asks for. */
async function startTokenServer(dir: string) {
  run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${dir}/token.key`,
    "-out",
    `${dir}/token.crt`,
    "-days",
    "1",
    "-subj",
    "/CN=token",
  ]);
  const key = await crypto.subtle.importKey(
    "pkcs8",
    pemToDer(Deno.readTextFileSync(`${dir}/token.key`)),
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  const spki = pemToDer(run("openssl", ["x509", "-in", `${dir}/token.crt`, "-pubkey", "-noout"]));
  const kid = await libtrustKeyId(spki);
  const issued: string[] = [];
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      const auth = req.headers.get("authorization");
      const alice = auth === `Basic ${btoa("alice:s3cret")}`;
      if (auth && !alice) return new Response("bad credentials", { status: 401 });
      const access = url.searchParams.getAll("scope").map((scope) => {
        const [type, name, actions] = scope.split(":");
        const granted = actions.split(",").filter((a) => alice || a === "pull");
        return { type, name, actions: granted };
      });
      issued.push(`${alice ? "alice" : "anonymous"} ${JSON.stringify(access)}`);
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ typ: "JWT", alg: "ES256", kid }));
      const claims = b64url(JSON.stringify({
        iss: "test-issuer",
        sub: alice ? "alice" : "",
        aud: "test-registry",
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: crypto.randomUUID(),
        access,
      }));
      const signature = new Uint8Array(
        await crypto.subtle.sign(
          { name: "ECDSA", hash: "SHA-256" },
          key,
          new TextEncoder().encode(`${header}.${claims}`),
        ),
      );
      return Response.json({ token: `${header}.${claims}.${b64url(signature)}`, expires_in: 300 });
    },
  );
  return {
    realm: `http://127.0.0.1:${server.addr.port}/token`,
    certPem: Deno.readTextFileSync(`${dir}/token.crt`),
    issued,
    async [Symbol.asyncDispose]() {
      controller.abort();
      await server.finished;
    },
  };
}

Deno.test({
  name: name("bearer tokens: anonymous pull (as ghcr.io asks), push with credentials only"),
  ignore,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using tokens = await startTokenServer(dir);
    await using reg = await startRegistry({
      token: {
        realm: tokens.realm,
        service: "test-registry",
        issuer: "test-issuer",
        certPem: tokens.certPem,
      },
    });
    const ref = parseReference(`${reg.host}/b/m:v1`)!;
    const env = { DOCKER_CONFIG: `${dir}/nodocker` };
    // Anonymous push: the token grants only pull, and the registry says no.
    Deno.writeFileSync(`${dir}/exitcode.wasm`, exitcode);
    const anon = await runCli(["--oci-push", `${dir}/exitcode.wasm`, `${reg.host}/b/m:v1`], {
      env,
    });
    assert.equal(anon.code, 1, describeRun(anon));
    assert.match(anon.stderr, /cannot start a blob upload: HTTP 401 Unauthorized \(UNAUTHORIZED: /);
    await pushModule(exitcode, "exitcode.wasm", ref, {}, {
      credentials: { username: "alice", password: "s3cret" },
    });
    assert.ok(
      tokens.issued.some((t) =>
        t.startsWith("alice") && t.includes('"push"') && t.includes('"pull"')
      ),
      tokens.issued.join("\n"),
    );
    // Anonymous pull through the token flow.
    const pulled = await pullModule(ref, { cacheDir: reg.cacheDir });
    assert.deepEqual(pulled.bytes, exitcode);
    assert.ok(tokens.issued.some((t) => t.startsWith("anonymous") && t.includes("b/m")));
    // Credentials the token server refuses: a clear error.
    await assert.rejects(
      pullModule(ref, {
        cacheDir: reg.cacheDir,
        credentials: { username: "alice", password: "no" },
      }),
      /the token server http:\/\/127\.0\.0\.1:\d+ refused a token: HTTP 401/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
