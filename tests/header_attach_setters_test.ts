// libbpf-wasm.h's attach setters without a kernel: tests/guests/fdattach/setters.wasm drives
// bpf_object__attach_skeleton() over a skeleton of its own, and this test is its host for the
// two attach imports, recording each call (after upstream's SDK test of the same functions).
import assert from "node:assert/strict";
import { ProcExit, WasiPreview1 } from "../src/wasi/mod.ts";
import { guest } from "./helpers/kernel.ts";

Deno.test("libbpf-wasm.h: the fd setter, the last setter wins, fd 0, -1, errno converted", async () => {
  const calls: string[] = [];
  const guestMemory: { memory?: WebAssembly.Memory } = {}; // bound after instantiation
  const cString = (ptr: number) => {
    const bytes = new Uint8Array(guestMemory.memory!.buffer, ptr);
    return new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)));
  };
  const sink = { write: () => {}, isTerminal: false };
  const wasi = new WasiPreview1({
    args: ["setters"],
    stdin: { read: () => Promise.resolve(null), isTerminal: false },
    stdout: sink,
    stderr: sink,
    gate: {
      stopping: false,
      checkpoint: () => {},
      sleep: () => Promise.resolve(true),
      race: async (p) => ({ value: await p }),
    },
  });
  const stub = () => 0;
  const module = new WebAssembly.Module(await Deno.readFile(guest("fdattach/setters.wasm")));
  const instance = new WebAssembly.Instance(module, {
    wasi_snapshot_preview1: wasi.imports as WebAssembly.ModuleImports,
    wasm_bpf: {
      wasm_attach_bpf_program: (obj: bigint, name: number, target: number) => {
        const path = target === 0 ? null : cString(target);
        calls.push(`path ${obj} ${cString(name)} ${path}`);
        return path === "/fails-with-eexist" ? -17 : 0;
      },
      wasm_attach_bpf_program_fd: (obj: bigint, name: number, fd: number) => {
        calls.push(`fd ${obj} ${cString(name)} ${fd}`);
        return fd === 3 ? -22 : 0;
      },
      wasm_load_bpf_object: stub,
      wasm_close_bpf_object: stub,
      wasm_bpf_map_fd_by_name: stub,
      wasm_bpf_map_operate: stub,
      wasm_bpf_buffer_poll: stub,
    },
  });
  guestMemory.memory = instance.exports.memory as WebAssembly.Memory;
  wasi.bindMemory(guestMemory.memory);
  let code = 0;
  try {
    (instance.exports._start as () => void)();
  } catch (e) {
    if (!(e instanceof ProcExit)) throw e;
    code = e.code;
  }
  assert.equal(code, 0, `check ${code} failed; calls:\n${calls.join("\n")}`);
  assert.deepEqual(calls, [
    "path 7 test_program null",
    "path 7 test_program /legacy/path",
    "fd 7 test_program 0",
    "fd 7 test_program -1",
    "path 7 test_program /legacy/path",
    "path 7 test_program null",
    "fd 7 test_program 9",
    "fd 7 test_program 3",
    "path 7 test_program /fails-with-eexist",
    "fd 7 test_program 5", // bpf_program__attach_wasm
  ]);
  wasi.close();
});
