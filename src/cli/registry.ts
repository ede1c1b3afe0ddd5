/**
 * The registry side of the command line: the run flags (`--pull`, `--verify-key`,
 * `--insecure-registry`, `--cache-dir`) and the subcommands `--oci-pull`, `--oci-push`,
 * `--oci-sign`, `--oci-cache`. Subcommands are spelled as options on purpose: a word that
 * starts with `-` is never a module path, so no file in the working directory can be shadowed
 * by them, and `wasm-bpf <module>` means what it always did.
 */

import {
  Cache,
  type Credentials,
  formatReference,
  OciError,
  parseReference,
  pullModule,
  pushModule,
  type Reference,
  signReference,
} from "../oci/mod.ts";
import {
  applyRegistryFlag,
  type MutableRegistryOptions,
  REGISTRY_FLAGS,
} from "../options/registry_options.ts";

class Usage extends Error {}

interface Parsed {
  positional: string[];
  registry: MutableRegistryOptions;
  output?: string;
  key?: string;
  annotations: Record<string, string>;
  user?: string;
  passwordStdin: boolean;
}

function parseArgs(argv: readonly string[]): Parsed {
  const parsed: Parsed = { positional: [], registry: {}, annotations: {}, passwordStdin: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("-") || arg === "-") {
      parsed.positional.push(arg);
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1);
      if (i + 1 >= argv.length) throw new Usage(`${flag} needs a value`);
      return argv[++i];
    };
    if (REGISTRY_FLAGS.has(flag)) {
      const error = applyRegistryFlag(parsed.registry, flag, value());
      if (error) throw new Usage(error);
    } else if (flag === "-o" || flag === "--output") parsed.output = value();
    else if (flag === "--key") parsed.key = value();
    else if (flag === "--registry-user") parsed.user = value();
    else if (flag === "--registry-password-stdin") parsed.passwordStdin = true;
    else if (flag === "--registry-password") {
      throw new Usage("a password on the command line is refused: use --registry-password-stdin");
    } else if (flag === "--annotation") {
      const kv = value();
      const at = kv.indexOf("=");
      if (at <= 0) throw new Usage(`--annotation takes KEY=VALUE, got "${kv}"`);
      parsed.annotations[kv.slice(0, at)] = kv.slice(at + 1);
    } else throw new Usage(`unknown option ${arg}`);
  }
  return parsed;
}

function referenceOf(text: string | undefined, command: string): Reference {
  if (!text) throw new Usage(`${command} needs a reference (REGISTRY/REPO[:TAG][@sha256:...])`);
  try {
    return parseReference(text.startsWith("oci://") ? text : `oci://${text}`)!;
  } catch (e) {
    throw new Usage((e as Error).message);
  }
}

async function credentialsOf(p: Parsed): Promise<Credentials | undefined> {
  if (p.passwordStdin && !p.user) {
    throw new Usage("--registry-password-stdin needs --registry-user");
  }
  if (!p.user) return undefined;
  if (!p.passwordStdin) throw new Usage("--registry-user needs --registry-password-stdin");
  const text = new TextDecoder().decode(await new Response(Deno.stdin.readable).arrayBuffer());
  return { username: p.user, password: text.replace(/\r?\n$/, "") };
}

function say(text: string): void {
  console.log(text);
}

/** Runs a registry subcommand; resolves to the exit status (0, 1 on failure, 2 on misuse). */
export async function registryCommand(argv: readonly string[]): Promise<number> {
  const command = argv[0];
  try {
    const p = parseArgs(argv.slice(1));
    const wanted = { "--oci-pull": 1, "--oci-push": 2, "--oci-sign": 1, "--oci-cache": -1 }[
      command
    ]!;
    if (wanted >= 0 && p.positional.length !== wanted) {
      throw new Usage(`${command} takes ${wanted} argument${wanted > 1 ? "s" : ""}`);
    }
    const client = {
      insecureRegistries: p.registry.insecureRegistries,
      credentials: await credentialsOf(p),
    };
    switch (command) {
      case "--oci-pull": {
        const ref = referenceOf(p.positional[0], command);
        const pulled = await pullModule(ref, {
          ...p.registry,
          ...client,
          progress: true,
          warn: (m) => console.error(`wasm-bpf: warning: ${m}`),
        });
        if (p.output) await Deno.writeFile(p.output, pulled.bytes);
        say(
          `${formatReference(ref)}: ${pulled.digest} (${pulled.bytes.length} bytes` +
            `${pulled.cached ? ", cached" : ""})${p.output ? ` -> ${p.output}` : ""}`,
        );
        return 0;
      }
      case "--oci-push": {
        const [file, text] = p.positional;
        const ref = referenceOf(text, command);
        let bytes: Uint8Array<ArrayBuffer>;
        try {
          bytes = await Deno.readFile(file) as Uint8Array<ArrayBuffer>;
        } catch (e) {
          throw new OciError(`${file}: ${(e as Error).message}`);
        }
        const title = file.slice(file.lastIndexOf("/") + 1);
        const digest = await pushModule(bytes, title, ref, p.annotations, client);
        say(`${formatReference(ref)}: pushed ${digest}`);
        return 0;
      }
      case "--oci-sign": {
        if (!p.key) throw new Usage("--oci-sign needs --key KEY.pem");
        const ref = referenceOf(p.positional[0], command);
        const { digest, tag } = await signReference(ref, p.key, client);
        say(
          `${formatReference(ref)}: signed ${digest} as ${ref.registry}/${ref.repository}:${tag}`,
        );
        return 0;
      }
      default:
        return await cacheCommand(new Cache(p.registry.cacheDir), p.positional);
    }
  } catch (e) {
    if (e instanceof Usage) {
      console.error(`wasm-bpf: ${e.message}\nTry 'wasm-bpf --help' for more information.`);
      return 2;
    }
    if (e instanceof OciError) {
      console.error(`wasm-bpf: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

async function cacheCommand(cache: Cache, args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === "ls" && rest.length === 0) {
    for (const r of await cache.listRefs()) {
      say(
        `${r.reference}\t${r.manifest}\t${new Date(r.time).toISOString()}` +
          `${r.signature ? "\tsigned" : ""}`,
      );
    }
    return 0;
  }
  if (action === "rm" && rest.length > 0) {
    let status = 0;
    for (const text of rest) {
      if (!await cache.removeRef(referenceOf(text, "--oci-cache rm"))) {
        console.error(`wasm-bpf: ${text}: not in the cache`);
        status = 1;
      }
    }
    return status;
  }
  if (action === "prune" && rest.length === 0) {
    const { files, bytes } = await cache.prune();
    say(`removed ${files} blobs (${bytes} bytes)`);
    return 0;
  }
  throw new Usage("--oci-cache takes ls, rm REF... or prune");
}
