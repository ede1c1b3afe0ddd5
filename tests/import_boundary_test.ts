// The boundary of the wasm_bpf imports (src/bpf/imports/boundary.ts): an exception the host
// did not expect becomes the import's failure value (-EIO, load: 0) and one rate-limited log
// line; the exit and stop sentinels still unwind the guest; every import runs the stop
// checkpoint; and -v traces each call. No kernel needed: only libbpf's library, which the
// imports bind when they are built, and calls that fail before reaching the kernel.
import assert from "node:assert/strict";
import { HostContext, type HostLog } from "../src/bpf/context.ts";
import { GuestMemory } from "../src/bpf/guest_memory.ts";
import { makeBpfImports } from "../src/bpf/imports/mod.ts";
import { runGuest } from "../src/run/run.ts";
import { GuestStopped, RunStop } from "../src/guest/stop.ts";
import { promising } from "../src/ffi/jspi.ts";
import { getLibbpf } from "../src/ffi/libbpf_ffi.ts";
import { ProcExit } from "../src/wasi/mod.ts";
import { name, section, uleb, vec, wasmModule } from "../src/format/wasm.ts";

const EIO = -5;
const EINVAL = -22;
const EBADF = -9;
const EINTR = -4;

function libbpfMissing(): boolean {
  try {
    getLibbpf();
    return false;
  } catch {
    return true;
  }
}
const ignore = libbpfMissing();

// --- a tiny guest assembler --------------------------------------------------------------------

type Val = "i32" | "i64";
interface Import {
  module: string;
  name: string;
  params: Val[];
  result?: Val;
}

const VAL = { i32: 0x7f, i64: 0x7e } as const;
const funcType = (params: Val[], result?: Val): number[] => [
  0x60,
  ...vec(params.map((p) => [VAL[p]])),
  ...vec(result ? [[VAL[result]]] : []),
];

/**
 * A module importing `imports`; it exports `f<i>`, which forwards its arguments to import i,
 * a memory of one page, and `_start` (running `start`, code using no locals) when given.
 */
function guestModule(imports: Import[], start?: number[]): WebAssembly.Module {
  const n = imports.length;
  const types = [...imports.map((i) => funcType(i.params, i.result)), funcType([])];
  const funcs = imports.map((_, i) => [i]);
  // each body: no locals, then the code
  const bodies = imports.map((imp, i) => [
    0,
    ...imp.params.flatMap((_, p) => [0x20, p]),
    0x10,
    ...uleb(i),
    0x0b,
  ]);
  const exports = [
    ...imports.map((_, i) => [...name(`f${i}`), 0, ...uleb(n + i)]),
    [...name("memory"), 2, 0],
  ];
  if (start) {
    funcs.push([n]);
    bodies.push([0, ...start, 0x0b]);
    exports.push([...name("_start"), 0, ...uleb(2 * n)]);
  }
  const bytes = wasmModule([
    section(1, vec(types)),
    section(2, vec(imports.map((i, t) => [...name(i.module), ...name(i.name), 0, t]))),
    section(3, vec(funcs)),
    section(5, vec([[0, 1]])),
    section(7, vec(exports)),
    section(10, vec(bodies.map((b) => [...uleb(b.length), ...b]))),
  ]);
  return new WebAssembly.Module(bytes);
}

const BPF = "wasm_bpf";
const ALL: Import[] = [
  { module: BPF, name: "wasm_load_bpf_object", params: ["i32", "i32"], result: "i64" },
  { module: BPF, name: "wasm_close_bpf_object", params: ["i64"], result: "i32" },
  { module: BPF, name: "wasm_attach_bpf_program", params: ["i64", "i32", "i32"], result: "i32" },
  {
    module: BPF,
    name: "wasm_attach_bpf_program_fd",
    params: ["i64", "i32", "i32"],
    result: "i32",
  },
  {
    module: BPF,
    name: "wasm_bpf_buffer_poll",
    params: ["i64", "i32", "i32", "i32", "i32", "i32", "i32"],
    result: "i32",
  },
  { module: BPF, name: "wasm_bpf_map_fd_by_name", params: ["i64", "i32"], result: "i32" },
  {
    module: BPF,
    name: "wasm_bpf_map_operate",
    params: ["i32", "i32", "i32", "i32", "i32", "i64"],
    result: "i32",
  },
  {
    module: "callback-wrapper",
    name: "wasm_bpf_buffer_poll",
    params: ["i64", "i32", "i32", "i32", "i32", "i32"],
    result: "i32",
  },
];

