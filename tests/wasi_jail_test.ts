/**
 * The preopen jail under attack, at the WASI level (no guest module needed: the attacks are
 * sequences of preview1 calls). Every test runs twice: paths confined by the kernel (openat2
 * RESOLVE_BENEATH) and by the component-walk fallback. "Nothing outside" is checked on the host
 * file system, not only through the errnos.
 */

import assert from "node:assert/strict";
import * as abi from "../src/wasi/abi.ts";
import {
  open,
  pathCall,
  putIovecs,
  putStr,
  readdirNames,
  readText,
  rename,
  RESOLUTIONS,
  RIGHTS_RO,
  RIGHTS_RW,
  type Setup,
  setup,
  statAt,
} from "./helpers/wasi.ts";

const NOTCAP = abi.ERRNO_NOTCAPABLE;
const DIR = { oflags: abi.OFLAGS_DIRECTORY };

interface Jail {
  base: string;
  root: string;
  outside: string;
  /** A snapshot of everything outside the jail: name → content ("<dir>" for directories). */
  outsideState(): Record<string, string>;
  cleanup(): void;
}

/** `<base>/root` is granted; `<base>/outside` holds what must never be reached. */
function makeJail(): Jail {
  const base = Deno.makeTempDirSync({ prefix: "wasi_jail_" });
  const root = `${base}/root`;
  const outside = `${base}/outside`;
  Deno.mkdirSync(`${root}/D`, { recursive: true });
  Deno.mkdirSync(`${outside}/outdir`, { recursive: true });
  Deno.writeTextFileSync(`${root}/D/inD.txt`, "in D\n");
  Deno.writeTextFileSync(`${root}/payload`, "PAYLOAD\n");
  Deno.writeTextFileSync(`${root}/hello.txt`, "hello\n");
  Deno.writeTextFileSync(`${outside}/secret.txt`, "secret\n");
  Deno.writeTextFileSync(`${outside}/victim.txt`, "victim\n");
  Deno.writeTextFileSync(`${outside}/outdir/deep.txt`, "deep\n");
  const outsideState = () => {
    const out: Record<string, string> = {};
    const walk = (dir: string, rel: string) => {
      for (const e of Deno.readDirSync(dir)) {
        const p = `${dir}/${e.name}`;
        if (e.isDirectory) {
          out[rel + e.name] = "<dir>";
          walk(p, `${rel}${e.name}/`);
        } else out[rel + e.name] = Deno.readTextFileSync(p);
      }
    };
    walk(outside, "");
    return out;
  };
  return {
    base,
    root,
    outside,
    outsideState,
    cleanup: () => Deno.removeSync(base, { recursive: true }),
  };
}

function withJail(mode: (typeof RESOLUTIONS)[number], fn: (s: Setup, j: Jail) => void): void {
  const j = makeJail();
  try {
    const before = j.outsideState();
    const s = setup({ pathResolution: mode, preopens: [{ guestPath: "/jail", hostPath: j.root }] });
    try {
      fn(s, j);
    } finally {
      s.wasi.close();
    }
    assert.deepEqual(j.outsideState(), before, "something outside the jail changed");
  } finally {
    j.cleanup();
  }
}

