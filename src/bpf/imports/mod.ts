/** The `wasm_bpf` import namespace and the TinyGo `callback-wrapper` one, for one run. */

import type { HostContext } from "../context.ts";
import { suspending } from "../../ffi/jspi.ts";
import { WASM_BPF_MODULE } from "../../guest/import_signatures.ts";
import { makeAttach, makeAttachFd } from "./attach.ts";
import {
  HOST_FAILURE,
  importBoundary,
  type ImportFn,
  type ImportSpec,
  showResult,
} from "./boundary.ts";
import { makeBufferPollDispatcher } from "./buffer_poll.ts";
import type { Dispatcher } from "../events/pump.ts";
import { makeClose } from "./close.ts";
import { makeMapFdByName } from "./fd_by_name.ts";
import { makeLoad } from "./load.ts";
import { makeMapOperate } from "./map_operate.ts";

/** An import returning 0 or a count or fd, or a negative errno: -EIO when the host fails. */
function errnoImport(name: string, params: string[], async = false): ImportSpec<number> {
  return { name, params, failed: HOST_FAILURE, async };
}

/** A poll's `select` (pump.ts) sees the call's arguments but for ctx and timeout_ms, and
 * returns a pump's slot (the poll goes on) or the poll's negative errno. */
function pollSpec(name: string, params: string[]): ImportSpec<number> {
  const result = (slot: number) => slot < 0 ? showResult(slot) : `(polling, pump ${slot})`;
  return { ...errnoImport(name, [...params, "..."]), result };
}

const SPECS = {
  load: {
    name: "wasm_load_bpf_object",
    params: ["obj_buf*", "obj_buf_sz"],
    failed: 0n,
  } satisfies ImportSpec<bigint>,
  close: errnoImport("wasm_close_bpf_object", ["handle"], true),
  attach: errnoImport("wasm_attach_bpf_program", ["handle", "name*", "attach_target*"]),
  attachFd: errnoImport("wasm_attach_bpf_program_fd", ["handle", "name*", "target_fd"]),
  poll: pollSpec("wasm_bpf_buffer_poll", ["handle", "fd", "sample_func", "data*", "max_size"]),
  fdByName: errnoImport("wasm_bpf_map_fd_by_name", ["handle", "name*"]),
  mapOperate: errnoImport(
    "wasm_bpf_map_operate",
    ["fd", "cmd", "key*", "value*", "next_key*", "flags"],
  ),
};

export function makeBpfImports(
  ctx: HostContext,
  names: { wrapperModule: string; callbackExport: string },
): WebAssembly.Imports {
  // Every import goes through the boundary (boundary.ts): the stop checkpoint, unexpected
  // host errors as an errno, the -v trace.
  const bound = <F extends ImportFn>(
    spec: ImportSpec<Awaited<ReturnType<F>>>,
    fn: F,
  ) => importBoundary(ctx, spec, fn);
  const wrapperPoll = pollSpec(`${names.wrapperModule}.wasm_bpf_buffer_poll`, [
    "handle",
    "fd",
    "data*",
    "max_size",
  ]);
  // Wasm functions (a JS frame under a guest callback would keep it from suspending): the
  // boundary wraps their JS part, `select`. Made when instantiation asks for one (it reads only
  // the imports the guest names): assembling and compiling the dispatcher costs ~2 ms of a start,
  // which a guest that polls no buffer (runqlat) does not need.
  let dispatcher: Dispatcher | undefined;
  const buffers = () =>
    dispatcher ??= makeBufferPollDispatcher(ctx, names.callbackExport, (fns) => ({
      select: bound(SPECS.poll, fns.select),
      selectWrapper: bound(wrapperPoll, fns.selectWrapper),
    }));
  return {
    [WASM_BPF_MODULE]: {
      wasm_load_bpf_object: bound(SPECS.load, makeLoad(ctx)),
      // Suspending: closing destroys links off the main thread, and a poll may wait.
      wasm_close_bpf_object: suspending(bound(SPECS.close, makeClose(ctx))),
      wasm_attach_bpf_program: bound(SPECS.attach, makeAttach(ctx)),
      wasm_attach_bpf_program_fd: bound(SPECS.attachFd, makeAttachFd(ctx)),
      get wasm_bpf_buffer_poll() {
        return buffers().poll;
      },
      wasm_bpf_map_fd_by_name: bound(SPECS.fdByName, makeMapFdByName(ctx)),
      wasm_bpf_map_operate: bound(SPECS.mapOperate, makeMapOperate(ctx)),
    },
    [names.wrapperModule]: {
      get wasm_bpf_buffer_poll() {
        return buffers().wrapperPoll;
      },
    },
  };
}
