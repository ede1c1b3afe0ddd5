// Maps pinned by name (issue 14, class 4): by default a run pins into a private directory,
// never reuses what others pinned under /sys/fs/bpf, and leaves no pin behind; --pin-root=DIR
// shares DIR. Guest: tests/guests/pin/pin.c.
import assert from "node:assert/strict";
import { describeRun, guest, kernelTest, runCli } from "./helpers/kernel.ts";
import { readUntil } from "./helpers/stdout.ts";
import { WasmBpfCommand } from "../mod.ts";
import { getLibc } from "../src/ffi/libc_ffi.ts";
import { cString, getLibbpf } from "../src/ffi/libbpf_ffi.ts";

const pin = guest("pin/pin.wasm");
const BPF_FS = "/sys/fs/bpf";
/** What the test pins at /sys/fs/bpf/wbpf_pin_test, key 0 (0xbeef). */
const MARKER = 0xbeefn;

const bpf = Deno.dlopen("libbpf.so.1", {
  /** int bpf_map_create(enum bpf_map_type, const char *name, __u32 key_size,
   *                     __u32 value_size, __u32 max_entries, const void *opts) */
  bpf_map_create: { parameters: ["i32", "buffer", "u32", "u32", "u32", "pointer"], result: "i32" },
  /** int bpf_obj_pin(int fd, const char *pathname) */
  bpf_obj_pin: { parameters: ["i32", "buffer"], result: "i32" },
}).symbols;

function bpfFsMounted(): boolean {
  return Deno.readTextFileSync("/proc/self/mounts").split("\n")
    .some((l) => l.split(" ")[1] === BPF_FS && l.split(" ")[2] === "bpf");
}

/** Runs `fn` with a BPF filesystem at /sys/fs/bpf (mounted for the test when absent) and a
 * hash map pinned at `<dir>/wbpf_pin_test` holding MARKER at key 0, as another program's. */
async function withPinnedMap(fn: () => Promise<void>, dir = BPF_FS): Promise<void> {
  const mounted = !bpfFsMounted();
  if (mounted) {
    const m = await new Deno.Command("mount", { args: ["-t", "bpf", "bpf", BPF_FS] }).output();
    assert.ok(m.success, `mount -t bpf: ${new TextDecoder().decode(m.stderr)}`);
  }
  const path = `${dir}/wbpf_pin_test`;
  const fd = bpf.bpf_map_create(1, /* HASH */ cString("wbpf_pin_test"), 4, 8, 8, null);
  try {
    assert.ok(fd >= 0, `bpf_map_create: ${fd}`);
    const key = new Uint32Array([0]), value = new BigUint64Array([MARKER]);
    const p = (a: ArrayBufferView) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(a)));
    assert.equal(getLibbpf().bpf_map_update_elem(fd, p(key), p(value), 0n), 0);
    assert.equal(bpf.bpf_obj_pin(fd, cString(path)), 0, `bpf_obj_pin ${path}`);
    await fn();
    assert.ok(Deno.lstatSync(path), "the pin that was there before the run is kept");
  } finally {
    try {
      Deno.removeSync(path);
    } catch { /* not pinned */ }
    if (fd >= 0) getLibc().close(fd);
    if (mounted) await new Deno.Command("umount", { args: [BPF_FS] }).output();
  }
}

/** This process's pid namespace, as private pin directories name it. */
const pidNs = Deno.readLinkSync("/proc/self/ns/pid").match(/\[(\d+)\]/)![1];

/** The private pin directories of process `pid` left in /sys/fs/bpf. */
function privateDirsOf(pid: number): string[] {
  return [...Deno.readDirSync(BPF_FS)].map((e) => e.name)
    .filter((n) => n.startsWith(`wasm-bpf-run-${pidNs}-${pid}-`));
}

kernelTest("pins: by default a pinned map is private to the run, and removed with it", async () => {
  await withPinnedMap(async () => {
    const r = await runCli([pin, "reuse"]);
    assert.equal(r.code, 0, describeRun(r));
    // A fresh map, not the one pinned at /sys/fs/bpf/wbpf_pin_test: key 0 is absent.
    assert.match(r.stdout, /^pinned -2$/m, describeRun(r));
    assert.match(r.stdout, /^new update 0$/m, describeRun(r));
    assert.throws(() => Deno.lstatSync(`${BPF_FS}/wbpf_pin_new`), Deno.errors.NotFound);
    assert.deepEqual(privateDirsOf(r.pid), []);
  });
});

