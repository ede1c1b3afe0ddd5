/**
 * What the `wasm_bpf` imports of one run share: the guest's memory and table (bound after
 * instantiation), the objects it loaded, the run's stop state and the host's log.
 */

import { ObjectTable } from "./bpf_objects.ts";
import type { GuestMemory } from "./guest_memory.ts";
import type { GuestPolicy } from "../guest/policy.ts";
import type { RunStop } from "../guest/stop.ts";
import { type GuestLog, LineLimiter } from "../guest/log_limit.ts";

export interface HostLog {
  /** Always shown (stderr in the CLI): failures the user must see. */
  error(message: string): void;
  /** Shown with -v only. */
  debug(message: string): void;
  /** Whether debug lines are shown (-v): the imports then trace each call. */
  readonly verbose?: boolean;
}

/** Thrown when an import uses the guest's memory before instantiation finished (a start
 * function called it): the instantiation fails. */
export class NotInstantiated extends Error {
  constructor() {
    super("guest memory used before instantiation finished");
    this.name = "NotInstantiated";
  }
}

export class HostContext {
  readonly objects: ObjectTable;
  readonly stop: RunStop;
  readonly log: GuestLog;
  readonly policy: GuestPolicy;
  #memory: GuestMemory | undefined;
  /** The guest's `__indirect_function_table` (C and Rust guests); absent in TinyGo guests. */
  table: WebAssembly.Table | undefined;
  /** Whether the guest's table holds the same function at each index for the whole run (its
   * code writes no table; guest_module.ts guestTableIsFixed). False unless the run says. */
  tableFixed: () => boolean = () => false;
  /** The guest's exports, for the TinyGo callback export. */
  exports: WebAssembly.Exports | undefined;
  /** The host fd of a directory the host preopened at guest fd `guestFd` (WASI's record, made
   * at preopen time); undefined for any other descriptor. None until the run sets it. */
  preopenedDirFd: (guestFd: number) => number | undefined = () => undefined;

  constructor(stop: RunStop, log: HostLog, policy: GuestPolicy = {}) {
    this.stop = stop;
    const limiter = new LineLimiter((line) => log.error(line));
    this.log = {
      error: (kind, message, prefix) => limiter.line(kind, message, prefix),
      debug: (message) => log.debug(message),
      verbose: log.verbose ?? false,
      summarize: () => limiter.summarize(),
    };
    this.policy = policy;
    this.objects = new ObjectTable(policy.pinRoot);
  }

  bind(memory: GuestMemory, exports: WebAssembly.Exports): void {
    this.#memory = memory;
    this.exports = exports;
    const table = exports["__indirect_function_table"];
    this.table = table instanceof WebAssembly.Table ? table : undefined;
  }

  get memory(): GuestMemory {
    if (!this.#memory) throw new NotInstantiated();
    return this.#memory;
  }
}
