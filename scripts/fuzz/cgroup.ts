// The run's own cgroup, the target of the cgroup attaches: made at the start, removed at the
// end, and removed on unload too, so that a run that throws leaves nothing behind.

/** A fresh cgroup v2 directory for this process; absent where there is no cgroup v2 (cgroup
 * attaches then just fail). */
export class FuzzCgroup {
  readonly dir = `/sys/fs/cgroup/unified/wasm-bpf-fuzz-${Deno.pid}`;
  #made = false;

  constructor() {
    try {
      Deno.mkdirSync(this.dir);
      this.#made = true;
    } catch { /* no cgroup v2 here: cgroup attaches just fail */ }
    // (a run that throws still removes its cgroup)
    globalThis.addEventListener("unload", () => {
      try {
        if (this.#made) Deno.removeSync(this.dir);
      } catch { /* still busy: nothing more to do */ }
    });
  }

  /** Whether the directory exists. */
  get made(): boolean {
    return this.#made;
  }

  /** Removes the directory, retrying for about a second before it gives up. */
  async remove(): Promise<void> {
    for (let tries = 0; this.#made; tries++) {
      try {
        Deno.removeSync(this.dir);
        this.#made = false;
      } catch (e) {
        if (tries > 50) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}
