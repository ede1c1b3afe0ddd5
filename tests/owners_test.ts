// The owners of native resources (issue 13, item 3): OwnedFd and Link close what they own once,
// whatever calls close or dispose after that; a LoadedObject owns its links and pollers.
import assert from "node:assert/strict";
import { getLibc } from "../src/ffi/libc_ffi.ts";
import { getLibbpf } from "../src/ffi/libbpf_ffi.ts";
import { LinuxErrno } from "../src/ffi/errno.ts";
import { OwnedFd } from "../src/ffi/owned_fd.ts";
import { Link } from "../src/bpf/link.ts";
import { LoadedObject } from "../src/bpf/bpf_objects.ts";
import { BufferPoller } from "../src/bpf/events/buffer_poller.ts";
import { guest, kernelTest } from "./helpers/kernel.ts";

const O_RDONLY_CLOEXEC = 0o2000000;

function openNull(): OwnedFd {
  const fd = OwnedFd.open("/dev/null", O_RDONLY_CLOEXEC, LinuxErrno.EIO);
  assert.ok(typeof fd !== "number", `open /dev/null: ${fd}`);
  return fd;
}

/** Whether `fd` is an open descriptor now. */
function isOpen(fd: number): boolean {
  return getLibc().fstatfs(fd, new Uint8Array(256)) === 0;
}

Deno.test("OwnedFd: a second close, and a dispose after close, close nothing", () => {
  const first = openNull();
  const number = first.fd;
  first.close();
  assert.ok(first.closed);
  assert.throws(() => first.fd, /used after close/);
  // The kernel gives the lowest free number: the next open reuses the one just closed.
  const second = openNull();
  try {
    assert.equal(second.fd, number);
    first.close();
    first[Symbol.dispose]();
    assert.ok(isOpen(second.fd), "closing the first owner again closed the second's fd");
  } finally {
    second.close();
  }
  assert.ok(!isOpen(number));
});

Deno.test("OwnedFd: using closes at the end of the block; open reports the errno", () => {
  let number: number;
  {
    using owned = openNull();
    number = owned.fd;
    assert.ok(isOpen(number));
  }
  assert.ok(!isOpen(number));
  assert.equal(
    OwnedFd.open("/nonexistent/x", O_RDONLY_CLOEXEC, LinuxErrno.EIO),
    -LinuxErrno.ENOENT,
  );
  assert.throws(() => new OwnedFd(-1), RangeError);
});

/** The stop test object (one tracepoint program, one ring buffer), opened and loaded. */
function loadStopObject(): Deno.PointerObject {
  const lib = getLibbpf();
  const bytes = Deno.readFileSync(guest("stop/stop.bpf.o"));
  const obj = lib.bpf_object__open_mem(bytes, BigInt(bytes.length), null);
  assert.ok(obj !== null, "bpf_object__open_mem");
  assert.equal(lib.bpf_object__load(obj), 0, "bpf_object__load");
  return obj;
}

function attachProbe(obj: Deno.PointerObject): Link {
  const lib = getLibbpf();
  const prog = lib.bpf_object__find_program_by_name(obj, new TextEncoder().encode("stop_probe\0"));
  assert.ok(prog !== null);
  const link = lib.bpf_program__attach(prog);
  assert.ok(link !== null, "bpf_program__attach");
  return new Link(link);
}

/** Opens /dev/null until one of the fds is `number` (the lowest free numbers come first);
 * the owners of all it opened. */
function takeFdNumber(number: number): OwnedFd[] {
  const opened: OwnedFd[] = [];
  while (opened.length <= number && opened.at(-1)?.fd !== number) opened.push(openNull());
  assert.equal(opened.at(-1)?.fd, number, "the link's old fd number was taken by someone else");
  return opened;
}

kernelTest("Link: destroyed once, whatever closes or disposes it after", async () => {
  const obj = loadStopObject();
  try {
    const link = attachProbe(obj);
    const number = link.fd;
    assert.ok(number >= 0);
    link.close();
    assert.ok(link.closed);
    assert.equal(link.fd, -1);
    const others = takeFdNumber(number);
    try {
      link.close();
      link[Symbol.dispose]();
      await link.closeAsync();
      assert.ok(isOpen(number), "destroying the link again closed another fd");
    } finally {
      for (const fd of others) fd.close();
    }
  } finally {
    getLibbpf().bpf_object__close(obj);
  }
});

kernelTest(
  "LoadedObject: owns what it adopts and the pollers it makes, until it closes",
  async () => {
    const loaded = new LoadedObject(1n, loadStopObject());
    const link = attachProbe(loaded.unsafeObject);
    loaded.adopt(link);
    assert.ok(loaded.ownsFd(link.fd));
    const ring = loaded.maps.find((m) => m.name === "quiet")!;
    let made = 0;
    const create = () => {
      made++;
      return BufferPoller.create(ring, (m) => assert.fail(m));
    };
    const poller = loaded.pollerFor(ring.fd, create);
    assert.ok(poller instanceof BufferPoller);
    assert.equal(loaded.pollerFor(ring.fd, create), poller);
    assert.equal(made, 1);
    let freed = false;
    poller.onFree(() => (freed = true));
    await loaded.close();
    assert.ok(link.closed && freed && loaded.closed);
    await loaded.close();
    loaded.closeSync();
    // Adopted after close: destroyed at once, nothing keeps it.
    const obj = loadStopObject();
    try {
      const late = attachProbe(obj);
      loaded.adopt(late);
      assert.ok(late.closed);
    } finally {
      getLibbpf().bpf_object__close(obj);
    }
  },
);
