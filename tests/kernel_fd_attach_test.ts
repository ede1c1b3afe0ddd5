// The fd-based attach (`wasm_bpf.wasm_attach_bpf_program_fd`, src/bpf/imports/attach.ts) and
// attach-only directories (--attach-dir), on the real kernel with fresh cgroup v2 directories.
// Guest: tests/guests/fdattach/fdattach.wasm, built against wasm-include/libbpf-wasm.h; the
// name-based probes use tests/guests/policy/driver.wasm.
import assert from "node:assert/strict";
import { WasmBpfCommand } from "../mod.ts";
import {
  describeRun,
  guest,
  guestsDir,
  kernelTest,
  runCli,
  type RunCliResult,
} from "./helpers/kernel.ts";
import { drive, driver } from "./helpers/driver.ts";
import { removeCgroup } from "./helpers/cgroup.ts";

const fdattach = guest("fdattach/fdattach.wasm");
const CGROUP2 = "/sys/fs/cgroup/unified";
const EPERM = -1;

/** A fresh cgroup v2 directory for `fn`, removed afterwards. */
async function withCgroup<T>(fn: (cg: string) => Promise<T>): Promise<T> {
  const cg = `${CGROUP2}/wasm-bpf-fdattach-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  Deno.mkdirSync(cg);
  try {
    return await fn(cg);
  } finally {
    await removeCgroup(cg);
  }
}

/** What `bpftool cgroup show` lists for `cg`: the attached programs' names. */
async function cgroupPrograms(cg: string): Promise<string[]> {
  const o = await new Deno.Command("bpftool", { args: ["-j", "cgroup", "show", cg] }).output();
  assert.ok(o.success, new TextDecoder().decode(o.stderr));
  const text = new TextDecoder().decode(o.stdout).trim();
  if (!text) return [];
  return (JSON.parse(text) as { name: string }[]).map((p) => p.name).sort();
}

/** Moves a shell into `cg`, which then pings loopback 3 times (3 requests out, 3 replies in). */
async function pingFrom(cg: string): Promise<void> {
  const o = await new Deno.Command("/bin/sh", {
    args: ["-c", `echo $$ > ${cg}/cgroup.procs && exec ping -c 3 -i 0.2 127.0.0.1`],
    stdout: "null",
  }).output();
  assert.ok(o.success, "ping inside the cgroup failed");
}

/** Runs the guest over `cg` (given as `flag cg:/cg`); while it runs, records what bpftool
 * lists for the cgroup and pings from inside it. */
async function runAttached(
  flag: "--dir" | "--attach-dir",
  cg: string,
  mode: string,
  extra: string[] = [],
): Promise<{ r: RunCliResult; listedWhileRunning: string[] }> {
  let listedWhileRunning: string[] = [];
  const r = await runCli([...extra, flag, `${cg}:/cg`, fdattach, "/cg", mode], {
    onStdout: [{
      text: "attached\n",
      action: async () => {
        listedWhileRunning = await cgroupPrograms(cg);
        await pingFrom(cg);
      },
    }],
    timeoutMs: 30_000,
  });
  return { r, listedWhileRunning };
}

const resultOf = (r: RunCliResult, what: string) =>
  Number(r.stdout.match(new RegExp(`^refused ${what} (-?\\d+)$`, "m"))?.[1]);

kernelTest(
  "fd attach: every descriptor that is not a host preopen is refused; the preopen attaches",
  async () => {
    await withCgroup(async (cg) => {
      const { r, listedWhileRunning } = await runAttached("--dir", cg, "refusals");
      assert.equal(r.code, 0, describeRun(r));
      // the prestat walk found the preopen at fd 3
      assert.match(r.stdout, /^preopen 3$/m, describeRun(r));
      // the guest could open the file and the directory itself (plain --dir) ...
      assert.match(r.stdout, /^opened file yes$/m, describeRun(r));
      assert.match(r.stdout, /^opened dir yes$/m, describeRun(r));
      // ... and the host refuses them, as every descriptor it did not preopen, with one errno
      for (const what of ["unopened", "stdin", "stdout", "stderr", "file", "own-dir", "xdp"]) {
        assert.equal(resultOf(r, what), EPERM, `${what}\n${describeRun(r)}`);
      }
      assert.match(r.stderr, /the fd form cannot attach XDP/, describeRun(r));
      // attached to the cgroup through the preopen: listed while the guest ran, traffic counted
      assert.deepEqual(listedWhileRunning, ["count_egress", "count_ingress"], describeRun(r));
      const m = r.stdout.match(/^counts in (\d+) out (\d+) bpf/m);
      assert.ok(m && Number(m[1]) >= 3 && Number(m[2]) >= 3, describeRun(r));
      // and detached once it ended
      assert.deepEqual(await cgroupPrograms(cg), [], "still attached after the run");
    });
  },
);

kernelTest(
  "fd attach: the number of a closed preopen, reused by the guest, is refused",
  async () => {
    await withCgroup(async (cg) => {
      const r = await runCli(["--dir", "/tmp", "--dir", `${cg}:/cg`, fdattach, "/cg", "reuse"]);
      assert.equal(r.code, 0, describeRun(r));
      assert.match(r.stdout, /^preopen 4\nreopened same\nrefused reused -1$/m, describeRun(r));
      assert.deepEqual(await cgroupPrograms(cg), []);
    });
  },
);

kernelTest(
  "fd attach: an attach-only directory refuses open, create and readdir; attach works",
  async () => {
    await withCgroup(async (cg) => {
      const { r, listedWhileRunning } = await runAttached("--attach-dir", cg, "sealed");
      assert.equal(r.code, 0, describeRun(r));
      assert.match(r.stdout, /^preopen 3$/m, describeRun(r));
      for (const what of ["open", "open-dir", "mkdir", "create", "readdir"]) {
        assert.match(r.stdout, new RegExp(`^${what} ENOTCAPABLE$`, "m"), describeRun(r));
      }
      assert.ok(
        !Deno.readDirSync(cg).some((e) => e.name === "made-by-guest" || e.name === "new-file"),
      );
      assert.deepEqual(listedWhileRunning, ["count_egress", "count_ingress"], describeRun(r));
      assert.match(r.stdout, /^counts in [3-9]\d* out [3-9]\d* bpf/m, describeRun(r));
      assert.deepEqual(await cgroupPrograms(cg), []);
    });
  },
);

kernelTest(
  "fd attach: a policy that does not allow the cgroup refuses it, in one log line",
  async () => {
    await withCgroup(async (cg) => {
      const r = await runCli([
        `--allow-attach=cgroup:${CGROUP2}/wasm-bpf-not-this-one`,
        "--attach-dir",
        `${cg}:/cg`,
        fdattach,
        "/cg",
        "attach",
      ], { timeoutMs: 30_000 });
      assert.equal(r.code, 1, describeRun(r));
      assert.match(r.stdout, /^attach failed: Operation not permitted$/m, describeRun(r));
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, describeRun(r));
      assert.match(
        lines[0],
        new RegExp(
          `^wasm-bpf: policy: refused to attach program "count_ingress" .*to cgroup ${cg}:`,
        ),
      );
      assert.deepEqual(await cgroupPrograms(cg), []);
    });
    // the same attach, allowed by the policy
    await withCgroup(async (cg) => {
      const { r } = await runAttached("--attach-dir", cg, "attach", [
        `--allow-attach=cgroup:${cg}`,
      ]);
      assert.equal(r.code, 0, describeRun(r));
    });
  },
);

kernelTest("fd attach: a -1 descriptor auto-attaches from the section", async () => {
  const r = await runCli([fdattach, "/none", "auto"], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, describeRun(r));
  assert.match(r.stdout, /^preopen -1\n[^]*^attached\ncounts in 0 out 0 bpf yes$/m, describeRun(r));
});

kernelTest(
  "name attach: a missing path, a file, a non-cgroup directory and a refused cgroup give one errno",
  async () => {
    await withCgroup(async (cg) => {
      const attach = (target: string) => `attach:1:skb_egress:${target}`;
      const probes = ["/no/such/dir", "/etc/shadow", "/tmp", `${CGROUP2}`];
      const r = await drive(["load:/g/policy/policy.bpf.o", ...probes.map(attach), attach(cg)], {
        flags: [`--allow-attach=cgroup:${cg}`],
      });
      assert.equal(r.code, 0, describeRun(r));
      assert.equal(
        r.stdout,
        `load 1\n${"attach -1\n".repeat(probes.length)}attach 0\n`,
        describeRun(r),
      );
      // without a policy: the same errno for all that is not a cgroup v2 directory
      const open = await drive(["load:/g/policy/policy.bpf.o", ...probes.slice(0, 3).map(attach)], {
        flags: ["-v"],
      });
      assert.equal(open.stdout, `load 1\n${"attach -1\n".repeat(3)}`, describeRun(open));
      // the detail is in the -v log
      assert.match(
        open.stderr,
        /\/no\/such\/dir\): refused: cannot open it as a directory: ENOENT/,
      );
      assert.match(open.stderr, /\/etc\/shadow\): refused: cannot open it as a directory: ENOTDIR/);
      assert.match(open.stderr, /\/tmp\): refused: not a cgroup v2 directory/);
    });
  },
);

kernelTest("fd attach: the library's attachDirs, inline and in a child process", async () => {
  // The child of process isolation has no --allow-all, which Deno wants for any /sys path: the
  // host must open the cgroup without Deno's file APIs.
  for (const isolation of ["inline", "process"] as const) {
    await withCgroup(async (cg) => {
      const out = await new WasmBpfCommand(fdattach, {
        args: ["/cg", "sealed", "0"],
        attachDirs: [{ hostPath: cg, guestPath: "/cg" }],
        dirs: ["/tmp"], // numbered first: the attach-only directory comes after it
        isolation,
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const why = `${isolation}: ${stdout}${new TextDecoder().decode(out.stderr)}`;
      assert.match(stdout, /^preopen 4$/m, why);
      for (const what of ["open", "mkdir", "create", "readdir"]) {
        assert.match(stdout, new RegExp(`^${what} ENOTCAPABLE$`, "m"), why);
      }
      assert.match(stdout, /^attached$/m, why);
      assert.equal(out.code, 0, why);
    });
  }
});

kernelTest(
  "name attach: the policy sees a cgroup's canonical path in a child process too",
  async () => {
    // The child of process isolation may not read /proc/self/fd through Deno: the canonical path
    // of the opened directory is read through libc, so a symlink inside an allowed directory
    // cannot lead outside it.
    const allowed = Deno.makeTempDirSync({ prefix: "wasm-bpf-policy-" });
    Deno.symlinkSync(CGROUP2, `${allowed}/escape`);
    try {
      const out = await new WasmBpfCommand(driver, {
        args: ["load:/g/policy/policy.bpf.o", `attach:1:skb_egress:${allowed}/escape`],
        dirs: [{ hostPath: guestsDir, guestPath: "/g" }],
        policy: { allowAttach: [`cgroup:${allowed}`] },
        isolation: "process",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(new TextDecoder().decode(out.stdout), "load 1\nattach -1\n", stderr);
      assert.match(stderr, new RegExp(`to cgroup ${CGROUP2}: --allow-attach allows`), stderr);
    } finally {
      Deno.removeSync(allowed, { recursive: true });
    }
  },
);