// --- a run's imports, called through wasm --------------------------------------------------------

interface Harness {
  ctx: HostContext;
  errors: string[];
  debug: string[];
  // deno-lint-ignore no-explicit-any
  call: Record<string, (...args: any[]) => any>;
}

/** The run's imports, as makeBpfImports builds them, each called through a wasm function (the
 * suspending close and the polls through `promising`, as a guest's `_start` is). */
function harness(verbose: boolean): Harness {
  const errors: string[] = [];
  const debug: string[] = [];
  const log: HostLog = {
    error: (m) => errors.push(m),
    debug: (m) => debug.push(m), // collected either way: the trace must follow `verbose`
    verbose,
  };
  const ctx = new HostContext(new RunStop(false), log, {});
  const imports = makeBpfImports(ctx, {
    wrapperModule: "callback-wrapper",
    callbackExport: "go-callback",
  });
  const instance = new WebAssembly.Instance(guestModule(ALL), imports);
  const memory = instance.exports.memory as WebAssembly.Memory;
  ctx.bind(new GuestMemory(memory), instance.exports);
  const f = (i: number) => instance.exports[`f${i}`] as (...args: unknown[]) => unknown;
  return {
    ctx,
    errors,
    debug,
    call: {
      load: f(0),
      close: promising(f(1)),
      attach: f(2),
      attachFd: f(3),
      poll: promising(f(4)),
      fdByName: f(5),
      mapOperate: f(6),
      wrapperPoll: promising(f(7)),
    },
  };
}

/** Makes `object[method]` throw `error`: an exception the host code did not expect. */
function inject(object: object, method: string, error: unknown): void {
  Object.defineProperty(object, method, {
    value: () => {
      throw error;
    },
    configurable: true,
  });
}

Deno.test({
  name: "boundary: an unexpected host exception is -EIO and one log line, for each import",
  ignore,
  async fn() {
    const h = harness(false);
    const error = new TypeError("injected host bug");
    inject(h.ctx.objects, "mapByFd", error);
    inject(h.ctx.objects, "get", error);
    inject(h.ctx.objects, "remove", error);
    const results = [
      h.call.mapOperate(3, 1, 0, 0, 0, 0n),
      h.call.fdByName(1n, 0),
      h.call.attach(1n, 0, 0),
      h.call.attachFd(1n, 0, -1),
      await h.call.close(1n),
    ];
    assert.deepEqual(results, [EIO, EIO, EIO, EIO, EIO]);
    assert.equal(h.errors.length, results.length, h.errors.join("\n"));
    const names = [
      "wasm_bpf_map_operate",
      "wasm_bpf_map_fd_by_name",
      "wasm_attach_bpf_program",
      "wasm_attach_bpf_program_fd",
      "wasm_close_bpf_object",
    ];
    h.errors.forEach((line, i) => {
      assert.equal(
        line,
        `${names[i]}: unexpected host error (a bug in wasm-bpf; the guest gets -5 EIO): ` +
          "TypeError: injected host bug",
      );
    });
  },
});

Deno.test({
  name: "boundary: a rejected promise of a suspending import is -EIO too",
  ignore,
  async fn() {
    const h = harness(false);
    const closing = { close: () => Promise.reject(new Error("injected rejection")) };
    Object.defineProperty(h.ctx.objects, "remove", { value: () => closing });
    assert.equal(await h.call.close(1n), EIO);
    assert.deepEqual(h.errors, [
      "wasm_close_bpf_object: unexpected host error (a bug in wasm-bpf; the guest gets -5 EIO): " +
      "Error: injected rejection",
    ]);
  },
});

