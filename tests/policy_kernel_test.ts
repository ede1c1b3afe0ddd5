// The guest policy on the real kernel: program types, attach targets, read-only maps, the
// object count, the memory cap; each refusal logged in one line (src/guest/policy.ts).
// Guest: tests/guests/policy/driver.wasm (tests/helpers/driver.ts), which runs the calls its
// arguments name, with tests/guests/ at /g.
import assert from "node:assert/strict";
import { describeRun, kernelTest, progNames } from "./helpers/kernel.ts";
import { drive } from "./helpers/driver.ts";
import { removeCgroup } from "./helpers/cgroup.ts";

const POLICY_OBJ = "/g/policy/policy.bpf.o"; // tracepoint + xdp + cgroup_skb programs
const TP_OBJ = "/g/policy/tponly.bpf.o"; // a tracepoint program only

const policyLines = (stderr: string) => stderr.split("\n").filter((l) => l.includes("policy:"));

kernelTest(
  "policy: --allow-program-type refuses a whole object before the kernel sees it",
  async () => {
    const before = await progNames();
    const r = await drive([
      `load:${POLICY_OBJ}`,
      `load:${TP_OBJ}`,
      "attach:1:on_getppid",
      "update:1:counts",
    ], { flags: ["--allow-program-type=tracepoint"] });
    assert.equal(r.code, 0, describeRun(r));
    // a refused load uses no handle
    assert.equal(r.stdout, "load 0\nload 1\nattach 0\nupdate 0\n", describeRun(r));
    const lines = policyLines(r.stderr);
    assert.equal(lines.length, 1, describeRun(r));
    assert.match(
      lines[0],
      /^wasm-bpf: policy: refused to load program "xdp_pass" \(section xdp\) of type xdp: --allow-program-type allows tracepoint$/,
    );
    assert.equal(r.stderr.trim().split("\n").length, 1, `one line only\n${describeRun(r)}`);
    // nothing of the refused object reached the kernel (no verifier run, no program)
    assert.deepEqual(
      (await progNames()).filter((n) => n === "xdp_pass"),
      before.filter((n) => n === "xdp_pass"),
    );
  },
);

kernelTest("policy: several program types allowed; the default allows all", async () => {
  const r = await drive([
    `load:${POLICY_OBJ}`,
  ], { flags: ["--allow-program-type=tracepoint,xdp", "--allow-program-type=cgroup_skb"] });
  assert.equal(r.stdout, "load 1\n", describeRun(r));
  const d = await drive([`load:${POLICY_OBJ}`, "attach:1:on_getppid"]);
  assert.equal(d.stdout, "load 1\nattach 0\n", describeRun(d));
  assert.equal(policyLines(d.stderr).length, 0, describeRun(d));
});

