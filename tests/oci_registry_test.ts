// Modules from OCI registries, against a real distribution registry (docker-registry v2.8)
// started on 127.0.0.1: push/pull, the ecli and CNCF layouts, indexes, integrity failures,
// the cache and its fallbacks. Guests here need no root (api/exitcode.wasm).
import assert from "node:assert/strict";
import { WasmBpfCommand } from "../mod.ts";
import { isPlainHttpAllowed, parseReference, pullModule, pushModule } from "../src/oci/mod.ts";
import { registryReferenceOf } from "../src/guest/module_source.ts";
import { describeRun, guest, runCli } from "./helpers/kernel.ts";
import {
  blobFile,
  digestOf,
  filesUnder,
  rawPushBlob,
  rawPushImage,
  rawPushManifest,
  registryGate,
  startRegistry,
} from "./helpers/registry.ts";

const exitcode = Deno.readFileSync(guest("api/exitcode.wasm"));
const { ignore, name } = registryGate("oci");
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const WASM_CONFIG = "application/vnd.wasm.config.v1+json";
const WASM_LAYER = "application/vnd.wasm.content.layer.v1+wasm";
const enc = new TextEncoder();

/** An environment whose XDG_CACHE_HOME is `dir`, keeping Deno's own cache where it is. */
function xdgCache(dir: string): Record<string, string> {
  const home = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`;
  return { XDG_CACHE_HOME: dir, DENO_DIR: Deno.env.get("DENO_DIR") ?? `${home}/deno` };
}

async function runRef(ref: string, cacheDir: string, extra: object = {}) {
  return await new WasmBpfCommand(ref, {
    args: ["exit3"],
    isolation: "inline",
    registry: { cacheDir },
    ...extra,
  }).output();
}

Deno.test("oci: references parse; a path or an existing file is never one", () => {
  assert.deepEqual(parseReference("ghcr.io/eunomia-bpf/execve:latest"), {
    registry: "ghcr.io",
    repository: "eunomia-bpf/execve",
    tag: "latest",
    digest: undefined,
  });
  assert.deepEqual(parseReference("localhost:5000/examples/runqlat"), {
    registry: "localhost:5000",
    repository: "examples/runqlat",
    tag: "latest",
    digest: undefined,
  });
  const d = "sha256:" + "ab".repeat(32);
  assert.equal(parseReference(`oci://r.io/a/b@${d}`)?.digest, d);
  assert.equal(parseReference("examples/runqlat/runqlat.wasm"), undefined); // no registry host
  assert.equal(parseReference("runqlat.wasm"), undefined);
  assert.equal(parseReference("r.io/A/b:latest"), undefined); // uppercase repository
  assert.throws(() => parseReference("oci://r.io/a@sha256:12"), /sha256:<64 lowercase hex>/);
  assert.throws(() => parseReference("oci://nohost"), /REGISTRY\/REPOSITORY/);
  // A file wins over a reference of the same spelling.
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/r.io/a`, { recursive: true });
    Deno.writeFileSync(`${dir}/r.io/a/b:v1`, exitcode);
    const cwd = Deno.cwd();
    Deno.chdir(dir);
    try {
      assert.equal(registryReferenceOf("r.io/a/b:v1"), undefined);
      assert.equal(registryReferenceOf("r.io/a/b:v2")?.tag, "v2");
      assert.equal(registryReferenceOf("oci://r.io/a/b:v1")?.tag, "v1");
      assert.equal(registryReferenceOf(new URL("oci://r.io/a/b:v3"))?.tag, "v3");
      assert.equal(registryReferenceOf(new URL(`file://${dir}/r.io/a/b:v2`)), undefined);
    } finally {
      Deno.chdir(cwd);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test(
  { name: name("push then pull is byte-identical; the CLI pulls to a file"), ignore },
  async () => {
    await using reg = await startRegistry();
    const ref = `${reg.host}/t/exitcode:v1`;
    const digest = await pushModule(exitcode, "exitcode.wasm", parseReference(ref)!, { k: "v" });
    // What was pushed is the ecli layout, read back with plain HTTP.
    const manifest = await (await fetch(`http://${reg.host}/v2/t/exitcode/manifests/v1`, {
      headers: { accept: OCI_MANIFEST },
    })).json();
    assert.equal(manifest.mediaType, OCI_MANIFEST);
    assert.equal(manifest.config.mediaType, "application/vnd.wasm.config.v1+json");
    assert.deepEqual(manifest.layers.map((l: { mediaType: string }) => l.mediaType), [
      "application/vnd.wasm.content.layer.v1+wasm",
    ]);
    assert.deepEqual(manifest.annotations, {
      "org.opencontainers.image.title": "exitcode.wasm",
      k: "v",
    });
    const out = `${reg.cacheDir}/../pulled.wasm`;
    const r = await runCli(["--oci-pull", ref, "-o", out], {
      env: xdgCache(reg.cacheDir),
    });
    assert.equal(r.code, 0, describeRun(r));
    assert.ok(filesUnder(`${reg.cacheDir}/wasm-bpf/blobs`).length === 2); // the default place
    assert.match(r.stdout, new RegExp(digest));
    assert.equal(r.stderr, ""); // no progress line: stderr is not a terminal
    assert.deepEqual(Deno.readFileSync(out), exitcode);
    assert.deepEqual(
      (await pullModule(parseReference(`${reg.host}/t/exitcode@${digest}`)!, {
        cacheDir: reg.cacheDir,
      })).bytes,
      exitcode,
    );
  },
);

Deno.test({
  name: name("a manifest written exactly as `ecli push` writes it runs, by tag and digest"),
  ignore,
}, async () => {
  await using reg = await startRegistry();
  const { digest } = await rawPushImage(
    reg.host,
    "ecli/m",
    "latest",
    [enc.encode("{}"), WASM_CONFIG],
    [[exitcode, WASM_LAYER]],
    { "org.opencontainers.image.title": "exitcode.wasm" },
  );
  for (
    const ref of [
      `${reg.host}/ecli/m:latest`,
      `${reg.host}/ecli/m@${digest}`,
      `oci://${reg.host}/ecli/m`,
    ]
  ) {
    const out = await runRef(ref, reg.cacheDir);
    assert.equal(out.code, 3, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout), "ending with exit3\n");
  }
  // The published variant with an empty config blob is accepted too.
  await rawPushImage(reg.host, "ecli/e", "latest", [new Uint8Array(), WASM_CONFIG], [[
    exitcode,
    WASM_LAYER,
  ]]);
  assert.equal((await runRef(`${reg.host}/ecli/e:latest`, reg.cacheDir)).code, 3);
});

