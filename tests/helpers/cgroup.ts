/**
 * Test cgroups: removing one once the kernel has let go of it.
 */

import { waitFor } from "./conditions.ts";

/** Removes `dir` if the kernel lets it: true when removed or already gone, false while the
 * cgroup is busy (a process still in it, or a child cgroup). */
function tryRemove(dir: string): boolean {
  try {
    Deno.removeSync(dir);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return true;
    if (e instanceof Deno.errors.Busy) return false;
    throw e;
  }
}

/**
 * Removes the test cgroup `cg` and the cgroups under it, the deepest first, each once the kernel
 * has let go of it (its last process may still be exiting: rmdir fails with EBUSY until then);
 * throws after `timeoutMs`.
 */
export async function removeCgroup(cg: string, timeoutMs = 5000): Promise<void> {
  let children: string[] = [];
  try {
    children = [...Deno.readDirSync(cg)].filter((e) => e.isDirectory).map((e) => e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const child of children) await removeCgroup(`${cg}/${child}`, timeoutMs);
  await waitFor(`cgroup ${cg} to be removable`, () => tryRemove(cg), timeoutMs);
}
