/** The `wasm_bpf` import namespace and the TinyGo `callback-wrapper` one, for one run. */

import type { HostContext } from "../context.ts";
import { suspending } from "../../jspi.ts";
import { makeAttach, makeAttachFd } from "./attach.ts";
import { makeBufferPollDispatcher } from "./buffer_poll.ts";
import { makeClose } from "./close.ts";
import { makeMapFdByName } from "./fd_by_name.ts";
import { makeLoad } from "./load.ts";
import { makeMapOperate } from "./map_operate.ts";

export const WASM_BPF_MODULE = "wasm_bpf";
export const DEFAULT_WRAPPER_MODULE = "callback-wrapper";
export const DEFAULT_CALLBACK_EXPORT = "go-callback";

/** Names of the `wasm_bpf` functions a guest may import. */
export const WASM_BPF_FUNCTIONS = [
  "wasm_load_bpf_object",
  "wasm_close_bpf_object",
  "wasm_attach_bpf_program",
  "wasm_attach_bpf_program_fd",
  "wasm_bpf_buffer_poll",
  "wasm_bpf_map_fd_by_name",
  "wasm_bpf_map_operate",
] as const;

export function makeBpfImports(
  ctx: HostContext,
  names: { wrapperModule: string; callbackExport: string },
): WebAssembly.Imports {
  // Wasm functions (a JS frame under a guest callback would keep it from suspending).
  const buffers = makeBufferPollDispatcher(ctx, names.callbackExport);
  return {
    [WASM_BPF_MODULE]: {
      wasm_load_bpf_object: makeLoad(ctx),
      // Suspending: closing destroys links off the main thread, and a poll may wait.
      wasm_close_bpf_object: suspending(makeClose(ctx)),
      wasm_attach_bpf_program: makeAttach(ctx),
      wasm_attach_bpf_program_fd: makeAttachFd(ctx),
      wasm_bpf_buffer_poll: buffers.poll,
      wasm_bpf_map_fd_by_name: makeMapFdByName(ctx),
      wasm_bpf_map_operate: makeMapOperate(ctx),
    },
    [names.wrapperModule]: {
      wasm_bpf_buffer_poll: buffers.wrapperPoll,
    },
  };
}