Deno.test({ name: name("the CNCF wasm layout and an image index run"), ignore }, async () => {
  await using reg = await startRegistry();
  const { digest: wasmDigest, manifest: wasm } = await rawPushImage(
    reg.host,
    "cncf/m",
    "wasm",
    [enc.encode("{}"), "application/vnd.wasm.config.v0+json"],
    [[exitcode, "application/wasm"]],
  );
  assert.equal((await runRef(`${reg.host}/cncf/m:wasm`, reg.cacheDir)).code, 3);
  // An index whose first entry is an ordinary image: the wasm one is picked.
  const { digest: imageDigest, manifest: image } = await rawPushImage(
    reg.host,
    "cncf/m",
    "image",
    [enc.encode("{}"), "application/vnd.oci.image.config.v1+json"],
    [[enc.encode("not a tar"), "application/vnd.oci.image.layer.v1.tar+gzip"]],
  );
  const size = (m: unknown) => enc.encode(JSON.stringify(m)).length;
  const INDEX = "application/vnd.oci.image.index.v1+json";
  await rawPushManifest(reg.host, "cncf/m", "index", {
    schemaVersion: 2,
    mediaType: INDEX,
    manifests: [
      {
        mediaType: OCI_MANIFEST,
        digest: imageDigest,
        size: size(image),
        platform: { os: "linux", architecture: "amd64" },
      },
      {
        mediaType: OCI_MANIFEST,
        digest: wasmDigest,
        size: size(wasm),
        platform: { os: "wasip1", architecture: "wasm" },
      },
    ],
  }, INDEX);
  assert.equal((await runRef(`${reg.host}/cncf/m:index`, reg.cacheDir)).code, 3);
  // And offline, through the cached index and its chosen entry.
  const offline = await pullModule(parseReference(`${reg.host}/cncf/m:index`)!, {
    cacheDir: reg.cacheDir,
    pull: "never",
  });
  assert.deepEqual(offline.bytes, exitcode);
  // An image that is not wasm: refused, naming the media types found.
  await assert.rejects(
    runRef(`${reg.host}/cncf/m:image`, reg.cacheDir),
    /not a wasm module artifact: found media types application\/vnd\.oci\.image\.config\.v1\+json, application\/vnd\.oci\.image\.layer\.v1\.tar\+gzip/,
  );
});

