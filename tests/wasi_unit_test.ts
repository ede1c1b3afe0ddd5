/**
 * Unit tests of src/wasi/ without a guest: the functions run on a bare WebAssembly.Memory with
 * in-memory sinks and a fake BlockingGate.
 */

import assert from "node:assert/strict";
import { ProcExit } from "../src/wasi/mod.ts";
import * as abi from "../src/wasi/abi.ts";
import {
  cstr,
  dec,
  enc,
  open,
  putIovecs,
  putStr,
  readdirNames,
  RIGHTS_RO,
  RIGHTS_RW,
  type Setup,
  setup,
  StopSentinel,
} from "./helpers/wasi.ts";

// ---------------------------------------------------------------------------------------------
// args / environ
// ---------------------------------------------------------------------------------------------

Deno.test("args_sizes_get / args_get: counts, sizes and NUL-terminated UTF-8 contents", () => {
  const s = setup({ args: ["mod.wasm", "-v", "héllo"] });
  assert.equal(s.f.args_sizes_get(0, 4), abi.ERRNO_SUCCESS);
  assert.equal(s.dv().getUint32(0, true), 3);
  const size = s.dv().getUint32(4, true);
  assert.equal(size, "mod.wasm".length + 1 + 3 + enc.encode("héllo").length + 1);
  assert.equal(s.f.args_get(100, 200), abi.ERRNO_SUCCESS);
  const got = [0, 1, 2].map((i) => cstr(s, s.dv().getUint32(100 + i * 4, true)));
  assert.deepEqual(got, ["mod.wasm", "-v", "héllo"]);
  assert.equal(s.dv().getUint32(100, true), 200);
});

Deno.test("environ: empty by default, KEY=VALUE when given", () => {
  const empty = setup();
  assert.equal(empty.f.environ_sizes_get(0, 4), 0);
  assert.equal(empty.dv().getUint32(0, true), 0);
  assert.equal(empty.dv().getUint32(4, true), 0);

  const s = setup({ env: { A: "1", GREETING: "hi there" } });
  assert.equal(s.f.environ_sizes_get(0, 4), 0);
  assert.equal(s.dv().getUint32(0, true), 2);
  assert.equal(s.dv().getUint32(4, true), "A=1".length + 1 + "GREETING=hi there".length + 1);
  assert.equal(s.f.environ_get(100, 200), 0);
  assert.equal(cstr(s, s.dv().getUint32(100, true)), "A=1");
  assert.equal(cstr(s, s.dv().getUint32(104, true)), "GREETING=hi there");
});

// ---------------------------------------------------------------------------------------------
// clocks, random
// ---------------------------------------------------------------------------------------------

Deno.test("clock_time_get: monotonic increases, realtime matches Date.now, bad id → EINVAL", async () => {
  const s = setup();
  assert.equal(s.f.clock_time_get(abi.CLOCKID_MONOTONIC, 1n, 0), 0);
  const a = s.dv().getBigUint64(0, true);
  await new Promise((r) => setTimeout(r, 15));
  assert.equal(s.f.clock_time_get(abi.CLOCKID_MONOTONIC, 1n, 8), 0);
  const b = s.dv().getBigUint64(8, true);
  assert.ok(b - a >= 14_000_000n, `monotonic advanced only ${b - a} ns`);
  assert.ok(b - a < 1_000_000_000n);

  assert.equal(s.f.clock_time_get(abi.CLOCKID_REALTIME, 1n, 16), 0);
  const rt = Number(s.dv().getBigUint64(16, true) / 1_000_000n);
  assert.ok(Math.abs(rt - Date.now()) < 50, `realtime off by ${rt - Date.now()} ms`);

  assert.equal(s.f.clock_time_get(abi.CLOCKID_PROCESS_CPUTIME_ID, 1n, 24), 0);
  assert.equal(s.f.clock_time_get(99, 1n, 0), abi.ERRNO_INVAL);
  assert.equal(s.f.clock_res_get(abi.CLOCKID_MONOTONIC, 32), 0);
  assert.ok(s.dv().getBigUint64(32, true) > 0n);
  assert.equal(s.f.clock_res_get(42, 32), abi.ERRNO_INVAL);
});

