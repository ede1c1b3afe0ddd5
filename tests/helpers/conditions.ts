/**
 * Conditions tests wait on instead of sleeping: `waitFor` polls one until it holds or a deadline
 * passes, and the facts to poll (a process's scheduler state, the BPF links a process holds).
 */

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