for (const mode of RESOLUTIONS) {
  Deno.test(`[${mode}] an open directory renamed away and replaced by a symlink out stays inside`, () => {
    withJail(mode, (s, j) => {
      const d = open(s, "D", DIR);
      assert.equal(d.errno, 0);
      // The guest renames D away, and moves a symlink with `..` into D's old name (the guest
      // cannot create symlinks; one that already lies in the jail is enough).
      Deno.symlinkSync("../outside", `${j.root}/evil`);
      assert.equal(rename(s, 3, "D", 3, "D_moved"), 0);
      assert.equal(rename(s, 3, "evil", 3, "D"), 0);
      const movedIno = BigInt(Deno.statSync(`${j.root}/D_moved`).ino!);

      // Through the old fd: nothing of outside/ is reachable, everything lands in D_moved.
      assert.equal(rename(s, 3, "payload", d.fd, "."), abi.ERRNO_INVAL);
      assert.equal(rename(s, 3, "payload", d.fd, "victim.txt"), 0);
      assert.equal(Deno.readTextFileSync(`${j.root}/D_moved/victim.txt`), "PAYLOAD\n");
      assert.equal(open(s, "secret.txt", { dirfd: d.fd }).errno, abi.ERRNO_NOENT);
      assert.equal(open(s, "../outside/secret.txt", { dirfd: d.fd }).errno, NOTCAP);
      assert.equal(open(s, "../D/secret.txt", { dirfd: d.fd }).errno, NOTCAP);
      const inD = open(s, "inD.txt", { dirfd: d.fd });
      assert.equal(inD.errno, 0);
      assert.equal(readText(s, inD.fd), "in D\n");
      assert.deepEqual((readdirNames(s, d.fd) as string[]).sort(), [
        ".",
        "..",
        "inD.txt",
        "victim.txt",
      ]);
      assert.equal(s.f.fd_filestat_get(d.fd, 7000), 0);
      assert.equal(s.dv().getBigUint64(7000 + abi.FILESTAT_OFF.ino, true), movedIno);
      assert.deepEqual(statAt(s, d.fd, "."), { errno: 0, ino: movedIno });
      assert.equal(pathCall(s, "path_unlink_file", d.fd, "secret.txt"), abi.ERRNO_NOENT);
      assert.equal(pathCall(s, "path_unlink_file", d.fd, "../outside/secret.txt"), NOTCAP);
      assert.equal(pathCall(s, "path_create_directory", d.fd, "made"), 0);
      assert.ok(Deno.statSync(`${j.root}/D_moved/made`).isDirectory);
      assert.equal(pathCall(s, "path_remove_directory", d.fd, "made"), 0);
      const dot = open(s, ".", { dirfd: d.fd, ...DIR });
      assert.equal(dot.errno, 0);
      assert.ok(!(readdirNames(s, dot.fd) as string[]).includes("secret.txt"));

      // Through the jail, D is now a symlink out: refused in every position.
      assert.equal(open(s, "D/secret.txt").errno, NOTCAP);
      assert.equal(open(s, "D", DIR).errno, NOTCAP);
      assert.equal(pathCall(s, "path_unlink_file", 3, "D/secret.txt"), NOTCAP);
      assert.equal(pathCall(s, "path_create_directory", 3, "D/new"), NOTCAP);
      assert.equal(rename(s, 3, "hello.txt", 3, "D/victim.txt"), NOTCAP);
      assert.equal(statAt(s, 3, "D/secret.txt", false).errno, NOTCAP);
      assert.equal(pathCall(s, "path_readlink", 3, "D/x", 8000, 100, 200), NOTCAP);
      // The link itself lies inside: it may be read and removed.
      assert.equal(pathCall(s, "path_readlink", 3, "D", 8000, 100, 200), 0);
      assert.equal(pathCall(s, "path_unlink_file", 3, "D"), 0);
    });
  });

  Deno.test(`[${mode}] symlinks out, absolute symlinks, \`..\` chains, dangling links with O_CREAT`, () => {
    withJail(mode, (s, j) => {
      Deno.mkdirSync(`${j.root}/a/b`, { recursive: true });
      Deno.symlinkSync("../../outside/secret.txt", `${j.root}/a/rel_out`);
      Deno.symlinkSync(`${j.outside}/secret.txt`, `${j.root}/abs_out`);
      Deno.symlinkSync(`${j.root}/hello.txt`, `${j.root}/abs_in`); // absolute, even to inside
      Deno.symlinkSync("../outside/new.txt", `${j.root}/dangling_out`);
      Deno.symlinkSync(`${j.outside}/new2.txt`, `${j.root}/dangling_abs`);
      Deno.symlinkSync("created.txt", `${j.root}/dangling_in`);
      Deno.symlinkSync("loop2", `${j.root}/loop1`);
      Deno.symlinkSync("loop1", `${j.root}/loop2`);
      Deno.symlinkSync("b/../..", `${j.root}/a/up`); // resolves to the root itself
      Deno.symlinkSync("../..", `${j.root}/a/b/upup`); // the root
      Deno.symlinkSync("../../..", `${j.root}/a/b/upupup`); // above it

      for (const p of ["a/rel_out", "abs_out", "abs_in", "a/b/upupup/outside/secret.txt"]) {
        assert.equal(open(s, p).errno, NOTCAP, p);
        assert.equal(statAt(s, 3, p).errno, NOTCAP, p);
      }
      for (const p of ["a/b/../../../outside/secret.txt", "a/./b/../../..", "..", "a/b/upupup"]) {
        assert.equal(open(s, p).errno, NOTCAP, p);
      }
      assert.equal(open(s, "/etc/passwd").errno, NOTCAP);
      // Longer than PATH_MAX: refused before any walk, in both modes.
      assert.equal(open(s, "./".repeat(2048) + "hello.txt").errno, abi.ERRNO_NAMETOOLONG);
      assert.equal(open(s, "./".repeat(2000) + "hello.txt").errno, 0);
      assert.equal(open(s, "loop1").errno, abi.ERRNO_LOOP);
      // `..` that stays beneath is fine, through symlinks too.
      assert.equal(open(s, "a/b/../../hello.txt").errno, 0);
      assert.equal(open(s, "a/up/hello.txt").errno, 0);
      assert.equal(open(s, "a/b/upup/hello.txt").errno, 0);
      // O_CREAT through a dangling symlink: inside is created, outside is refused.
      const rw = { oflags: abi.OFLAGS_CREAT, rights: RIGHTS_RW };
      assert.equal(open(s, "dangling_out", rw).errno, NOTCAP);
      assert.equal(open(s, "dangling_abs", rw).errno, NOTCAP);
      assert.equal(open(s, "dangling_in", rw).errno, 0);
      assert.ok(Deno.statSync(`${j.root}/created.txt`).isFile);
      // Without following, a symlink is not opened (even a dangling one with O_CREAT).
      assert.equal(open(s, "dangling_out", { ...rw, follow: false }).errno, abi.ERRNO_LOOP);
      // Ops on the parent refuse a parent that leaves, whatever the last name.
      assert.equal(pathCall(s, "path_create_directory", 3, "a/b/upupup/outside/x"), NOTCAP);
      assert.equal(pathCall(s, "path_unlink_file", 3, "a/b/upupup/outside/secret.txt"), NOTCAP);
      assert.equal(rename(s, 3, "a/b/upupup/outside/secret.txt", 3, "stolen"), NOTCAP);
      assert.equal(pathCall(s, "path_create_directory", 3, ".."), abi.ERRNO_EXIST);
      assert.equal(pathCall(s, "path_remove_directory", 3, "."), abi.ERRNO_INVAL);
      assert.equal(pathCall(s, "path_remove_directory", 3, "a/b/.."), abi.ERRNO_INVAL);
    });
  });

  Deno.test(`[${mode}] a FIFO, a socket or a device in a granted directory is refused at once`, async () => {
    const j = makeJail();
    const listener = Deno.listen({ transport: "unix", path: `${j.root}/sock` });
    try {
      const mk = (args: string[]) =>
        new Deno.Command(args[0], { args: args.slice(1) }).outputSync().success;
      assert.ok(mk(["mkfifo", `${j.root}/fifo`]), "mkfifo");
      const haveDevice = mk(["mknod", `${j.root}/null`, "c", "1", "3"]); // needs root
      const s = setup({ pathResolution: mode, preopens: [{ guestPath: ".", hostPath: j.root }] });
      try {
        // Before the fix a read-only open of a FIFO without a writer blocked the host forever.
        assert.equal(open(s, "fifo").errno, abi.ERRNO_NOTSUP);
        // Refused by type before any real open: a write open of a FIFO without a reader would
        // say ENXIO, a socket too.
        assert.equal(open(s, "fifo", { rights: RIGHTS_RW }).errno, abi.ERRNO_NOTSUP);
        assert.equal(open(s, "fifo", { oflags: abi.OFLAGS_CREAT }).errno, abi.ERRNO_NOTSUP);
        assert.equal(open(s, "sock").errno, abi.ERRNO_NOTSUP);
        if (haveDevice) assert.equal(open(s, "null").errno, abi.ERRNO_NOTSUP);
        // Stat'ing and listing them is fine.
        assert.equal(statAt(s, 3, "fifo").errno, 0);
        assert.ok((readdirNames(s, 3) as string[]).includes("fifo"));
      } finally {
        s.wasi.close();
      }
    } finally {
      listener.close();
      j.cleanup();
    }
    await Promise.resolve();
  });

  Deno.test(`[${mode}] a concurrent swapper of a jail directory for a symlink out: zero outside reads`, async () => {
    const j = makeJail();
    Deno.mkdirSync(`${j.root}/real`);
    Deno.writeTextFileSync(`${j.root}/real/f.txt`, "inside");
    Deno.writeTextFileSync(`${j.outside}/f.txt`, "OUTSIDE");
    Deno.symlinkSync(`${j.outside}`, `${j.root}/evil`);
    // The swapper renames `real` and `evil` in turn to `d`, as another host process could.
    const ctl = new Int32Array(new SharedArrayBuffer(8)); // [stop, swaps]
    const code = `
      self.onmessage = ({ data: { root, ctl } }) => {
        self.postMessage("started");
        while (Atomics.load(ctl, 0) === 0) {
          for (const name of ["real", "evil"]) {
            Deno.renameSync(root + "/" + name, root + "/d");
            Deno.renameSync(root + "/d", root + "/" + name);
            Atomics.add(ctl, 1, 1);
          }
        }
        self.postMessage("done");
      };`;
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    const worker = new Worker(url, { type: "module" });
    const messages: string[] = [];
    const next = () =>
      new Promise<string>((resolve) => {
        worker.onmessage = (e) => resolve(e.data);
      });
    try {
      const started = next();
      worker.postMessage({ root: j.root, ctl });
      messages.push(await started);
      const s = setup({ pathResolution: mode, preopens: [{ guestPath: ".", hostPath: j.root }] });
      let inside = 0, outside = 0, refused = 0, opens = 0;
      const deadline = Date.now() + 5000;
      try {
        // Until the race was really run both ways (bounded in count and time).
        while (
          opens < 20000 && Date.now() < deadline && (opens < 3000 || inside < 20 || refused < 20)
        ) {
          opens++;
          const r = open(s, "d/f.txt");
          if (r.errno !== 0) {
            refused++;
            continue;
          }
          const text = readText(s, r.fd);
          s.f.fd_close(r.fd);
          if (text === "OUTSIDE") outside++;
          else if (text === "inside") inside++;
        }
        // Directory ops through the swapped name as well: never outside.
        for (let i = 0; i < 300; i++) {
          pathCall(s, "path_create_directory", 3, "d/made");
          const st = statAt(s, 3, "d/f.txt");
          assert.ok(st.errno !== 0 || st.ino !== BigInt(Deno.statSync(`${j.outside}/f.txt`).ino!));
        }
      } finally {
        s.wasi.close();
      }
      Atomics.store(ctl, 0, 1);
      const done = next();
      messages.push(await done);
      assert.equal(outside, 0, `${outside} outside reads in ${opens} opens`);
      assert.ok(Atomics.load(ctl, 1) > 0, "the swapper ran");
      assert.ok(inside > 0 && refused > 0, `race not exercised: ${inside} in, ${refused} refused`);
      assert.throws(() => Deno.statSync(`${j.outside}/made`), Deno.errors.NotFound);
      assert.deepEqual(messages, ["started", "done"]);
    } finally {
      Atomics.store(ctl, 0, 1);
      worker.terminate();
      URL.revokeObjectURL(url);
      j.cleanup();
    }
  });
}