Deno.test("random_get fills more than one 64 KiB chunk", () => {
  const s = setup();
  s.memory.grow(3);
  assert.equal(s.f.random_get(1000, 150_000), 0);
  const b = s.u8().subarray(1000, 151_000);
  // 150 000 random bytes: the last 16 are not all zero, nor the first 16.
  assert.ok(b.subarray(0, 16).some((x) => x !== 0));
  assert.ok(b.subarray(b.length - 16).some((x) => x !== 0));
  assert.equal(s.u8()[151_000], 0);
});

// ---------------------------------------------------------------------------------------------
// stdio
// ---------------------------------------------------------------------------------------------

Deno.test("fd_write gathers iovecs into one sink write of a copy", () => {
  const s = setup();
  const n1 = putStr(s, 1000, "hello, ");
  const n2 = putStr(s, 2000, "world");
  const n3 = putStr(s, 3000, "!\n");
  putIovecs(s, 100, [[1000, n1], [2000, n2], [3000, 0], [3000, n3]]);
  assert.equal(s.f.fd_write(1, 100, 4, 200), 0);
  assert.equal(s.dv().getUint32(200, true), n1 + n2 + n3);
  assert.equal(s.stdout.chunks.length, 1);
  putStr(s, 1000, "XXXXXXX"); // the sink owns its bytes: later guest writes don't alter them
  assert.equal(s.stdout.text, "hello, world!\n");
  assert.equal(s.f.fd_write(2, 100, 1, 200), 0);
  assert.equal(s.stderr.text, "XXXXXXX");
  assert.equal(s.f.fd_write(0, 100, 1, 200), abi.ERRNO_BADF);
  assert.equal(s.f.fd_write(9, 100, 1, 200), abi.ERRNO_BADF);
});

Deno.test("fd_fdstat_get: TTY → character device without seek/tell; pipe → unknown", () => {
  for (const tty of [true, false]) {
    const s = setup({ tty });
    for (const fd of [1, 2]) {
      assert.equal(s.f.fd_fdstat_get(fd, 0), 0);
      const type = s.dv().getUint8(abi.FDSTAT_OFF.fs_filetype);
      const rights = s.dv().getBigUint64(abi.FDSTAT_OFF.fs_rights_base, true);
      assert.equal(type, tty ? abi.FILETYPE_CHARACTER_DEVICE : abi.FILETYPE_UNKNOWN);
      // wasi-libc's isatty() needs exactly this: no SEEK/TELL rights.
      assert.equal(rights & (abi.RIGHTS_FD_SEEK | abi.RIGHTS_FD_TELL), 0n);
      assert.notEqual(rights & abi.RIGHTS_FD_WRITE, 0n);
    }
  }
});

Deno.test("fd_seek / fd_tell on stdio → ESPIPE", () => {
  const s = setup();
  assert.equal(s.f.fd_seek(1, 0n, abi.WHENCE_CUR, 0), abi.ERRNO_SPIPE);
  assert.equal(s.f.fd_tell(0, 0), abi.ERRNO_SPIPE);
});

Deno.test("fd_read on stdin: waits through the gate, returns buffered data, then EOF", async () => {
  const s = setup();
  putIovecs(s, 100, [[1000, 4], [2000, 100]]);
  const p = s.f.fd_read(0, 100, 2, 200);
  assert.ok(p instanceof Promise, "an empty stdin must block (return a Promise)");
  setTimeout(() => s.stdin.push("abcdefg"), 10);
  assert.equal(await p, 0);
  assert.equal(s.dv().getUint32(200, true), 7);
  assert.equal(dec.decode(s.u8().subarray(1000, 1004)), "abcd");
  assert.equal(dec.decode(s.u8().subarray(2000, 2003)), "efg");
  assert.ok(s.gate.checkpoints >= 1);

  s.stdin.push(null);
  assert.equal(await s.f.fd_read(0, 100, 2, 200), 0);
  assert.equal(s.dv().getUint32(200, true), 0); // EOF
});