kernelTest("pins: --pin-root shares a directory; the run's own pins are removed", async () => {
  await withPinnedMap(async () => {
    const r = await runCli([`--pin-root=${BPF_FS}`, pin, "reuse"]);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, new RegExp(`^pinned ${MARKER}$`, "m"), describeRun(r));
    assert.match(r.stdout, /^new update 0$/m, describeRun(r));
    assert.throws(() => Deno.lstatSync(`${BPF_FS}/wbpf_pin_new`), Deno.errors.NotFound);
  });
});

kernelTest("pins: a pinned map's name cannot make a path out of the pin root", async () => {
  await withPinnedMap(async () => {
    const r = await runCli([pin, "escape"]);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, /^escape handle 0$/m, describeRun(r));
    assert.match(
      r.stderr,
      /refused to load a BPF object: map "\.\.\/wbpf_pin_test" is pinned by name, and its name is not a file name/,
    );
    assert.deepEqual(privateDirsOf(r.pid), []);
  });
});

kernelTest("pins: private directories of runs that died are swept by the next run", async () => {
  await withPinnedMap(async () => {
    const dead = new Deno.Command("true").spawn();
    await dead.status;
    const stale = `${BPF_FS}/wasm-bpf-run-${pidNs}-${dead.pid}-0123abcd`;
    // a dead pid of another pid namespace (a container sharing the BPF filesystem) is kept
    const foreign = `${BPF_FS}/wasm-bpf-run-1-${dead.pid}-0123abcd`;
    Deno.mkdirSync(foreign, { mode: 0o700 });
    Deno.mkdirSync(stale, { mode: 0o700 });
    const fd = bpf.bpf_map_create(1, cString("wbpf_stale"), 4, 8, 1, null);
    assert.equal(bpf.bpf_obj_pin(fd, cString(`${stale}/wbpf_stale`)), 0);
    getLibc().close(fd);
    try {
      const r = await runCli([pin, "reuse"]);
      assert.equal(r.code, 0, describeRun(r));
      assert.throws(() => Deno.lstatSync(stale), Deno.errors.NotFound);
      assert.ok(Deno.lstatSync(foreign).isDirectory);
    } finally {
      for (const dir of [stale, foreign]) {
        try {
          Deno.removeSync(dir, { recursive: true });
        } catch { /* swept */ }
      }
    }
  });
});

kernelTest(
  "pins (inline): a private directory per guest, 0700, removed when it is killed",
  async () => {
    await withPinnedMap(async () => {
      const child = new WasmBpfCommand(pin, {
        args: ["reuse", "wait"],
        stdout: "piped",
        isolation: "inline",
      }).spawn();
      try {
        const seen = await readUntil(child.stdout, "new update 0\n");
        assert.match(seen, /^pinned -2$/m);
        const [dir] = privateDirsOf(Deno.pid);
        assert.ok(dir, "no private pin directory");
        assert.equal(Deno.statSync(`${BPF_FS}/${dir}`).mode! & 0o777, 0o700);
        const pins = [...Deno.readDirSync(`${BPF_FS}/${dir}`)].map((e) => e.name).sort();
        assert.deepEqual(pins, ["wbpf_pin_new", "wbpf_pin_test"]);
      } finally {
        child.kill();
        await child.status;
      }
      assert.deepEqual(privateDirsOf(Deno.pid), []);
    });
  },
);

kernelTest(
  "pins: a pin root off the BPF filesystem is refused plainly (CLI: before the run)",
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const cli = await runCli([`--pin-root=${dir}`, pin, "reuse"]);
      assert.equal(cli.code, 2, describeRun(cli));
      assert.match(cli.stderr, /^wasm-bpf: --pin-root .*: not on a BPF filesystem \(mount -t bpf/);
      // Inline, the library has no parse-time check: the load is refused with the same reason.
      const lib = await new WasmBpfCommand(pin, {
        isolation: "inline",
        args: ["reuse"],
        policy: { pinRoot: dir },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(lib.stderr);
      assert.match(
        stderr,
        /refused to load a BPF object: the pin root .*: not on a BPF filesystem/,
      );
      assert.doesNotMatch(stderr, /libbpf: /);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
