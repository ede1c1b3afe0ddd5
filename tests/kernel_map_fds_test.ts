// fds inside map keys and values (issue 14, class 3): a guest may store in a map only fds of
// its own maps, programs and links. Guest: tests/guests/mapfds/mapfds.c.
import assert from "node:assert/strict";
import { WasmBpfCommand } from "../mod.ts";
import { describeRun, guest, kernelTest, runCli } from "./helpers/kernel.ts";
import { readUntil } from "./helpers/stdout.ts";

const mapfds = guest("mapfds/mapfds.wasm");

/** The fds of this process, by number, with what they point at. */
function openFds(): Map<number, string> {
  const fds = new Map<number, string>();
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      fds.set(Number(e.name), Deno.readLinkSync(`/proc/self/fd/${e.name}`));
    } catch {
      // closed meanwhile (the readDir's own fd)
    }
  }
  return fds;
}

/** The fd that `open` adds to this process. */
function fdOpenedBy<T>(open: () => T): { fd: number; resource: T } {
  const before = openFds();
  const resource = open();
  const added = [...openFds().keys()].filter((fd) => !before.has(fd));
  assert.equal(added.length, 1, `expected one new fd, got ${added.join(", ")}`);
  return { fd: added[0], resource };
}

function checkSummary(stdout: string, stderr: string, code: number): void {
  const fails = stdout.split("\n").filter((l) => l.startsWith("FAIL"));
  assert.deepEqual(fails, [], `guest checks failed:\n${stdout}\n${stderr}`);
  assert.match(stdout, /^summary ok=\d+ fail=0$/m, stdout);
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /panic|TypeError|Uncaught/);
}

kernelTest("map fds: the host's fds 0, 1, 2 are refused in every fd-holding map type", async () => {
  const r = await runCli([mapfds, "attack"]);
  checkSummary(r.stdout, r.stderr, r.code ?? -1);
  // one line per refusal, rate-limited like policy refusals
  assert.match(r.stderr, /refused fd 0 in a value of map "prog_array" \(type 3\): EBADF/);
  assert.match(r.stderr, /further map fd refusals are not logged/, describeRun(r));
  assert.ok(r.stderr.split("\n").length < 40, describeRun(r));
});

kernelTest(
  "map fds (inline): a guest cannot store another guest's map, a host file or a host " +
    "socket in its maps",
  async () => {
    // Before the victim starts: its intake opens the module on a runtime thread, which would
    // add an fd of its own while fdOpenedBy looks.
    const listener = fdOpenedBy(() => Deno.listen({ hostname: "127.0.0.1", port: 0 }));
    const file = fdOpenedBy(() => Deno.openSync("/etc/hostname"));
    const victim = new WasmBpfCommand(mapfds, {
      args: ["victim"],
      stdout: "piped",
      isolation: "inline",
    }).spawn();
    try {
      const victimLine = /^victim fd=(.*)\n/m;
      const victimFd = Number(victimLine.exec(await readUntil(victim.stdout, victimLine))![1]);
      assert.ok(victimFd > 2, `victim map fd ${victimFd}`);
      const out = await new WasmBpfCommand(mapfds, {
        args: ["attack", String(victimFd), String(file.fd), String(listener.fd)],
        isolation: "inline",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      checkSummary(stdout, stderr, out.code);
      // the attack: another guest's map into this guest's HASH_OF_MAPS
      assert.match(stdout, new RegExp(`^ok outer_hash\\.update\\.fd_${victimFd}$`, "m"));
      assert.match(stdout, new RegExp(`^ok sock_map\\.update\\.fd_${listener.fd}$`, "m"));
    } finally {
      listener.resource.close();
      file.resource.close();
      victim.kill();
      await victim.status;
    }
  },
);