Deno.test({
  name: name(
    "integrity: a corrupted blob, a manifest not matching its digest, a layer over the limit; nothing cached",
  ),
  ignore,
}, async () => {
  await using reg = await startRegistry();
  const ref = parseReference(`${reg.host}/i/m:v1`)!;
  const digest = await pushModule(exitcode, "exitcode.wasm", ref, {});
  const layerDigest = await digestOf(exitcode);
  // The layer rewritten in the registry's own storage: same size, one byte changed.
  const file = blobFile(reg.storage, layerDigest);
  const bad = new Uint8Array(exitcode);
  bad[100] ^= 0xff;
  Deno.writeFileSync(file, bad);
  const actual = await digestOf(bad);
  await assert.rejects(
    pullModule(ref, { cacheDir: reg.cacheDir }),
    (e: Error) => e.message.includes(`expected ${layerDigest}, got ${actual}`),
  );
  assert.deepEqual(filesUnder(reg.cacheDir), []);
  // Through the CLI, the same, as a clear error.
  const r = await runCli([`${reg.host}/i/m:v1`, "--cache-dir", reg.cacheDir]);
  assert.equal(r.code, 1, describeRun(r));
  assert.match(
    r.stderr,
    /^wasm-bpf: \S+\/i\/m:v1: module: digest mismatch: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}\n$/,
  );
  Deno.writeFileSync(file, exitcode);
  // The manifest's stored bytes changed: fetched by digest, it no longer hashes to it.
  const mfile = blobFile(reg.storage, digest);
  const text = Deno.readTextFileSync(mfile);
  Deno.writeTextFileSync(mfile, text.replace("exitcode.wasm", "exitcode.wasX"));
  await assert.rejects(
    pullModule(parseReference(`${reg.host}/i/m@${digest}`)!, { cacheDir: reg.cacheDir }),
    new RegExp(`manifest: digest mismatch: expected ${digest}, got sha256:`),
  );
  assert.deepEqual(filesUnder(reg.cacheDir), []);
  // A digest the registry does not have.
  await assert.rejects(
    pullModule(parseReference(`${reg.host}/i/m@sha256:${"0".repeat(64)}`)!, {
      cacheDir: reg.cacheDir,
    }),
    /HTTP 404.*MANIFEST_UNKNOWN/,
  );
  // A layer whose descriptor says 65 MiB: refused before any download.
  const config = await rawPushBlob(
    reg.host,
    "i/big",
    enc.encode("{}"),
    "application/vnd.wasm.config.v1+json",
  );
  const layer = await rawPushBlob(
    reg.host,
    "i/big",
    exitcode,
    "application/vnd.wasm.content.layer.v1+wasm",
  );
  await rawPushManifest(reg.host, "i/big", "v1", {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config,
    layers: [{ ...layer, size: 65 * 1024 * 1024 }],
  }, OCI_MANIFEST);
  await assert.rejects(
    pullModule(parseReference(`${reg.host}/i/big:v1`)!, { cacheDir: reg.cacheDir }),
    /the blob is 65\.0 MiB, over the 64\.0 MiB limit/,
  );
  assert.deepEqual(filesUnder(reg.cacheDir), []);
});

