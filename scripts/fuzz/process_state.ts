// What this process holds, counted before and after a run to find leaks: open fds, BPF
// objects, and (for information) the system-wide program and map counts.

/** Open fds of this process, anonymous sockets excepted: Deno's runtime opens and closes
 * socket pairs on its own schedule (after subprocess spawns, the first nonblocking FFI
 * calls), and no import opens a socket that outlives the call (if_nametoindex closes its). */
export function fdCount(): number {
  return [...fdList().values()].filter((what) => !what.startsWith("socket:")).length;
}

/** fd -> what it is, for the leak report. */
export function fdList(): Map<number, string> {
  const fds = new Map<number, string>();
  for (const f of Deno.readDirSync("/proc/self/fd")) {
    try {
      fds.set(Number(f.name), Deno.readLinkSync(`/proc/self/fd/${f.name}`));
    } catch { /* closed meanwhile */ }
  }
  return fds;
}

/** The BPF programs, maps and links this process holds fds on. */
export function heldBpfObjects(): number {
  let n = 0;
  for (const f of Deno.readDirSync("/proc/self/fdinfo")) {
    try {
      const info = Deno.readTextFileSync(`/proc/self/fdinfo/${f.name}`);
      if (/^(prog_id|map_id|link_id):/m.test(info)) n++;
    } catch { /* closed meanwhile */ }
  }
  return n;
}

/** `bpftool prog list` / `map list` counts (-1 without bpftool). */
export async function bpftoolCount(what: "prog" | "map"): Promise<number> {
  try {
    const o = await new Deno.Command("bpftool", { args: ["-j", what, "list"], stdout: "piped" })
      .output();
    return (JSON.parse(new TextDecoder().decode(o.stdout) || "[]") as unknown[]).length;
  } catch {
    return -1;
  }
}
