// The fuzzer's stand-in for a guest: the six wasm_bpf imports built over a real HostContext,
// whose memory is a real WebAssembly.Memory (of harness_module.ts), laid out with the strings,
// buffers and objects the calls point into; plus the host resources a call must not reach.

import { HostContext, type HostLog } from "../../src/bpf/context.ts";
import { GuestMemory } from "../../src/bpf/guest_memory.ts";
import { makeAttach, makeAttachFd } from "../../src/bpf/imports/attach.ts";
import { makeBufferPollDispatcher } from "../../src/bpf/imports/buffer_poll.ts";
import { makeClose } from "../../src/bpf/imports/close.ts";
import { makeMapFdByName } from "../../src/bpf/imports/fd_by_name.ts";
import { makeLoad } from "../../src/bpf/imports/load.ts";
import { makeMapOperate } from "../../src/bpf/imports/map_operate.ts";
import type { GuestPolicy } from "../../src/guest/policy.ts";
import { RunStop } from "../../src/guest/stop.ts";
import { promising } from "../../src/ffi/jspi.ts";
import { FuzzCgroup } from "./cgroup.ts";
import { harnessModuleBytes } from "./harness_module.ts";
import type { Rng } from "./random.ts";

const REPO = new URL("../..", import.meta.url).pathname;
/** The object the calls work on: every map type and program type the imports handle. */
export const OBJECT = `${REPO}tests/guests/fuzz/fuzz.bpf.o`;
/** Another good object (the one a restrictive policy accepts). */
const OTHER_OBJECT = `${REPO}tests/guests/policy/tponly.bpf.o`;

/** The maps and programs of {@link OBJECT}. */
export const MAP_NAMES = ["hash", "array", "pcpu", "lru", "queue", "ring", "perf"];
export const PROG_NAMES = ["on_getppid", "xdp_pass", "skb_egress", "sockops_prog"];

/** The guest fd at which the harness "preopened" the test cgroup (fd-form attach). */
export const PREOPEN_FD = 3;

export const PAGE = 65536;
const INITIAL_PAGES = 4;
export const MAX_PAGES = 24;

// Guest memory layout.
const STRINGS = 0x1000;
export const BUFFERS = 0x4000; // key/value buffers, 0x4000 bytes of random data
export const OBJ_AT = 0x10000; // the good object
export const OTHER_AT = 0x18000; // another good object
export const SCRATCH_AT = 0x20000; // mutated copies

/** The strings in guest memory: every name, a cgroup path, interfaces, and paths that must
 * not work. */
function stringsFor(cgroupDir: string): string[] {
  return [
    ...MAP_NAMES,
    ...PROG_NAMES,
    "",
    "nope",
    ".rodata",
    "lo",
    "no-such-if0",
    cgroupDir,
    "/no/such/cgroup",
    "/sys/fs/cgroup/unified/../../../etc",
    "/etc/passwd",
    "x".repeat(300),
  ];
}

/** The imports under test, as a guest calls them. */
function makeImports(ctx: HostContext) {
  return {
    load: makeLoad(ctx),
    close: makeClose(ctx),
    attach: makeAttach(ctx),
    attachFd: makeAttachFd(ctx),
    // a wasm function (pump.ts), entered as a guest's _start is, so that its wait may suspend
    poll: promising(makeBufferPollDispatcher(ctx, "go-callback").poll) as (
      ...args: [bigint, number, number, number, number, number, number]
    ) => Promise<number>,
    fdByName: makeMapFdByName(ctx),
    mapOperate: makeMapOperate(ctx),
  };
}

/** The imports under test. */
export type FuzzedImports = ReturnType<typeof makeImports>;

/** The guest side of a run, set up; {@link close} releases everything it holds. */
export class Harness {
  readonly #libc = Deno.dlopen("libc.so.6", {
    getppid: { parameters: [], result: "i32" },
    open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  readonly cgroup = new FuzzCgroup();
  /** An fd of the host the guest must not reach. */
  readonly unrelatedFd = this.#libc.symbols.open(new TextEncoder().encode("/dev/null\0"), 0, 0);
  readonly objectBytes = Deno.readFileSync(OBJECT);
  readonly otherBytes = Deno.readFileSync(OTHER_OBJECT);
  /** What the host logged as errors (a failed load says why here). */
  readonly errors: string[] = [];
  readonly #stop = new RunStop(false);
  readonly ctx: HostContext;
  /** The test cgroup, opened O_RDONLY | O_DIRECTORY; -1 without one. */
  readonly #cgroupFd: number;
  readonly memory: WebAssembly.Memory;
  /** Where each string is in guest memory. */
  readonly strings: number[] = [];
  readonly stringAt = new Map<string, number>();
  readonly imports: FuzzedImports;

  /** Sets up the guest; the key/value buffers are filled from `rng`. */
  constructor(rng: Rng, policy: GuestPolicy | undefined) {
    const log: HostLog = { error: (m) => this.errors.push(m), debug: () => {} };
    const ctx = this.ctx = new HostContext(this.#stop, log, policy ?? {});
    const cgroupFd = this.#cgroupFd = this.cgroup.made
      ? this.#libc.symbols.open(new TextEncoder().encode(`${this.cgroup.dir}\0`), 0o200000, 0)
      : -1;
    ctx.preopenedDirFd = (g) => g === PREOPEN_FD && cgroupFd >= 0 ? cgroupFd : undefined;
    const instance = new WebAssembly.Instance(
      new WebAssembly.Module(harnessModuleBytes(INITIAL_PAGES, MAX_PAGES)),
    );
    this.memory = instance.exports.memory as WebAssembly.Memory;
    ctx.bind(new GuestMemory(this.memory), instance.exports);

    let at = STRINGS;
    for (const s of stringsFor(this.cgroup.dir)) {
      const enc = new TextEncoder().encode(s);
      this.bytes().set(enc, at);
      this.bytes()[at + enc.length] = 0;
      this.strings.push(at);
      this.stringAt.set(s, at);
      at += enc.length + 1;
    }
    for (let i = 0; i < 0x4000; i++) this.bytes()[BUFFERS + i] = rng.below(256);
    this.bytes().set(this.objectBytes, OBJ_AT);
    this.bytes().set(this.otherBytes, OTHER_AT);
    this.imports = makeImports(ctx);
  }

  /** Guest memory as bytes (a fresh view: memory may have grown). */
  bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  get memSize(): number {
    return this.memory.buffer.byteLength;
  }

  /** 16 'A's up to the end of memory, no NUL: a string that runs off the end. */
  get nonul(): number {
    return this.memSize - 16;
  }

  /** Writes the {@link nonul} string (again, after memory grew). */
  fillNonul(): void {
    this.bytes().fill(0x41, this.nonul);
  }

  /** Calls getppid(2): a record for the attached tracepoint program. */
  getppid(): void {
    this.#libc.symbols.getppid();
  }

  /** The host's end-of-run cleanup, then the harness's own fds and cgroup. */
  async close(): Promise<void> {
    await this.ctx.objects.closeAll();
    this.#stop.close();
    this.#libc.symbols.close(this.unrelatedFd);
    if (this.#cgroupFd >= 0) this.#libc.symbols.close(this.#cgroupFd);
    this.#libc.close();
    await this.cgroup.remove();
  }
}
