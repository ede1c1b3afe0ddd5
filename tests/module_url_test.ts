// Loading guest modules over http(s): from the library and the CLI, against a local server.
import assert from "node:assert/strict";
import { WasmBpfCommand } from "../mod.ts";
import { assertClean, describeRun, guest, runCli } from "./helpers/kernel.ts";

const exitcodeBytes = Deno.readFileSync(guest("api/exitcode.wasm"));

/** A server on 127.0.0.1 with: /ok.wasm, /missing.wasm (404), /endless.wasm (streams past the
 * limit with no Content-Length). */
function serve() {
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/ok.wasm") return new Response(exitcodeBytes);
      if (path === "/endless.wasm") {
        let sent = 0;
        const chunk = new Uint8Array(1 << 20);
        return new Response(
          new ReadableStream({
            pull(c) {
              if (sent++ > 80) c.close();
              else c.enqueue(chunk);
            },
          }),
        );
      }
      return new Response("no such module", { status: 404, statusText: "Not Found" });
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    async [Symbol.asyncDispose]() {
      controller.abort();
      await server.finished;
    },
  };
}

Deno.test("url: the library fetches and runs a module over http", async () => {
  await using server = serve();
  for (const isolation of ["inline", "process"] as const) {
    const out = await new WasmBpfCommand(`${server.base}/ok.wasm`, { args: ["exit3"], isolation })
      .output();
    assert.equal(out.code, 3, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout), "ending with exit3\n");
  }
});

Deno.test("url: the CLI runs a module from a URL", async () => {
  await using server = serve();
  const r = await runCli([`${server.base}/ok.wasm`, "return1"]);
  assert.equal(r.code, 1, describeRun(r));
  assert.equal(r.stdout, "ending with return1\n");
});

Deno.test("url: a 404 and an endless body are clear errors", async () => {
  await using server = serve();
  const cases: [string, RegExp][] = [
    ["missing.wasm", /cannot fetch it: HTTP 404 Not Found/],
    ["endless.wasm", /the module is over the 64 MiB this host accepts \(the server sent more/],
  ];
  for (const [name, message] of cases) {
    const r = await runCli([`${server.base}/${name}`]);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, message, describeRun(r));
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    await assert.rejects(
      new WasmBpfCommand(`${server.base}/${name}`, { isolation: "inline" }).output(),
      message,
    );
  }
});

Deno.test("url: nothing listening is a clear error, with the reason under Deno's", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close(); // a port nothing listens on now
  const r = await runCli([`http://127.0.0.1:${port}/x.wasm`]);
  assert.equal(r.code, 1, describeRun(r));
  // not Deno's bare "fetch failed": the cause under it
  assert.match(r.stderr, /x\.wasm: cannot fetch it: .*Connection refused/, describeRun(r));
});

/** Runs the CLI on a URL whose server answers every request with `answer` and closes: by hand,
 * since Deno.serve sets Content-Length itself. */
async function runWithRawAnswer(path: string, answer: string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const answering = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(4096));
      await conn.write(new TextEncoder().encode(answer)).catch(() => {});
      conn.close();
    }
  })();
  const r = await runCli([`http://127.0.0.1:${listener.addr.port}/${path}`]);
  listener.close();
  await answering.catch(() => {});
  return r;
}

Deno.test("url: a Content-Length over the limit is refused before the body is read", async () => {
  // claims 65 MiB, sends 16 bytes
  const r = await runWithRawAnswer(
    "huge.wasm",
    `HTTP/1.1 200 OK\r\ncontent-length: ${65 * 1024 * 1024}\r\n\r\n0123456789abcdef`,
  );
  assert.equal(r.code, 1, describeRun(r));
  assert.match(r.stderr, /65\.0 MiB, over the 64 MiB this host accepts/, describeRun(r));
});

Deno.test("url: a body cut short and a malformed URL are clear errors", async () => {
  // claims 1000 bytes, sends 8, closes
  const cut = await runWithRawAnswer(
    "short.wasm",
    "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n\0asm\x01\0\0\0",
  );
  assert.equal(cut.code, 1, describeRun(cut));
  assert.match(cut.stderr, /short\.wasm: cannot fetch it: after 8 bytes, /, describeRun(cut));
  assertClean(cut.stderr);

  for (const url of ["http://", "https://[::1"]) {
    const r = await runCli([url]);
    assert.equal(r.code, 1, describeRun(r));
    assert.equal(r.stderr, `wasm-bpf: ${url}: not a valid URL\n`, describeRun(r));
  }
});