Deno.test({
  name: name(
    "cache: --pull policies, offline runs, an unreachable registry with and without a copy",
  ),
  ignore,
}, async () => {
  let host: string;
  let cacheDir: string;
  let digest: string;
  const keep = await Deno.makeTempDir();
  try {
    {
      await using reg = await startRegistry();
      host = reg.host;
      cacheDir = `${keep}/cache`;
      digest = await pushModule(exitcode, "exitcode.wasm", parseReference(`${host}/c/m:v1`)!, {});
      await assert.rejects(
        runRefOrThrow(`${host}/c/m:v1`, cacheDir, "never"),
        /not in the cache .* and --pull=never/,
      );
      assert.equal((await runRef(`${host}/c/m:v1`, cacheDir)).code, 3);
    }
    // The registry is gone: a tag falls back to the cache with one warning line; a digest
    // and --pull=never do not even ask.
    const r = await runRef(`${host}/c/m:v1`, cacheDir);
    assert.equal(r.code, 3);
    const warnings = new TextDecoder().decode(r.stderr).trim().split("\n");
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /warning: .*cannot reach .*running the cached copy/);
    assert.equal((await runRef(`${host}/c/m@${digest}`, cacheDir)).code, 3);
    const cli = await runCli(["--pull=never", `${host}/c/m:v1`, "exit3"], {
      env: xdgCache(keep), // the default cache, $XDG_CACHE_HOME/wasm-bpf: empty
    });
    assert.equal(cli.code, 1, describeRun(cli)); // another cache directory: empty
    const cli2 = await runCli(["--pull=never", "--cache-dir", cacheDir, `${host}/c/m:v1`, "exit3"]);
    assert.equal(cli2.code, 3, describeRun(cli2));
    assert.equal(cli2.stderr, "");
    // Not cached and unreachable: a clear error.
    const r2 = await runCli(["--cache-dir", cacheDir, `${host}/c/other:v1`]);
    assert.equal(r2.code, 1);
    assert.match(
      r2.stderr,
      /cannot reach 127\.0\.0\.1:\d+: .*Connection refused.*, and it is not in the cache/,
    );
    // ls, rm, prune.
    const ls = await runCli(["--oci-cache", "ls", "--cache-dir", cacheDir]);
    assert.match(ls.stdout, new RegExp(`${host}/c/m:v1\t${digest}`));
    assert.equal(
      (await runCli([
        "--oci-cache",
        "rm",
        `${host}/c/m:v1`,
        "--cache-dir",
        cacheDir,
      ])).code,
      0,
    );
    const prune = await runCli(["--oci-cache", "prune", "--cache-dir", cacheDir]);
    assert.match(prune.stdout, /removed 2 blobs/);
    assert.deepEqual(filesUnder(`${cacheDir}/blobs`), []);
  } finally {
    await Deno.remove(keep, { recursive: true });
  }
});

async function runRefOrThrow(ref: string, cacheDir: string, pull: "never") {
  await pullModule(parseReference(ref)!, { cacheDir, pull });
}

Deno.test(
  { name: name("concurrent pulls of one reference share one intact cache"), ignore },
  async () => {
    await using reg = await startRegistry();
    const ref = parseReference(`${reg.host}/c/m:v1`)!;
    await pushModule(exitcode, "exitcode.wasm", ref, {});
    const pulls = await Promise.all(
      Array.from({ length: 8 }, () => pullModule(ref, { cacheDir: reg.cacheDir })),
    );
    for (const p of pulls) assert.deepEqual(p.bytes, exitcode);
    // And from several processes at once.
    const runs = await Promise.all(
      Array.from(
        { length: 3 },
        () => runCli(["--oci-pull", `${reg.host}/c/m:v1`, "--cache-dir", reg.cacheDir]),
      ),
    );
    for (const r of runs) {
      assert.equal(r.code, 0, describeRun(r));
    }
    const files = filesUnder(reg.cacheDir);
    assert.ok(files.every((f) => !f.includes(".tmp-")), files.join("\n"));
    assert.equal(files.filter((f) => f.startsWith("blobs/")).length, 2); // manifest + module
    assert.deepEqual(
      (await pullModule(ref, { cacheDir: reg.cacheDir, pull: "never" })).bytes,
      exitcode,
    );
    // A cached module damaged on disk is not used: a miss offline, pulled again online.
    const moduleFile = `${reg.cacheDir}/blobs/sha256/${(await digestOf(exitcode)).slice(7)}`;
    Deno.writeFileSync(moduleFile, new Uint8Array(exitcode.length));
    await assert.rejects(
      pullModule(ref, { cacheDir: reg.cacheDir, pull: "never" }),
      /not in the cache .* and --pull=never/,
    );
    const again = await pullModule(ref, { cacheDir: reg.cacheDir, pull: "missing" });
    assert.deepEqual([again.bytes, again.cached], [exitcode, false]);
    assert.deepEqual(Deno.readFileSync(moduleFile), exitcode);
  },
);

