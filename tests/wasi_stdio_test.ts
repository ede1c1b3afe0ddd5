// The stdio fds of src/wasi/fd.ts: fd_write to the sinks, fd_read from stdin through the gate,
// fdstat, seek/tell, NONBLOCK.
// Without a guest: the functions run on a bare WebAssembly.Memory with in-memory sinks and a
// fake BlockingGate (tests/helpers/wasi.ts).
import assert from "node:assert/strict";
import * as abi from "../src/wasi/abi.ts";
import { waitFor } from "./helpers/conditions.ts";
import { dec, putIovecs, putStr, setup } from "./helpers/wasi.ts";

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
  await waitFor("the host read of stdin", () => s.stdin.reads > 0);
  s.stdin.push("abcdefg");
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
  let errno = abi.ERRNO_AGAIN;
  await waitFor("the late data to reach stdin", () => {
    errno = s.f.fd_read(0, 100, 1, 200);
    return errno !== abi.ERRNO_AGAIN;
  });
  assert.equal(errno, 0);
  assert.equal(s.dv().getUint32(200, true), 4);
  assert.equal(s.stdin.reads, 1, "one host read in flight at most");
  assert.equal(s.f.fd_fdstat_set_flags(1, abi.FDFLAGS_SYNC), abi.ERRNO_NOTSUP);
});

Deno.test("fd_read on stdin: a stop ends the wait with EINTR", async () => {
  const s = setup();
  putIovecs(s, 100, [[1000, 16]]);
  const t0 = performance.now();
  const p = s.f.fd_read(0, 100, 1, 200);
  await waitFor("the read to wait on the gate", () => s.gate.waiters > 0);
  s.gate.stop();
  assert.equal(await p, abi.ERRNO_INTR);
  assert.ok(performance.now() - t0 < 500);
  // Already stopping: EINTR without blocking.
  assert.equal(s.f.fd_read(0, 100, 1, 200), abi.ERRNO_INTR);
});