Deno.test("fd_fdstat_set_flags NONBLOCK on stdin: EAGAIN, then the data", async () => {
  const s = setup();
  assert.equal(s.f.fd_fdstat_set_flags(0, abi.FDFLAGS_NONBLOCK), 0);
  assert.equal(s.f.fd_fdstat_get(0, 0), 0);
  assert.equal(s.dv().getUint16(abi.FDSTAT_OFF.fs_flags, true), abi.FDFLAGS_NONBLOCK);
  putIovecs(s, 100, [[1000, 16]]);
  assert.equal(s.f.fd_read(0, 100, 1, 200), abi.ERRNO_AGAIN);
  s.stdin.push("late");
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(s.f.fd_read(0, 100, 1, 200), 0);
  assert.equal(s.dv().getUint32(200, true), 4);
  assert.equal(s.stdin.reads, 1, "one host read in flight at most");
  assert.equal(s.f.fd_fdstat_set_flags(1, abi.FDFLAGS_SYNC), abi.ERRNO_NOTSUP);
});

Deno.test("fd_read on stdin: a stop ends the wait with EINTR", async () => {
  const s = setup();
  putIovecs(s, 100, [[1000, 16]]);
  const t0 = performance.now();
  const p = s.f.fd_read(0, 100, 1, 200);
  setTimeout(() => s.gate.stop(), 20);
  assert.equal(await p, abi.ERRNO_INTR);
  assert.ok(performance.now() - t0 < 500);
  // Already stopping: EINTR without blocking.
  assert.equal(s.f.fd_read(0, 100, 1, 200), abi.ERRNO_INTR);
});

// ---------------------------------------------------------------------------------------------
// Bounds checks, ENOSYS, proc_exit
// ---------------------------------------------------------------------------------------------

Deno.test("out-of-bounds pointers and lengths → ERRNO_FAULT, never a throw", async () => {
  const s = setup({ args: ["a", "b"], env: { X: "1" } });
  const END = 65536;
  const FAULT = abi.ERRNO_FAULT;
  assert.equal(FAULT, 21);
  const call = (name: string, ...a: unknown[]) => {
    try {
      return s.f[name](...a);
    } catch (e) {
      assert.fail(`${name} threw ${e}`);
    }
  };
  assert.equal(call("args_sizes_get", END - 2, 0), FAULT);
  assert.equal(call("args_get", END - 4, 0), FAULT);
  assert.equal(call("args_get", 0, END - 1), FAULT);
  assert.equal(call("environ_get", -8, 0), FAULT); // i32 -8 = 0xFFFFFFF8
  assert.equal(call("clock_time_get", 1, 0n, END - 7), FAULT);
  assert.equal(call("random_get", END - 10, 11), FAULT);
  assert.equal(call("random_get", 0, -1), FAULT);
  // fd_write: iovec array outside, buffer outside, length wrap, result pointer outside.
  assert.equal(call("fd_write", 1, END - 4, 1, 0), FAULT);
  putIovecs(s, 100, [[END - 2, 3]]);
  assert.equal(call("fd_write", 1, 100, 1, 200), FAULT);
  putIovecs(s, 100, [[10, 0xffffffff]]);
  assert.equal(call("fd_write", 1, 100, 1, 200), FAULT);
  putIovecs(s, 100, [[10, 1]]);
  assert.equal(call("fd_write", 1, 100, 1, END), FAULT);
  assert.equal(call("fd_write", 1, 100, 0x20000000, 200), FAULT);
  // Pointers near 4 GiB (negative i32s): offsets added to them must fault, not wrap to 0.
  putIovecs(s, 0, [[10, 1]]);
  assert.equal(call("fd_write", 1, -4, 1, 200), FAULT);
  assert.equal(call("fd_write", 1, -8, 2, 200), FAULT);
  assert.equal(call("fd_write", 2, -1, 1, 200), FAULT);
  assert.equal(s.stdout.chunks.length + s.stderr.chunks.length, 0, "nothing may be written");
  assert.equal(call("fd_fdstat_get", 1, END - 23), FAULT);
  assert.equal(call("fd_filestat_get", 1, -1), FAULT);
  assert.equal(call("fd_read", 0, 100, 1, END), FAULT);
  assert.equal(await call("poll_oneoff", END - 47, 0, 1, 200), FAULT);
  assert.equal(await call("poll_oneoff", 0, END - 31, 1, 200), FAULT);
  assert.equal(call("fd_seek", 1, 0n, 0, END), abi.ERRNO_SPIPE); // EBADF-like checks first: fine
});