Deno.test({ name: name("a redirect loop is an error, not a hang"), ignore }, async () => {
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    (req) => {
      const url = new URL(req.url);
      const next = url.pathname.endsWith("/a")
        ? url.pathname.slice(0, -2) + "/b"
        : url.pathname.replace(/\/b$/, "") + "/a";
      return new Response(null, { status: 307, headers: { location: next } });
    },
  );
  try {
    const dir = await Deno.makeTempDir();
    await assert.rejects(
      pullModule(parseReference(`127.0.0.1:${server.addr.port}/r/m:v1`)!, { cacheDir: dir }),
      /redirect loop at http:\/\/127\.0\.0\.1:\d+\/v2\/r\/m\/manifests\/v1\/a/,
    );
    assert.deepEqual(filesUnder(dir), []);
    await Deno.remove(dir, { recursive: true });
  } finally {
    controller.abort();
    await server.finished;
  }
});

Deno.test(
  { name: name("plain http only for loopback or --insecure-registry"), ignore },
  async () => {
    // An http server on 127.0.0.2: loopback, but not one of the names allowed plain http.
    const controller = new AbortController();
    const server = Deno.serve(
      { hostname: "127.0.0.2", port: 0, signal: controller.signal, onListen() {} },
      () => new Response("nothing here", { status: 404 }),
    );
    const host = `127.0.0.2:${server.addr.port}`;
    const dir = await Deno.makeTempDir();
    try {
      const ref = parseReference(`${host}/a/b:v1`)!;
      // Without the flag the client speaks TLS, which this server does not.
      await assert.rejects(pullModule(ref, { cacheDir: dir }), /cannot reach 127\.0\.0\.2/);
      await assert.rejects(
        pullModule(ref, { cacheDir: dir, insecureRegistries: [host] }),
        /cannot get the manifest: HTTP 404/,
      );
      assert.equal(isPlainHttpAllowed("localhost:5000"), true);
      assert.equal(isPlainHttpAllowed("127.0.0.1:5000"), true);
      assert.equal(isPlainHttpAllowed("registry.lan:5000"), false);
      assert.equal(isPlainHttpAllowed("registry.lan:5000", ["registry.lan"]), true);
    } finally {
      await Deno.remove(dir, { recursive: true });
      controller.abort();
      await server.finished;
    }
  },
);

Deno.test(
  {
    name: name(
      "a lying server: endless manifest, blob longer than its descriptor; credentials stay home",
    ),
    ignore,
  },
  async () => {
    const layerDigest = await digestOf(exitcode);
    const configDigest = await digestOf(enc.encode("{}"));
    const manifest = (size: number) =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: {
          mediaType: "application/vnd.wasm.config.v1+json",
          digest: configDigest,
          size: 2,
        },
        layers: [{
          mediaType: "application/vnd.wasm.content.layer.v1+wasm",
          digest: layerDigest,
          size,
        }],
      });
    const short = manifest(100);
    const honest = manifest(exitcode.length);
    // Blob storage elsewhere (another host), recording the Authorization it was sent.
    const seenAway: (string | null)[] = [];
    const away = new AbortController();
    const storage = Deno.serve(
      { hostname: "127.0.0.2", port: 0, signal: away.signal, onListen() {} },
      (req) => {
        seenAway.push(req.headers.get("authorization"));
        return new Response(exitcode);
      },
    );
    const seenHome: (string | null)[] = [];
    const controller = new AbortController();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
      (req) => {
        const path = new URL(req.url).pathname;
        if (path === "/v2/endless/m/manifests/v1") {
          const chunk = enc.encode(" ".repeat(1 << 16));
          return new Response(new ReadableStream({ pull: (c) => c.enqueue(chunk) }));
        }
        if (path === "/v2/short/m/manifests/v1") return new Response(short);
        if (path.startsWith("/v2/short/m/blobs/")) {
          // No Content-Length: only the reader's own count can stop it.
          return new Response(
            new ReadableStream({
              start(c) {
                c.enqueue(exitcode);
                c.close();
              },
            }),
          );
        }
        if (path.startsWith("/v2/away/")) {
          seenHome.push(req.headers.get("authorization"));
          if (req.headers.get("authorization") !== `Basic ${btoa("u:p")}`) {
            return new Response(null, {
              status: 401,
              headers: { "www-authenticate": 'Basic realm="r"' },
            });
          }
          if (path === "/v2/away/m/manifests/v1") return new Response(honest);
          return new Response(null, {
            status: 307,
            headers: { location: `http://127.0.0.2:${storage.addr.port}/blob` },
          });
        }
        return new Response(null, { status: 404 });
      },
    );
    const host = `127.0.0.1:${server.addr.port}`;
    const dir = await Deno.makeTempDir();
    try {
      await assert.rejects(
        pullModule(parseReference(`${host}/endless/m:v1`)!, { cacheDir: dir }),
        /the manifest: more than the 4194304 bytes expected/,
      );
      await assert.rejects(
        pullModule(parseReference(`${host}/short/m:v1`)!, { cacheDir: dir }),
        /module: more than the 100 bytes expected/,
      );
      assert.deepEqual(filesUnder(dir), []);
      const pulled = await pullModule(parseReference(`${host}/away/m:v1`)!, {
        cacheDir: dir,
        credentials: { username: "u", password: "p" },
      });
      assert.deepEqual(pulled.bytes, exitcode);
      assert.ok(seenHome.includes(`Basic ${btoa("u:p")}`));
      assert.deepEqual(seenAway, [null]);
    } finally {
      await Deno.remove(dir, { recursive: true });
      controller.abort();
      away.abort();
      await server.finished;
      await storage.finished;
    }
  },
);

