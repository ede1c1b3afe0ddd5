/**
 * A local OCI registry (Debian's `docker-registry`, the CNCF distribution registry) for trying
 * modules by reference: `deno task registry [--port 5000] [--storage DIR] [--no-examples]`.
 * It listens on 127.0.0.1, pushes the examples as `localhost:PORT/examples/NAME:latest`, and
 * runs until Ctrl-C. The tests use `startRegistry` with a temporary directory.
 */

import { parseArgs } from "node:util";

/** Why a registry cannot be started here, or null. */
export function registryMissing(): string | null {
  try {
    new Deno.Command("docker-registry", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return null;
  } catch {
    return "docker-registry (apt-get install docker-registry; scripts/setup.sh installs it)";
  }
}

/** Auth for the registry: htpasswd lines (bcrypt), or a token realm and its certificate. */
export type RegistryAuth =
  | { htpasswd: string }
  | { token: { realm: string; service: string; issuer: string; certPem: string } };

/** A running registry. */
export interface LocalRegistry extends AsyncDisposable {
  /** HOST:PORT, e.g. `127.0.0.1:41234`. */
  host: string;
  /** Resolves when the registry exits. */
  exited: Promise<Deno.CommandStatus>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts `docker-registry serve` with a config written in `dir`, storing blobs under
 * `storage`, on 127.0.0.1:`port` (default: a free port, retried if taken meanwhile). Ready
 * when `/v2/` answers; dispose to stop it.
 */
export async function startRegistry(
  dir: string,
  storage: string,
  options: { port?: number; auth?: RegistryAuth } = {},
): Promise<LocalRegistry> {
  const { auth } = options;
  let authConfig = "";
  if (auth && "htpasswd" in auth) {
    await Deno.writeTextFile(`${dir}/htpasswd`, auth.htpasswd);
    authConfig = `auth:\n  htpasswd:\n    realm: test\n    path: ${dir}/htpasswd\n`;
  } else if (auth) {
    await Deno.writeTextFile(`${dir}/token.pem`, auth.token.certPem);
    authConfig = `auth:\n  token:\n    realm: ${auth.token.realm}\n    service: ` +
      `${auth.token.service}\n    issuer: ${auth.token.issuer}\n    rootcertbundle: ` +
      `${dir}/token.pem\n`;
  }
  for (let attempt = 0;; attempt++) {
    const host = `127.0.0.1:${options.port ?? freePort()}`;
    await Deno.writeTextFile(
      `${dir}/config.yml`,
      `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n` +
        `  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\n` +
        `http:\n  addr: ${host}\n${authConfig}`,
    );
    const child = new Deno.Command("docker-registry", {
      args: ["serve", `${dir}/config.yml`],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    const stop = async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      await status;
      await stderr;
    };
    // Ready when /v2/ answers (200, or 401 with auth); a deadline bounds the wait.
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline) {
      try {
        const res = await fetch(`http://${host}/v2/`);
        await res.body?.cancel();
        if (res.status === 200 || res.status === 401) {
          return { host, exited: status, [Symbol.asyncDispose]: stop };
        }
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 20));
    }
    await stop();
    if (exited && options.port === undefined && attempt < 3) continue; // port taken: another
    const why = (await stderr).trim();
    const hint = /address already in use/.test(why)
      ? " (is the docker-registry system service running? systemctl disable --now docker-registry)"
      : "";
    throw new Error(`docker-registry did not answer on ${host}: ${why}${hint}`);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "5000" },
      storage: { type: "string" },
      "no-examples": { type: "boolean", default: false },
    },
  });
  const missing = registryMissing();
  if (missing) {
    console.error(`registry: needs ${missing}`);
    Deno.exit(1);
  }
  const home = Deno.env.get("XDG_DATA_HOME") ?? `${Deno.env.get("HOME")}/.local/share`;
  const storage = values.storage ?? `${home}/wasm-bpf/registry`;
  await Deno.mkdir(storage, { recursive: true });
  const dir = await Deno.makeTempDir({ prefix: "wasm-bpf-registry-" });
  const registry = await startRegistry(dir, storage, { port: Number(values.port) });
  const local = `localhost:${values.port}`;
  console.log(`registry: listening on ${registry.host}, storing in ${storage}`);
  if (!values["no-examples"]) {
    const { parseReference, pushModule } = await import("../src/oci/mod.ts");
    const examples = new URL("../examples/", import.meta.url);
    for (const name of await exampleNames(examples)) {
      const module = await exampleModule(new URL(`${name}/`, examples), name);
      if (!module) continue;
      const ref = `${local}/examples/${name}:latest`;
      const bytes = await Deno.readFile(module.url) as Uint8Array<ArrayBuffer>;
      const digest = await pushModule(bytes, module.file, parseReference(ref)!, {});
      console.log(`registry: pushed ${ref} (${digest})`);
    }
  }
  console.log(
    `registry: try  deno task run ${local}/examples/runqlat:latest 1 3  ` +
      `(or ./wasm-bpf … once built by deno task compile; Ctrl-C stops)`,
  );
  const stop = () => registry[Symbol.asyncDispose]();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await registry.exited;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/** The example directories, sorted. */
async function exampleNames(examples: URL): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(examples)) if (entry.isDirectory) names.push(entry.name);
  return names.sort();
}

/** An example's module: NAME.wasm, or the directory's only .wasm (the Rust examples keep the
 * C example's file name: rust_bootstrap/bootstrap.wasm). */
async function exampleModule(dir: URL, name: string): Promise<{ url: URL; file: string } | null> {
  const modules: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".wasm")) modules.push(entry.name);
  }
  const file = modules.includes(`${name}.wasm`)
    ? `${name}.wasm`
    : modules.length === 1
    ? modules[0]
    : null;
  return file ? { url: new URL(file, dir), file } : null;
}
