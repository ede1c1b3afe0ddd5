// examples/cgroup_skb on the real kernel: cgroup_skb ingress/egress programs attached, through
// the fd of an --attach-dir preopen, to a cgroup v2 directory that the test creates; a ping run
// inside that cgroup is counted.
import assert from "node:assert/strict";
import { describeRun, kernelTest, repoRoot, runCli } from "./helpers/kernel.ts";
import { removeCgroup } from "./helpers/cgroup.ts";

const cgroupSkb = repoRoot + "examples/cgroup_skb/cgroup_skb.wasm";

/** A cgroup v2 mount: the unified hierarchy of a hybrid set-up, or a pure v2 /sys/fs/cgroup. */
async function cgroup2Root(): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const mounts = Deno.readTextFileSync("/proc/self/mounts").split("\n").map((l) => l.split(" "));
  const v2 = mounts.find((m) => m[2] === "cgroup2");
  if (v2) return { root: v2[1], cleanup: async () => {} };
  const dir = await Deno.makeTempDir({ prefix: "wasm-bpf-cgroup2-" });
  const o = await new Deno.Command("mount", { args: ["-t", "cgroup2", "none", dir] }).output();
  assert.ok(o.success, "no cgroup2 mount, and mounting one failed");
  return {
    root: dir,
    cleanup: async () => {
      await new Deno.Command("umount", { args: [dir] }).output();
      await Deno.remove(dir);
    },
  };
}

function packets(line: string): [number, number] {
  const m = line.match(/^ingress: (\d+) packets \d+ bytes, egress: (\d+) packets/)!;
  return [Number(m[1]), Number(m[2])];
}

kernelTest("cgroup_skb counts the traffic of a process moved into the cgroup", async () => {
  const { root, cleanup } = await cgroup2Root();
  const cg = `${root}/wasm-bpf-test-${Deno.pid}`;
  await Deno.mkdir(cg);
  try {
    /** Moves a shell into the cgroup, which then pings loopback 3 times; then pings from
     * outside the cgroup (not counted). */
    const pings = async () => {
      // the shell moves itself into the cgroup, then becomes ping: its socket belongs to it
      const o = await new Deno.Command("/bin/sh", {
        args: ["-c", `echo $$ > ${cg}/cgroup.procs && exec ping -c 3 -i 0.2 127.0.0.1`],
        stdout: "null",
      }).output();
      assert.ok(o.success, "ping inside the cgroup failed");
      await new Deno.Command("ping", {
        args: ["-c", "2", "-i", "0.2", "127.0.0.1"],
        stdout: "null",
      })
        .output();
    };
    let pinging: Promise<void> | undefined;
    let seen = 0; // the length of stdout when last looked at
    let pingedAt = -1; // ...when both pings were over
    const r = await runCli(["--attach-dir", `${cg}:/cgroup`, cgroupSkb, "/cgroup"], {
      onStdout: [{
        text: "Ctrl-C to end.\n",
        // not awaited: stdout is read on meanwhile, so `seen` stays current
        action: () => {
          pinging = pings().then(() => void (pingedAt = seen));
        },
      }],
      signalAfter: {
        signal: "SIGINT",
        // Two reports (one a second) after the pings were over: the second was printed after
        // them, so it counts all of their packets.
        afterStdout: (stdout) => {
          seen = stdout.length;
          return pingedAt >= 0 && (stdout.slice(pingedAt).match(/^ingress:/gm) ?? []).length >= 2;
        },
        asleep: true,
      },
      timeoutMs: 20_000,
    });
    await pinging;
    assert.equal(r.code, 130, describeRun(r));
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("ingress:"));
    assert.ok(lines.length >= 1, describeRun(r));
    // ping's 3 echo requests go out and its 3 replies come in; the second ping is outside
    assert.deepEqual(packets(lines[lines.length - 1]), [3, 3], describeRun(r));
  } finally {
    await removeCgroup(cg);
    await cleanup();
  }
});

kernelTest("cgroup_skb: a directory that is not a cgroup is a clear attach error", async () => {
  const r = await runCli(["--attach-dir", "/tmp:/cgroup", cgroupSkb, "/cgroup"], {
    timeoutMs: 20_000,
  });
  assert.equal(r.code, 1, describeRun(r));
  assert.match(
    r.stderr,
    /Failed to attach to cgroup \/cgroup: Operation not permitted/,
    describeRun(r),
  );
  // a path that is not a preopen: the guest says how to give it one
  const p = await runCli([cgroupSkb, "/sys/fs/cgroup/unified"], { timeoutMs: 20_000 });
  assert.equal(p.code, 1, describeRun(p));
  assert.match(p.stderr, /not a directory the runtime preopened: give it with\n {2}--attach-dir/);
});