Deno.test({
  name: "boundary: the JS part of both polls is behind it too",
  ignore,
  async fn() {
    const h = harness(false);
    inject(h.ctx.objects, "get", new TypeError("injected host bug"));
    Object.defineProperty(h.ctx, "table", {
      value: new WebAssembly.Table({ initial: 1, element: "anyfunc" }),
    });
    Object.defineProperty(h.ctx, "exports", { value: { "go-callback": () => 0 } });
    assert.equal(await h.call.poll(1n, 5, 0, 0, 0, 16, 0), EIO);
    assert.equal(await h.call.wrapperPoll(1n, 5, 0, 0, 16, 0), EIO);
    assert.equal(h.errors.length, 2, h.errors.join("\n"));
    assert.match(h.errors[0], /^wasm_bpf_buffer_poll: unexpected host error .*injected host bug$/);
    assert.match(
      h.errors[1],
      /^callback-wrapper\.wasm_bpf_buffer_poll: unexpected host error .*injected host bug$/,
    );
  },
});

Deno.test({
  name: "boundary: a loop of host errors is rate-limited like every guest-caused line",
  ignore,
  fn() {
    const h = harness(false);
    inject(h.ctx.objects, "mapByFd", new TypeError("injected host bug"));
    for (let i = 0; i < 30; i++) assert.equal(h.call.mapOperate(3, 1, 0, 0, 0, 0n), EIO);
    assert.equal(h.errors.length, 21);
    assert.equal(h.errors[20], "further unexpected host errors are not logged");
  },
});

Deno.test({
  name: "boundary: the exit and stop sentinels and a stack overflow still unwind the guest",
  ignore,
  fn() {
    const h = harness(false);
    const sentinels = [
      new ProcExit(3),
      new GuestStopped("SIGINT"),
      new RangeError("Maximum call stack size exceeded"),
    ];
    for (const sentinel of sentinels) {
      inject(h.ctx.objects, "mapByFd", sentinel);
      assert.throws(() => h.call.mapOperate(3, 1, 0, 0, 0, 0n), (e) => e === sentinel);
    }
    assert.deepEqual(h.errors, []);
  },
});

Deno.test({
  name: "boundary: after a stop's grace period every import throws GuestStopped",
  ignore,
  async fn() {
    const h = harness(false);
    const table = new WebAssembly.Table({ initial: 1, element: "anyfunc" });
    Object.defineProperty(h.ctx, "table", { value: table });
    h.ctx.stop.request("SIGTERM");
    const stopped = (e: unknown) => e instanceof GuestStopped && e.reason === "SIGTERM";
    // During the grace period the imports answer (a poll: -EINTR at once), then they throw.
    const deadline = performance.now() + 10_000;
    for (;;) {
      assert.ok(performance.now() < deadline, "the grace period never ended");
      let r: unknown;
      try {
        r = await h.call.poll(1n, 5, 0, 0, 0, 16, 0);
      } catch (e) {
        assert.ok(stopped(e), String(e));
        break;
      }
      assert.equal(r, EINTR);
    }
    assert.throws(() => h.call.mapOperate(3, 1, 0, 0, 0, 0n), stopped);
    assert.throws(() => h.call.load(0, 8), stopped);
    assert.throws(() => h.call.fdByName(1n, 0), stopped);
    assert.throws(() => h.call.attach(1n, 0, 0), stopped);
    assert.throws(() => h.call.attachFd(1n, 0, -1), stopped);
    await assert.rejects(() => h.call.close(1n), stopped);
    await assert.rejects(() => h.call.wrapperPoll(1n, 5, 0, 0, 16, 0), stopped);
    h.ctx.stop.close();
  },
});

