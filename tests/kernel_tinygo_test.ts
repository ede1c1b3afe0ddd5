// TinyGo-style guests: no exported table, `callback-wrapper`.wasm_bpf_buffer_poll without
// sample_func, records delivered to the exported `go-callback` (docs/abi.md §2.3), and the
// -m/--wrapper-module-name, -c/--callback-export-name options.
import assert from "node:assert/strict";
import { describeRun, guest, kernelTest, runCli, type RunCliResult } from "./helpers/kernel.ts";
import { getpgid } from "./helpers/syscalls.ts";

const COUNT = 6;

function runTinygo(
  hostArgs: string[],
  wasm: string,
  guestArgs: string[] = [],
): Promise<RunCliResult> {
  return runCli([...hostArgs, guest(wasm), String(Deno.pid), String(COUNT), ...guestArgs], {
    onStdout: [{
      text: "ready\n",
      action: () => {
        for (let i = 0; i < COUNT; i++) getpgid(3000 + i);
      },
    }],
    timeoutMs: 60_000,
  });
}

function assertDelivered(r: RunCliResult) {
  const recs = r.stdout.split("\n").filter((l) => l.startsWith("record "));
  assert.equal(recs.length, COUNT, describeRun(r));
  for (let i = 0; i < COUNT; i++) {
    assert.equal(
      recs[i],
      `record seq=${i} arg=${3000 + i} tag=tinygo n=24 ctx=96 at=ok`,
      `record ${i}\n${describeRun(r)}`,
    );
  }
  assert.match(r.stdout, /^first poll=0$/m, describeRun(r));
  assert.match(
    r.stdout,
    new RegExp(`^done got=${COUNT} returned=${COUNT} errors=0 order_bad=0 close=0$`, "m"),
    describeRun(r),
  );
  assert.equal(r.code, 0, describeRun(r));
}

kernelTest("tinygo: default names callback-wrapper / go-callback", async () => {
  assertDelivered(await runTinygo([], "tinygo/tinygo.wasm"));
});

kernelTest("tinygo: the callback sleeps (usleep) per record", async () => {
  const r = await runTinygo([], "tinygo/tinygo.wasm", ["sleep"]);
  assert.doesNotMatch(r.stderr, /SuspendError|internal error/, describeRun(r));
  assert.match(r.stdout, /^slept_short=0$/m, describeRun(r));
  assertDelivered(r);
});

kernelTest("tinygo: explicit default names -m callback-wrapper -c go-callback", async () => {
  assertDelivered(
    await runTinygo(
      ["--wrapper-module-name", "callback-wrapper", "--callback-export-name", "go-callback"],
      "tinygo/tinygo.wasm",
    ),
  );
});

kernelTest("tinygo: custom names -m my-wrapper -c my_callback", async () => {
  assertDelivered(
    await runTinygo(["-m", "my-wrapper", "-c", "my_callback"], "tinygo/tinygo_custom.wasm"),
  );
});

kernelTest("tinygo: custom-name module without -m/-c fails to link (status 1)", async () => {
  const r = await runCli([guest("tinygo/tinygo_custom.wasm"), String(Deno.pid), "1"], {
    timeoutMs: 30_000,
  });
  assert.equal(r.code, 1, describeRun(r));
  assert.ok(!r.stdout.includes("ready"), describeRun(r));
  assert.match(r.stderr, /my-wrapper/, `the error names the missing import\n${describeRun(r)}`);
});