Deno.test("views are re-taken after memory.grow (detached buffer)", () => {
  const s = setup();
  const n = putStr(s, 100, "before");
  putIovecs(s, 0, [[100, n]]);
  assert.equal(s.f.fd_write(1, 0, 1, 8), 0);
  s.memory.grow(1); // detaches the old buffer
  const at = 65536 + 500; // only valid after the grow
  const m = putStr(s, at, "after");
  putIovecs(s, 65536, [[at, m]]);
  assert.equal(s.f.fd_write(1, 65536, 1, 65536 + 16), 0);
  assert.equal(s.dv().getUint32(65536 + 16, true), 5);
  assert.equal(s.stdout.text, "beforeafter");
});

Deno.test("all 46 preview1 names are importable; unimplemented ones return ENOSYS", () => {
  const s = setup();
  assert.equal(Object.keys(s.wasi.imports).length, 46);
  for (const name of abi.PREVIEW1_FUNCTIONS) assert.ok(name in s.wasi.imports, name);
  for (const name of ["sock_accept", "sock_recv", "sock_send", "sock_shutdown", "fd_allocate"]) {
    assert.equal(s.f[name](0, 0, 0, 0, 0, 0), abi.ERRNO_NOSYS, name);
  }
  assert.equal(abi.ERRNO_NOSYS, 52);
  assert.equal(s.f.proc_raise(2), abi.ERRNO_NOSYS);
  assert.equal(s.f.sched_yield(), 0);
});

Deno.test("proc_exit throws ProcExit with the code", () => {
  const s = setup();
  assert.throws(() => s.f.proc_exit(7), (e: unknown) => e instanceof ProcExit && e.code === 7);
  assert.throws(
    () => s.f.proc_exit(-1),
    (e: unknown) => e instanceof ProcExit && e.code === 0xffffffff,
  );
});

// ---------------------------------------------------------------------------------------------
// poll_oneoff
// ---------------------------------------------------------------------------------------------

function putClockSub(
  s: Setup,
  at: number,
  userdata: bigint,
  timeoutNs: bigint,
  opts: { id?: number; abs?: boolean } = {},
): void {
  s.u8().fill(0, at, at + abi.SUBSCRIPTION_SIZE);
  const dv = s.dv();
  dv.setBigUint64(at + abi.SUBSCRIPTION_OFF.userdata, userdata, true);
  dv.setUint8(at + abi.SUBSCRIPTION_OFF.tag, abi.EVENTTYPE_CLOCK);
  dv.setUint32(at + abi.SUBSCRIPTION_OFF.clock_id, opts.id ?? abi.CLOCKID_MONOTONIC, true);
  dv.setBigUint64(at + abi.SUBSCRIPTION_OFF.clock_timeout, timeoutNs, true);
  dv.setUint16(
    at + abi.SUBSCRIPTION_OFF.clock_flags,
    opts.abs ? abi.SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0,
    true,
  );
}

function putFdSub(s: Setup, at: number, userdata: bigint, tag: number, fd: number): void {
  s.u8().fill(0, at, at + abi.SUBSCRIPTION_SIZE);
  s.dv().setBigUint64(at + abi.SUBSCRIPTION_OFF.userdata, userdata, true);
  s.dv().setUint8(at + abi.SUBSCRIPTION_OFF.tag, tag);
  s.dv().setUint32(at + abi.SUBSCRIPTION_OFF.fd, fd, true);
}

function events(s: Setup, out: number, nevents: number) {
  const n = s.dv().getUint32(nevents, true);
  return Array.from({ length: n }, (_, i) => {
    const at = out + i * abi.EVENT_SIZE;
    return {
      userdata: s.dv().getBigUint64(at + abi.EVENT_OFF.userdata, true),
      error: s.dv().getUint16(at + abi.EVENT_OFF.error, true),
      type: s.dv().getUint8(at + abi.EVENT_OFF.type),
      nbytes: s.dv().getBigUint64(at + abi.EVENT_OFF.nbytes, true),
      flags: s.dv().getUint16(at + abi.EVENT_OFF.flags, true),
    };
  });
}

const IN = 1024, OUT = 4096, NEV = 8000;

