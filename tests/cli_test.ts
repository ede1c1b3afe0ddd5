// The CLI's argument parsing and its plain error paths (no kernel needed).
import assert from "node:assert/strict";
import { parseCli, UsageError } from "../src/cli/usage.ts";
import { compileArgs } from "../scripts/compile.ts";

Deno.test("everything after the module path goes to the guest verbatim", () => {
  const parsed = parseCli(["-v", "runqlat.wasm", "-h", "--env", "X=1", "1", "10"]);
  assert.equal(parsed.kind, "run");
  if (parsed.kind !== "run") return;
  assert.equal(parsed.options.verbose, true);
  assert.equal(parsed.options.modulePath, "runqlat.wasm");
  assert.deepEqual(parsed.options.guestArgs, ["-h", "--env", "X=1", "1", "10"]);
  assert.deepEqual(parsed.options.env, {});
});

Deno.test("host options: env, dir, attach-dir, wrapper names, inline values, --", () => {
  const parsed = parseCli([
    "--env",
    "A=b=c",
    "--env=LANG=C",
    "--dir",
    "/tmp:/data",
    "--dir=/var",
    "--attach-dir",
    "/sys/fs/cgroup/unified/x:/cg",
    "-m",
    "wrap",
    "--callback-export-name=cb",
    "--",
    "-odd-name.wasm",
    "x",
  ]);
  assert.equal(parsed.kind, "run");
  if (parsed.kind !== "run") return;
  assert.deepEqual(parsed.options.env, { A: "b=c", LANG: "C" });
  assert.deepEqual(parsed.options.preopens, [
    { hostPath: "/tmp", guestPath: "/data" },
    { hostPath: "/var", guestPath: "/var" },
    { hostPath: "/sys/fs/cgroup/unified/x", guestPath: "/cg", attachOnly: true },
  ]);
  assert.equal(parsed.options.wrapperModuleName, "wrap");
  assert.equal(parsed.options.callbackExportName, "cb");
  assert.equal(parsed.options.modulePath, "-odd-name.wasm");
  assert.deepEqual(parsed.options.guestArgs, ["x"]);
});

Deno.test("help and version win over a module path that follows", () => {
  assert.deepEqual(parseCli(["-h", "x.wasm"]), { kind: "help" });
  assert.deepEqual(parseCli(["--version"]), { kind: "version" });
});

Deno.test("usage errors are UsageError with a message naming the problem", () => {
  assert.throws(() => parseCli([]), (e) => e instanceof UsageError && /no module/.test(e.message));
  assert.throws(() => parseCli(["--bogus", "x.wasm"]), /unknown option --bogus/);
  assert.throws(() => parseCli(["--env", "NOEQUALS", "x.wasm"]), /KEY=VALUE/);
  assert.throws(() => parseCli(["-m"]), /-m needs a value/);
});

Deno.test("compile passes exactly the permissions the binary needs", () => {
  const args = compileArgs("out-bin");
  assert.ok(args.includes("--allow-ffi"));
  assert.ok(args.includes("--allow-read"));
  assert.ok(!args.includes("--allow-all") && !args.includes("-A"));
  assert.ok(!args.some((a) => a.startsWith("--allow-run") || a.startsWith("--allow-sys")));
  assert.equal(args.at(-1), "mod.ts");
  assert.deepEqual(args.slice(args.indexOf("--output"), args.indexOf("--output") + 2), [
    "--output",
    "out-bin",
  ]);
});