Deno.test({ name: name("a slow pull shows a progress line on a terminal"), ignore }, async () => {
  await using reg = await startRegistry();
  const ref = parseReference(`${reg.host}/p/m:v1`)!;
  await pushModule(exitcode, "exitcode.wasm", ref, {});
  // A proxy in front of the real registry that sends blobs in 4 KiB pieces over ~1.5 s.
  const controller = new AbortController();
  const proxy = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      const res = await fetch(`http://${reg.host}${url.pathname}`, { headers: req.headers });
      if (!url.pathname.includes("/blobs/")) return res;
      const body = new Uint8Array(await res.arrayBuffer());
      let at = 0;
      const step = 4096;
      const pause = 1500 / Math.ceil(body.length / step);
      return new Response(
        new ReadableStream({
          async pull(c) {
            if (at >= body.length) return c.close();
            await new Promise((r) => setTimeout(r, pause));
            c.enqueue(body.slice(at, at += step));
          },
        }),
        { headers: { "content-length": String(body.length) } },
      );
    },
  );
  try {
    const cmd = [
      Deno.execPath(),
      "run",
      "-A",
      `${Deno.cwd()}/mod.ts`,
      "--oci-pull",
      "--cache-dir",
      reg.cacheDir,
      `127.0.0.1:${proxy.addr.port}/p/m:v1`,
    ];
    // script(1) gives the CLI a terminal for its stderr.
    const o = await new Deno.Command("script", {
      args: ["-qec", cmd.map((a) => `'${a}'`).join(" "), "/dev/null"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(o.stdout);
    assert.equal(o.code, 0, text);
    // Each update rewrites the line: carriage return, erase to the end of line, the text.
    assert.ok(text.includes("\r\x1b[Kwasm-bpf: pulling "), JSON.stringify(text));
    assert.match(text, /wasm-bpf: pulling 127\.0\.0\.1:\d+\/p\/m:v1: \d+ KiB \d+%/);
  } finally {
    controller.abort();
    await proxy.finished;
  }
});

Deno.test("oci: usage errors of the registry flags and subcommands exit 2", async () => {
  for (
    const [args, message] of [
      [["--oci-pull"], /--oci-pull takes 1 argument/],
      [["--oci-pull", "NOPE"], /oci:\/\/NOPE: not a registry reference/],
      [["--oci-sign", "r.io/a/b:v1"], /--oci-sign needs --key KEY\.pem/],
      [["--oci-cache", "wipe"], /--oci-cache takes ls, rm REF\.\.\. or prune/],
      [
        ["--oci-push", "a.wasm", "r.io/a/b", "--registry-user", "u"],
        /needs --registry-password-stdin/,
      ],
      [
        ["--pull=sometimes", "r.io/a/b:v1"],
        /--pull takes missing, always or never, got "sometimes"/,
      ],
    ] as [string[], RegExp][]
  ) {
    const r = await runCli(args);
    assert.equal(r.code, 2, describeRun(r));
    assert.match(r.stderr, message);
  }
});