Deno.test("poll_oneoff: a relative clock sleep returns about on time through gate.sleep", async () => {
  const s = setup();
  putClockSub(s, IN, 42n, 50_000_000n);
  const t0 = performance.now();
  assert.equal(await s.f.poll_oneoff(IN, OUT, 1, NEV), 0);
  const dt = performance.now() - t0;
  assert.ok(dt >= 49 && dt < 200, `slept ${dt} ms`);
  assert.deepEqual(events(s, OUT, NEV), [
    { userdata: 42n, error: 0, type: abi.EVENTTYPE_CLOCK, nbytes: 0n, flags: 0 },
  ]);
  assert.ok(s.gate.checkpoints >= 1, "checkpoint() must be called first");
  assert.ok(s.gate.sleeps.length >= 1);
});

Deno.test("poll_oneoff: the earliest of several clocks wins; absolute deadlines work", async () => {
  const s = setup();
  putClockSub(s, IN, 1n, 5_000_000_000n); // 5 s relative
  // Absolute monotonic deadline 30 ms from now.
  assert.equal(s.f.clock_time_get(abi.CLOCKID_MONOTONIC, 0n, 0), 0);
  const now = s.dv().getBigUint64(0, true);
  putClockSub(s, IN + 48, 2n, now + 30_000_000n, { abs: true });
  const t0 = performance.now();
  assert.equal(await s.f.poll_oneoff(IN, OUT, 2, NEV), 0);
  const dt = performance.now() - t0;
  assert.ok(dt >= 28 && dt < 500, `slept ${dt} ms`);
  assert.deepEqual(events(s, OUT, NEV).map((e) => e.userdata), [2n]);

  // An absolute REALTIME deadline in the past fires at once, without sleeping.
  putClockSub(s, IN, 3n, 1_000_000_000n, { id: abi.CLOCKID_REALTIME, abs: true });
  const r = s.f.poll_oneoff(IN, OUT, 1, NEV);
  assert.equal(r, 0, "a passed deadline must not block");
  assert.deepEqual(events(s, OUT, NEV).map((e) => e.userdata), [3n]);
});

Deno.test("poll_oneoff: EINTR promptly when the gate stops, at once when already stopping", async () => {
  const s = setup();
  putClockSub(s, IN, 1n, 10_000_000_000n); // 10 s
  const t0 = performance.now();
  const p = s.f.poll_oneoff(IN, OUT, 1, NEV);
  setTimeout(() => s.gate.stop(), 30);
  assert.equal(await p, abi.ERRNO_INTR);
  const dt = performance.now() - t0;
  assert.ok(dt < 300, `stop took ${dt} ms`);
  const r = s.f.poll_oneoff(IN, OUT, 1, NEV);
  assert.equal(r, abi.ERRNO_INTR, "stopping: must return EINTR synchronously");
});

Deno.test("poll_oneoff: a u64::MAX timeout sleeps in timer-sized chunks, not at once", async () => {
  const s = setup();
  putClockSub(s, IN, 1n, 0xffff_ffff_ffff_ffffn);
  const p = s.f.poll_oneoff(IN, OUT, 1, NEV);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(s.gate.sleeps.length, 1, `re-slept: ${s.gate.sleeps}`);
  assert.ok(s.gate.sleeps[0] <= 2 ** 31 - 1);
  s.gate.stop();
  assert.equal(await p, abi.ERRNO_INTR);
});

Deno.test("poll_oneoff: the host's checkpoint sentinel propagates, it is not an errno", () => {
  const s = setup();
  s.gate.throwOnCheckpoint = true;
  putClockSub(s, IN, 1n, 1_000_000n);
  assert.throws(() => s.f.poll_oneoff(IN, OUT, 1, NEV), StopSentinel);
  putIovecs(s, 100, [[1000, 16]]);
  assert.throws(() => s.f.fd_read(0, 100, 1, 200), StopSentinel);
});

