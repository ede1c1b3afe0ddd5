// Preopens and paths (src/wasi/path.ts; src/wasi/fd.ts on files): prestat, what path_open
// refuses, file operations in a preopen, a read-only preopen.
// Without a guest: the functions run on a bare WebAssembly.Memory with in-memory sinks and a
// fake BlockingGate (tests/helpers/wasi.ts).
import assert from "node:assert/strict";
import * as abi from "../src/wasi/abi.ts";
import {
  dec,
  open,
  putIovecs,
  putStr,
  readdirNames,
  RESOLUTIONS,
  RIGHTS_RO,
  RIGHTS_RW,
  setup,
} from "./helpers/wasi.ts";

function fixture(): { root: string; outside: string; cleanup: () => void } {
  const base = Deno.makeTempDirSync({ prefix: "wasi_path_" });
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