Deno.test("maxOpenFiles: EMFILE past the cap (files and directories), room again after a close", () => {
  const j = makeJail();
  try {
    const s = setup({ maxOpenFiles: 3, preopens: [{ guestPath: ".", hostPath: j.root }] });
    const fds = [open(s, "hello.txt"), open(s, "D", DIR), open(s, "payload")];
    assert.deepEqual(fds.map((r) => r.errno), [0, 0, 0]);
    assert.equal(open(s, "hello.txt").errno, abi.ERRNO_MFILE);
    assert.equal(open(s, "D", DIR).errno, abi.ERRNO_MFILE);
    assert.equal(s.f.fd_close(fds[1].fd), 0);
    assert.equal(open(s, "hello.txt").errno, 0);
    // Renumbering one onto another closes the target: room for one more.
    assert.equal(s.f.fd_renumber(fds[0].fd, fds[2].fd), 0);
    assert.equal(open(s, "hello.txt").errno, 0);
    assert.equal(open(s, "hello.txt").errno, abi.ERRNO_MFILE);
    s.wasi.close();

    const d = setup({ preopens: [{ guestPath: ".", hostPath: j.root }] });
    for (let i = 0; i < 256; i++) assert.equal(open(d, "hello.txt").errno, 0, `open ${i}`);
    assert.equal(open(d, "hello.txt").errno, abi.ERRNO_MFILE, "the default cap is 256");
    d.wasi.close();
  } finally {
    j.cleanup();
  }
});