Deno.test("poll_oneoff: stdin readiness, bad fds, zero subscriptions", async () => {
  const s = setup();
  assert.equal(s.f.poll_oneoff(IN, OUT, 0, NEV), abi.ERRNO_INVAL);
  putFdSub(s, IN, 7n, abi.EVENTTYPE_FD_READ, 0);
  putClockSub(s, IN + 48, 8n, 5_000_000_000n);
  const p = s.f.poll_oneoff(IN, OUT, 2, NEV);
  setTimeout(() => s.stdin.push("xyz"), 20);
  assert.equal(await p, 0);
  assert.deepEqual(events(s, OUT, NEV), [
    { userdata: 7n, error: 0, type: abi.EVENTTYPE_FD_READ, nbytes: 3n, flags: 0 },
  ]);
  // The bytes the poll read in are delivered by the next fd_read, without blocking.
  putIovecs(s, 100, [[1000, 16]]);
  assert.equal(s.f.fd_read(0, 100, 1, 200), 0);
  assert.equal(dec.decode(s.u8().subarray(1000, 1000 + s.dv().getUint32(200, true))), "xyz");

  putFdSub(s, IN, 1n, abi.EVENTTYPE_FD_WRITE, 1);
  putFdSub(s, IN + 48, 2n, abi.EVENTTYPE_FD_READ, 99);
  assert.equal(s.f.poll_oneoff(IN, OUT, 2, NEV), 0);
  assert.deepEqual(events(s, OUT, NEV).map((e) => [e.userdata, e.error]), [
    [1n, 0],
    [2n, abi.ERRNO_BADF],
  ]);
});

// ---------------------------------------------------------------------------------------------
// Preopens and paths
// ---------------------------------------------------------------------------------------------

/** Every path test runs with the kernel's openat2 and with the component walk fallback. */
const RESOLUTIONS = ["kernel", "walk"] as const;

function fixture(): { root: string; outside: string; cleanup: () => void } {
  const base = Deno.makeTempDirSync({ prefix: "wasi_unit_" });
  const root = `${base}/root`;
  const outside = `${base}/outside`;
  Deno.mkdirSync(`${root}/sub`, { recursive: true });
  Deno.mkdirSync(outside);
  Deno.writeTextFileSync(`${root}/hello.txt`, "hello\n");
  Deno.writeTextFileSync(`${outside}/secret.txt`, "secret\n");
  Deno.symlinkSync(`${outside}/secret.txt`, `${root}/link_out`);
  Deno.symlinkSync(outside, `${root}/dirlink_out`);
  Deno.symlinkSync("../outside/new.txt", `${root}/dangling_out`);
  Deno.symlinkSync("hello.txt", `${root}/link_in`);
  Deno.symlinkSync("../root/sub", `${root}/sub_via_parent`);
  return { root, outside, cleanup: () => Deno.removeSync(base, { recursive: true }) };
}

Deno.test("fd_prestat_get: EBADF with no preopens; the name with one", () => {
  const none = setup();
  assert.equal(none.f.fd_prestat_get(3, 0), abi.ERRNO_BADF);
  assert.equal(none.f.fd_prestat_get(0, 0), abi.ERRNO_BADF);
  const fx = fixture();
  try {
    const s = setup({ preopens: [{ guestPath: "/sandbox", hostPath: fx.root }] });
    assert.equal(s.f.fd_prestat_get(3, 0), 0);
    assert.equal(s.dv().getUint8(0), abi.PREOPENTYPE_DIR);
    assert.equal(s.dv().getUint32(4, true), "/sandbox".length);
    assert.equal(s.f.fd_prestat_dir_name(3, 100, 3), abi.ERRNO_NAMETOOLONG);
    assert.equal(s.f.fd_prestat_dir_name(3, 100, 8), 0);
    assert.equal(dec.decode(s.u8().subarray(100, 108)), "/sandbox");
    assert.equal(s.f.fd_prestat_get(4, 0), abi.ERRNO_BADF);
    assert.equal(s.f.fd_fdstat_get(3, 0), 0);
    assert.equal(s.dv().getUint8(0), abi.FILETYPE_DIRECTORY);
  } finally {
    fx.cleanup();
  }
});