Deno.test({
  name: "boundary: -v traces each call with its arguments and result; without -v, nothing",
  ignore,
  async fn() {
    for (const verbose of [true, false]) {
      const h = harness(verbose);
      h.call.load(0x10, 0);
      h.call.mapOperate(-1, 1, 0x100, 0x200, 0, 0n);
      h.call.fdByName(7n, 0x300);
      h.call.attach(7n, 0x300, 0);
      h.call.attachFd(7n, 0x300, -1);
      await h.call.close(7n);
      await h.call.poll(7n, 5, 0, 0, 0x400, 16, 0);
      await h.call.wrapperPoll(7n, 5, 0, 0x400, 16, 0);
      const trace = h.debug.filter((l) => /^[\w.-]+\(/.test(l));
      if (!verbose) {
        assert.deepEqual(trace, [], "a trace without -v");
        continue;
      }
      assert.deepEqual(trace, [
        "wasm_load_bpf_object(obj_buf=0x10, obj_buf_sz=0) = 0",
        "wasm_bpf_map_operate(fd=-1, cmd=1, key=0x100, value=0x200, next_key=0x0, flags=0) " +
        `= ${EBADF} EBADF`,
        `wasm_bpf_map_fd_by_name(handle=7, name=0x300) = ${EINVAL} EINVAL`,
        `wasm_attach_bpf_program(handle=7, name=0x300, attach_target=0x0) = ${EINVAL} EINVAL`,
        `wasm_attach_bpf_program_fd(handle=7, name=0x300, target_fd=-1) = ${EINVAL} EINVAL`,
        `wasm_close_bpf_object(handle=7) = ${EINVAL} EINVAL`,
        "wasm_bpf_buffer_poll(handle=7, fd=5, sample_func=0, data=0x400, max_size=16, ...) " +
        `= ${EINVAL} EINVAL`,
        "callback-wrapper.wasm_bpf_buffer_poll(handle=7, fd=5, data=0x400, max_size=16, ...) " +
        `= ${EINVAL} EINVAL`,
      ]);
    }
  },
});

// --- through a whole run -------------------------------------------------------------------------

/** A guest whose `_start` loads an 8-byte object and exits 3 if it got the 0 handle, else 4. */
function loadingGuest(): WebAssembly.Module {
  const I32_CONST = 0x41;
  return guestModule(
    [
      ALL[0],
      { module: "wasi_snapshot_preview1", name: "proc_exit", params: ["i32"] },
    ],
    [
      I32_CONST,
      3,
      I32_CONST,
      4, // exit 3 or 4
      I32_CONST,
      0,
      I32_CONST,
      8,
      0x10,
      0, // wasm_load_bpf_object(0, 8)
      0x50, // i64.eqz
      0x1b, // select
      0x10,
      1, // proc_exit
    ],
  );
}

Deno.test({
  name: "boundary: a host exception in a run's import does not end the run with a JS stack",
  ignore,
  async fn() {
    for (const verbose of [false, true]) {
      const errors: string[] = [];
      const debug: string[] = [];
      const sink = { write: () => {}, isTerminal: false };
      // The injected fault: a library user's policy whose getter throws, read by the load.
      const policy = {
        get maxObjects(): number {
          throw new TypeError("injected: a policy getter threw");
        },
      };
      const result = await runGuest({
        module: loadingGuest(),
        argv0: "boundary.wasm",
        args: [],
        stdin: { read: () => Promise.resolve(null), isTerminal: false },
        stdout: sink,
        stderr: sink,
        stop: new RunStop(false),
        log: { error: (m) => errors.push(m), debug: (m) => debug.push(m), verbose },
        policy,
      });
      // The guest got the 0 handle and exited by itself.
      assert.deepEqual(result, { code: 3 });
      assert.deepEqual(errors, [
        "wasm_load_bpf_object: unexpected host error (a bug in wasm-bpf; the guest gets " +
        "handle 0): TypeError: injected: a policy getter threw",
      ]);
      if (verbose) {
        assert.ok(
          debug.includes("wasm_load_bpf_object(obj_buf=0x0, obj_buf_sz=8) = 0"),
          debug.join("\n"),
        );
        // The stack, for a bug report, with -v only.
        assert.ok(
          debug.some((l) => l.startsWith("TypeError: injected") && l.includes("\n    at ")),
        );
      }
    }
  },
});