function openFdCount(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

Deno.test("every host fd (preopens, files, directories) is closed by close(), once", () => {
  const j = makeJail();
  try {
    const before = openFdCount();
    const s = setup({ preopens: [{ guestPath: ".", hostPath: j.root }] });
    for (let i = 0; i < 5; i++) open(s, "hello.txt");
    open(s, "D", DIR);
    assert.equal(openFdCount(), before + 7);
    s.f.fd_close(3); // the preopen itself
    assert.equal(openFdCount(), before + 6);
    s.wasi.close();
    s.wasi.close();
    assert.equal(openFdCount(), before);
    // A failing preopen closes the ones already opened.
    assert.throws(
      () =>
        setup({
          preopens: [{ guestPath: "a", hostPath: j.root }, {
            guestPath: "b",
            hostPath: `${j.root}/hello.txt`,
          }],
        }),
      /preopen .*hello.txt: not a directory/,
    );
    assert.equal(openFdCount(), before);
  } finally {
    j.cleanup();
  }
});

Deno.test("attachOnly preopen: named to the guest, nothing beneath it reachable; preopenedDirFd", () => {
  const j = makeJail();
  try {
    const s = setup({
      preopens: [
        { guestPath: "/data", hostPath: j.root },
        { guestPath: "/cg", hostPath: `${j.root}/D`, attachOnly: true },
      ],
    });
    assert.equal(s.f.fd_prestat_get(4, 0), 0);
    assert.equal(s.dv().getUint32(4, true), 3);
    assert.equal(s.f.fd_prestat_dir_name(4, 100, 3), 0);
    assert.equal(new TextDecoder().decode(s.u8().subarray(100, 103)), "/cg");
    // Nothing beneath the attach-only directory.
    assert.equal(open(s, "inD.txt", { dirfd: 4 }).errno, NOTCAP);
    assert.equal(open(s, ".", { dirfd: 4, ...DIR }).errno, NOTCAP);
    assert.equal(
      open(s, "new", { dirfd: 4, oflags: abi.OFLAGS_CREAT, rights: RIGHTS_RW }).errno,
      NOTCAP,
    );
    assert.equal(statAt(s, 4, "inD.txt").errno, NOTCAP);
    assert.equal(statAt(s, 4, ".").errno, NOTCAP);
    assert.equal(pathCall(s, "path_create_directory", 4, "x"), NOTCAP);
    assert.equal(pathCall(s, "path_unlink_file", 4, "inD.txt"), NOTCAP);
    assert.equal(pathCall(s, "path_readlink", 4, "inD.txt", 8000, 100, 200), NOTCAP);
    assert.equal(rename(s, 3, "hello.txt", 4, "moved"), NOTCAP);
    assert.equal(rename(s, 4, "inD.txt", 3, "moved"), NOTCAP);
    assert.equal(readdirNames(s, 4), NOTCAP);
    assert.equal(s.f.fd_filestat_get(4, 7000), NOTCAP);
    assert.ok(Deno.statSync(`${j.root}/D/inD.txt`).isFile);
    // The same directory reached through the other preopen is an ordinary directory.
    assert.equal(open(s, "D/inD.txt").errno, 0);

    // preopenedDirFd: the host fd of what the host preopened there, a real directory fd.
    const hostFd = s.wasi.preopenedDirFd(3)!;
    const cgFd = s.wasi.preopenedDirFd(4)!;
    assert.equal(Deno.readLinkSync(`/proc/self/fd/${hostFd}`), Deno.realPathSync(j.root));
    assert.equal(Deno.readLinkSync(`/proc/self/fd/${cgFd}`), Deno.realPathSync(`${j.root}/D`));
    const flags = parseInt(
      /flags:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/self/fdinfo/${cgFd}`))![1],
      8,
    );
    const O_PATH = 0o10000000, O_ACCMODE = 3, O_CLOEXEC = 0o2000000;
    assert.equal(flags & O_PATH, 0, "not an O_PATH fd");
    assert.equal(flags & O_ACCMODE, 0, "O_RDONLY");
    assert.notEqual(flags & O_CLOEXEC, 0, "O_CLOEXEC");
    // undefined for anything else.
    for (const fd of [0, 1, 2, 99, -1]) assert.equal(s.wasi.preopenedDirFd(fd), undefined);
    const sameDir = open(s, ".", DIR); // the preopen's own directory, opened by the guest
    const file = open(s, "hello.txt");
    assert.equal(s.wasi.preopenedDirFd(sameDir.fd), undefined);
    assert.equal(s.wasi.preopenedDirFd(file.fd), undefined);
    // Closed, or replaced by the guest's own descriptor at the same number: undefined.
    assert.equal(s.f.fd_renumber(sameDir.fd, 4), 0);
    assert.equal(s.wasi.preopenedDirFd(4), undefined);
    assert.equal(s.f.fd_close(3), 0);
    assert.equal(s.wasi.preopenedDirFd(3), undefined);
    assert.equal(open(s, "hello.txt", { dirfd: 4 }).errno, 0);
    assert.equal(s.wasi.preopenedDirFd(3), undefined);
    s.wasi.close();
    assert.equal(s.wasi.preopenedDirFd(4), undefined);
  } finally {
    j.cleanup();
  }
});

Deno.test("file I/O on raw host fds: pwrite/pread at offsets, append, truncate, sync", () => {
  const j = makeJail();
  try {
    const s = setup({ preopens: [{ guestPath: ".", hostPath: j.root }] });
    const w = open(s, "io.txt", { oflags: abi.OFLAGS_CREAT, rights: RIGHTS_RW });
    assert.equal(w.errno, 0);
    const n = putStr(s, 1000, "abcdef");
    putIovecs(s, 100, [[1000, 3], [1003, 3]]);
    assert.equal(s.f.fd_pwrite(w.fd, 100, 2, 4n, 200), 0);
    assert.equal(s.dv().getUint32(200, true), n);
    assert.equal(Deno.readTextFileSync(`${j.root}/io.txt`), "\0\0\0\0abcdef");
    putIovecs(s, 100, [[2000, 2], [2010, 10]]);
    assert.equal(s.f.fd_pread(w.fd, 100, 2, 5n, 200), 0);
    assert.equal(s.dv().getUint32(200, true), 5);
    assert.equal(new TextDecoder().decode(s.u8().subarray(2000, 2002)), "bc");
    assert.equal(new TextDecoder().decode(s.u8().subarray(2010, 2013)), "def");
    assert.equal(s.f.fd_tell(w.fd, 208), 0);
    assert.equal(s.dv().getBigUint64(208, true), 0n);
    assert.equal(s.f.fd_filestat_set_size(w.fd, 2n), 0);
    assert.equal(Deno.statSync(`${j.root}/io.txt`).size, 2);
    assert.equal(s.f.fd_sync(w.fd), 0);
    assert.equal(s.f.fd_datasync(w.fd), 0);
    assert.equal(s.f.fd_seek(w.fd, -1n, abi.WHENCE_SET, 208), abi.ERRNO_INVAL);
    // Append: every write goes to the end.
    const len = putStr(s, 5000, "io.txt");
    assert.equal(
      s.f.path_open(3, 1, 5000, len, 0, RIGHTS_RW, 0n, abi.FDFLAGS_APPEND, 6000),
      0,
    );
    const a = s.dv().getUint32(6000, true);
    putIovecs(s, 100, [[1000, 3]]);
    assert.equal(s.f.fd_write(a, 100, 1, 200), 0);
    assert.equal(Deno.readTextFileSync(`${j.root}/io.txt`), "\0\0abc");
    const r = open(s, "io.txt", { rights: RIGHTS_RO });
    assert.equal(s.f.fd_filestat_set_size(r.fd, 0n), abi.ERRNO_BADF);
    s.wasi.close();
  } finally {
    j.cleanup();
  }
});

const haveStrace = (() => {
  try {
    return new Deno.Command("strace", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "a kernel without openat2 (ENOSYS injected by strace): the kernel mode walks instead, " +
    "and every jail test above still passes",
  ignore: !haveStrace, // needs strace to fake an old kernel
  fn: async () => {
    const log = Deno.makeTempFileSync({ prefix: "wasi_jail_strace_" });
    try {
      const out = await new Deno.Command("strace", {
        args: [
          ...["-f", "--seccomp-bpf", "-o", log, "-e", "trace=openat2"],
          ...["-e", "inject=openat2:error=ENOSYS"],
          ...[
            Deno.execPath(),
            "test",
            "--no-check",
            "--allow-all",
            new URL(import.meta.url).pathname,
          ],
          ...["--filter", "/^\\[kernel\\]/"],
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.ok(out.success, text);
      assert.match(text, /4 passed \| 0 failed/);
      // openat2 was tried once, answered ENOSYS, and never tried again: the walk did the rest.
      const calls = Deno.readTextFileSync(log).split("\n").filter((l) => l.includes("openat2("));
      assert.equal(calls.length, 1, calls.join("\n"));
      assert.match(calls[0], /ENOSYS/);
    } finally {
      Deno.removeSync(log);
    }
  },
});