for (const mode of RESOLUTIONS) {
  Deno.test(`[${mode}] path_open: \`..\`, absolute paths and symlinks out of the preopen are refused`, () => {
    const fx = fixture();
    try {
      const s = setup({
        pathResolution: mode,
        preopens: [{ guestPath: "/sandbox", hostPath: fx.root }],
      });
      const NOTCAP = abi.ERRNO_NOTCAPABLE;
      assert.equal(open(s, "../outside/secret.txt").errno, NOTCAP);
      assert.equal(open(s, "sub/../../outside/secret.txt").errno, NOTCAP);
      assert.equal(open(s, "..").errno, NOTCAP);
      assert.equal(open(s, `${fx.outside}/secret.txt`).errno, NOTCAP);
      assert.equal(open(s, "/etc/passwd").errno, NOTCAP);
      assert.equal(open(s, "link_out").errno, NOTCAP); // symlink to a file outside
      assert.equal(open(s, "dirlink_out/secret.txt").errno, NOTCAP); // symlinked dir outside
      // A dangling symlink pointing outside must not let O_CREAT create the file there.
      const c = open(s, "dangling_out", { oflags: abi.OFLAGS_CREAT, rights: RIGHTS_RW });
      assert.equal(c.errno, NOTCAP);
      assert.throws(() => Deno.statSync(`${fx.outside}/new.txt`), Deno.errors.NotFound);
      // Same checks for path_filestat_get.
      const len = putStr(s, 5000, "link_out");
      assert.equal(s.f.path_filestat_get(3, abi.LOOKUPFLAGS_SYMLINK_FOLLOW, 5000, len, 0), NOTCAP);
      // Without following, the link itself may be stat'ed (it lies inside).
      assert.equal(s.f.path_filestat_get(3, 0, 5000, len, 0), 0);
      assert.equal(s.dv().getUint8(abi.FILESTAT_OFF.filetype), abi.FILETYPE_SYMBOLIC_LINK);
      // ...but not opened (O_NOFOLLOW).
      assert.equal(open(s, "link_out", { follow: false }).errno, abi.ERRNO_LOOP);

      // Inside the sandbox, symlinks work, `.`/`..` that stay inside work.
      assert.equal(open(s, "link_in").errno, 0);
      assert.equal(open(s, "sub/../hello.txt").errno, 0);
      // A symlink that passes above the preopen, even to come back in, is refused (as the
      // kernel's RESOLVE_BENEATH and wasmtime do).
      assert.equal(open(s, "./sub_via_parent", { oflags: abi.OFLAGS_DIRECTORY }).errno, NOTCAP);
      assert.equal(open(s, "missing.txt").errno, abi.ERRNO_NOENT);
      assert.equal(open(s, "").errno, abi.ERRNO_NOENT);
      assert.equal(open(s, "hello.txt", { dirfd: 1 }).errno, abi.ERRNO_NOTDIR);
      assert.equal(open(s, "hello.txt", { dirfd: 17 }).errno, abi.ERRNO_BADF);
      // Relative to a subdirectory fd, `..` may not climb above it.
      const sub = open(s, "sub", { oflags: abi.OFLAGS_DIRECTORY });
      assert.equal(sub.errno, 0);
      assert.equal(open(s, "../hello.txt", { dirfd: sub.fd }).errno, NOTCAP);
      // Invalid UTF-8 and NUL in a path.
      s.u8().set([0xff, 0xfe], 5000);
      assert.equal(s.f.path_open(3, 1, 5000, 2, 0, RIGHTS_RO, 0n, 0, 6000), abi.ERRNO_ILSEQ);
      assert.equal(open(s, "hello.txt\0x").errno, abi.ERRNO_INVAL);
      // Path pointer out of bounds.
      assert.equal(s.f.path_open(3, 1, 65530, 10, 0, RIGHTS_RO, 0n, 0, 6000), abi.ERRNO_FAULT);
    } finally {
      fx.cleanup();
    }
  });
}

