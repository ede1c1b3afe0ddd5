// `deno task registry` as the README tells users to start it: the task's own permissions (taken
// from deno.json, not granted anew here), the examples pushed, a clean stop on SIGTERM.

import assert from "node:assert/strict";
import { repoRoot } from "./helpers/kernel.ts";
import { registryMissing } from "./helpers/registry.ts";

const missing = registryMissing();

Deno.test({
  name: "deno task registry: starts with the task's permissions and pushes the examples",
  ignore: missing !== null,
  async fn() {
    const config = JSON.parse(await Deno.readTextFile(`${repoRoot}deno.json`));
    const [deno, ...args] = (config.tasks.registry.command as string).split(/\s+/);
    assert.equal(deno, "deno");
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const storage = await Deno.makeTempDir({ prefix: "wasm-bpf-registry-task-" });
    const child = new Deno.Command(Deno.execPath(), {
      args: [...args, "--port", String(port), "--storage", storage],
      cwd: repoRoot,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const seen: string[] = [];
    const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000);
    try {
      let pending = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        const lines = (pending + chunk).split("\n");
        pending = lines.pop()!;
        seen.push(...lines);
        if (lines.some((l) => l.startsWith("registry: try"))) child.kill("SIGTERM");
      }
      const status = await child.status;
      const pushed = seen.filter((l) => l.startsWith("registry: pushed"));
      assert(
        pushed.some((l) => l.includes(`localhost:${port}/examples/runqlat:latest`)),
        `no runqlat pushed:\n${seen.join("\n")}\n${await stderr}`,
      );
      // every example directory, the Rust ones (rust_bootstrap/bootstrap.wasm) included
      const examples = [...Deno.readDirSync(new URL("../examples/", import.meta.url))]
        .filter((e) => e.isDirectory).map((e) => e.name);
      for (const name of examples) {
        assert(
          pushed.some((l) => l.includes(`localhost:${port}/examples/${name}:latest`)),
          `${name} not pushed:\n${seen.join("\n")}`,
        );
      }
      assert(seen.some((l) => l.startsWith("registry: try")), await stderr);
      assert(status.signal === null, `killed by ${status.signal}: ${await stderr}`);
    } finally {
      clearTimeout(deadline);
      await Deno.remove(storage, { recursive: true }).catch(() => {});
    }
  },
});
