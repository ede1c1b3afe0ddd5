/**
 * Conditions tests wait on instead of sleeping: `waitFor` polls one until it holds or a deadline
 * passes, and the facts to poll (a process's scheduler state, the BPF links a process holds).
 */

import { SIGNAL_NUMBERS } from "../../src/ffi/signal_action.ts";

/** Polls `condition` every few milliseconds until it is true; throws, naming `what`, once
 * `timeoutMs` have passed without it. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The scheduler state letter of process `pid` (its main thread): R running, S sleeping, T
 * stopped, Z zombie...; "" once it is gone. */
export function procState(pid: number): string {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name, in parentheses, may itself contain ") ": the state follows the last one.
    return stat.slice(stat.lastIndexOf(")") + 2)[0] ?? "";
  } catch {
    return "";
  }
}

/** Whether process `pid` catches `signal` now (its SigCgt mask in /proc/PID/status); false once
 * it is gone. The CLI catches SIGINT/SIGTERM exactly while its guest waits (src/guest/stop.ts),
 * so this is "the guest is in a poll or a sleep", which a scheduler state cannot tell apart
 * from any other short block. */
export function catchesSignal(pid: number, signal: Deno.Signal): boolean {
  const number = SIGNAL_NUMBERS[signal];
  if (number === undefined) throw new Error(`catchesSignal: no number known for ${signal}`);
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) >> BigInt(number - 1) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** A BPF link held open by a process, from its /proc fdinfo. */
export interface HeldLink {
  linkId: number;
  progId: number;
  /** The tracepoint of a perf link (`tp_name`), else "". */
  tpName: string;
}

/** The BPF links process `pid` holds open. */
export function linksHeldBy(pid: number): HeldLink[] {
  const links: HeldLink[] = [];
  try {
    for (const fd of Deno.readDirSync(`/proc/${pid}/fdinfo`)) {
      let info: string;
      try {
        info = Deno.readTextFileSync(`/proc/${pid}/fdinfo/${fd.name}`);
      } catch {
        continue; // closed meanwhile
      }
      const field = (name: string) => info.match(new RegExp(`^${name}:\\s*(\\S+)$`, "m"))?.[1];
      const linkId = field("link_id");
      if (linkId === undefined) continue;
      links.push({
        linkId: Number(linkId),
        progId: Number(field("prog_id") ?? -1),
        tpName: field("tp_name") ?? "",
      });
    }
  } catch { /* the process is gone */ }
  return links;
}