for (const mode of RESOLUTIONS) {
  Deno.test(`[${mode}] files in a preopen: create, write, seek, read, pread, stat, readdir, close`, () => {
    const fx = fixture();
    try {
      const s = setup({ pathResolution: mode, preopens: [{ guestPath: ".", hostPath: fx.root }] });
      const w = open(s, "sub/new.txt", {
        oflags: abi.OFLAGS_CREAT | abi.OFLAGS_TRUNC,
        rights: RIGHTS_RW,
      });
      assert.equal(w.errno, 0);
      assert.equal(w.fd, 4);
      const n = putStr(s, 1000, "0123456789");
      putIovecs(s, 100, [[1000, n]]);
      assert.equal(s.f.fd_write(w.fd, 100, 1, 200), 0);
      assert.equal(Deno.readTextFileSync(`${fx.root}/sub/new.txt`), "0123456789");
      assert.equal(s.f.fd_seek(w.fd, -4n, abi.WHENCE_END, 208), 0);
      assert.equal(s.dv().getBigUint64(208, true), 6n);
      putIovecs(s, 100, [[2000, 10]]);
      assert.equal(s.f.fd_read(w.fd, 100, 1, 200), 0);
      assert.equal(dec.decode(s.u8().subarray(2000, 2000 + s.dv().getUint32(200, true))), "6789");
      assert.equal(s.f.fd_pread(w.fd, 100, 1, 2n, 200), 0);
      assert.equal(dec.decode(s.u8().subarray(2000, 2003)), "234");
      assert.equal(s.f.fd_tell(w.fd, 208), 0);
      assert.equal(s.dv().getBigUint64(208, true), 10n, "pread must not move the offset");
      assert.equal(s.f.fd_filestat_get(w.fd, 300), 0);
      assert.equal(s.dv().getBigUint64(300 + abi.FILESTAT_OFF.size, true), 10n);
      assert.equal(s.dv().getUint8(300 + abi.FILESTAT_OFF.filetype), abi.FILETYPE_REGULAR_FILE);
      assert.equal(s.f.fd_close(w.fd), 0);
      assert.equal(s.f.fd_close(w.fd), abi.ERRNO_BADF);

      // Read-only opening: writing is EBADF.
      const r = open(s, "hello.txt");
      putIovecs(s, 100, [[1000, 1]]);
      assert.equal(s.f.fd_write(r.fd, 100, 1, 200), abi.ERRNO_BADF);
      // Host errors map to errnos.
      assert.equal(
        open(s, "hello.txt", { oflags: abi.OFLAGS_CREAT | abi.OFLAGS_EXCL, rights: RIGHTS_RW })
          .errno,
        abi.ERRNO_EXIST,
      );
      const len = putStr(s, 5000, "sub");
      assert.equal(s.f.path_remove_directory(3, 5000, len), abi.ERRNO_NOTEMPTY);
      assert.equal(s.f.path_filestat_get(3, 1, 5000, len, 300), 0);
      assert.equal(s.dv().getUint8(300 + abi.FILESTAT_OFF.filetype), abi.FILETYPE_DIRECTORY);

      // fd_readdir on the preopen: ".", "..", then every entry; small buffers truncate.
      const names = readdirNames(s, 3) as string[];
      assert.deepEqual(names.slice(0, 2), [".", ".."]);
      assert.deepEqual(names.slice(2).sort(), [
        "dangling_out",
        "dirlink_out",
        "hello.txt",
        "link_in",
        "link_out",
        "sub",
        "sub_via_parent",
      ]);
      assert.equal(s.f.fd_readdir(3, 10000, 30, 0n, 200), 0);
      assert.equal(s.dv().getUint32(200, true), 30, "a record that does not fit is truncated");
      assert.equal(s.f.fd_readdir(1, 10000, 30, 0n, 200), abi.ERRNO_NOTDIR);
    } finally {
      fx.cleanup();
    }
  });
}

for (const mode of RESOLUTIONS) {
  Deno.test(`[${mode}] read-only preopen: creating or writing → EROFS, reading works`, () => {
    const fx = fixture();
    try {
      const s = setup({
        pathResolution: mode,
        preopens: [{ guestPath: "/ro", hostPath: fx.root, readOnly: true }],
      });
      assert.equal(open(s, "hello.txt").errno, 0);
      assert.equal(open(s, "hello.txt", { rights: RIGHTS_RW }).errno, abi.ERRNO_ROFS);
      assert.equal(
        open(s, "x", { oflags: abi.OFLAGS_CREAT, rights: RIGHTS_RW }).errno,
        abi.ERRNO_ROFS,
      );
      const len = putStr(s, 5000, "hello.txt");
      assert.equal(s.f.path_unlink_file(3, 5000, len), abi.ERRNO_ROFS);
      assert.ok(Deno.statSync(`${fx.root}/hello.txt`).isFile);
    } finally {
      fx.cleanup();
    }
  });
}