kernelTest("policy: --allow-attach checks cgroups (canonical path), interfaces, auto", async () => {
  const cg = `/sys/fs/cgroup/unified/wasm-bpf-policy-${Deno.pid}`;
  const link = await Deno.makeTempDir({ prefix: "wasm-bpf-policy-" });
  Deno.mkdirSync(`${cg}/child`, { recursive: true });
  Deno.symlinkSync("/sys/fs/cgroup/unified", `${link}/escape`);
  try {
    const r = await drive([
      `load:${POLICY_OBJ}`,
      "attach:1:on_getppid", // auto: not listed
      "attach:1:on_getppid:ignored-target", // a target the section ignores is an auto-attach
      "attach:1:xdp_pass:lo",
      "attach:1:xdp_pass:no-such-if0",
      `attach:1:skb_egress:${cg}`,
      `attach:1:skb_egress:${cg}/child`,
      `attach:1:skb_egress:${cg}/..`,
      `attach:1:skb_egress:${cg}/child/../../`,
      `attach:1:skb_egress:${link}/escape`,
      "attach:1:skb_egress:/sys/fs/cgroup/unified",
      "attach:1:skb_egress:/no/such/cgroup",
    ], { flags: [`--allow-attach=xdp:lo,cgroup:${cg}`] });
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(
      r.stdout,
      "load 1\nattach -1\nattach -1\nattach 0\nattach -1\nattach 0\nattach 0\n" +
        "attach -1\nattach -1\nattach -1\nattach -1\nattach -1\n",
      describeRun(r),
    );
    const lines = policyLines(r.stderr);
    assert.equal(lines.length, 8, describeRun(r));
    assert.match(lines[0], /to auto-attach \(no target\): --allow-attach allows xdp:lo, cgroup:/);
    assert.match(lines[2], /program "xdp_pass" \(section xdp\) to interface no-such-if0/);
    // the canonical path is named, whatever spelling the guest used
    for (const l of lines.slice(3, 7)) {
      assert.match(
        l,
        /program "skb_egress" \(section cgroup_skb\/egress\) to cgroup \/sys\/fs\/cgroup\/unified:/,
      );
    }
    assert.match(lines[7], /to cgroup \/no\/such\/cgroup:/);
    // with auto listed, the tracepoint attaches
    const a = await drive([`load:${TP_OBJ}`, "attach:1:on_getppid"], {
      flags: ["--allow-attach=auto"],
    });
    assert.equal(a.stdout, "load 1\nattach 0\n", describeRun(a));
  } finally {
    Deno.removeSync(link, { recursive: true });
    await removeCgroup(cg);
  }
});

kernelTest(
  "policy: --allow-map-write=false makes maps read-only (update/delete -EPERM)",
  async () => {
    const r = await drive([
      `load:${TP_OBJ}`,
      "lookup:1:counts",
      "update:1:counts",
      "delete:1:counts",
    ], { flags: ["--allow-map-write=false"] });
    // lookup of a missing key: -ENOENT from the kernel; writes: -EPERM from the policy
    assert.equal(r.stdout, "load 1\nlookup -2\nupdate -1\ndelete -1\n", describeRun(r));
    const lines = policyLines(r.stderr);
    assert.deepEqual(lines, [
      'wasm-bpf: policy: refused update on map "counts": --allow-map-write=false',
      'wasm-bpf: policy: refused delete on map "counts": --allow-map-write=false',
    ]);
    // a guest retrying in a loop cannot flood stderr: 20 lines, then one saying the rest are not
    const many = await drive([
      `load:${TP_OBJ}`,
      ...Array(30).fill("update:1:counts"),
    ], { flags: ["--allow-map-write=false"] });
    assert.equal(many.stdout.split("\n").filter((l) => l === "update -1").length, 30);
    const manyLines = policyLines(many.stderr);
    assert.equal(manyLines.length, 21, describeRun(many));
    assert.match(manyLines[20], /further map write refusals are not logged/);
  },
);

kernelTest("policy: --max-objects limits objects loaded at once", async () => {
  const r = await drive([
    `loadn:${TP_OBJ}:3`,
    "close:1",
    `load:${TP_OBJ}`,
  ], { flags: ["--max-objects=2"] });
  assert.equal(r.stdout, "load 1\nload 2\nload 0\nclose 0\nload 3\n", describeRun(r));
  assert.deepEqual(policyLines(r.stderr), [
    "wasm-bpf: policy: refused to load a BPF object: 2 already loaded, --max-objects=2",
  ]);
  const zero = await drive([`load:${TP_OBJ}`], { flags: ["--max-objects=0"] });
  assert.equal(zero.stdout, "load 0\n", describeRun(zero));
});

kernelTest(
  "limits: --max-memory makes malloc return NULL past the cap (default 1 GiB)",
  async () => {
    const r = await drive([
      "malloc:32",
      "malloc:100",
      "grow:2000",
      "malloc:8",
    ], { flags: ["--max-memory=64"] });
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(r.stdout, "malloc ok\nmalloc null\ngrow -1\nmalloc ok\n", describeRun(r));
    const d = await drive(["malloc:1100", "malloc:64"]);
    assert.equal(d.stdout, "malloc null\nmalloc ok\n", describeRun(d));
  },
);
