/**
 * The one owner of a libbpf `struct bpf_link`: destroying it detaches the program and frees
 * the struct, so it must happen once. A second close, or a dispose after close, does nothing.
 */

import { getLibbpf } from "../ffi/libbpf_ffi.ts";

/** Owns one bpf_link until `close()` or `closeAsync()`. */
export class Link {
  #link: Deno.PointerObject | null;

  /** Takes ownership of `link`, as an attach returned it. */
  constructor(link: Deno.PointerObject) {
    this.#link = link;
  }

  get closed(): boolean {
    return this.#link === null;
  }

  /** The link's fd (its kernel object), or -1 once closed. */
  get fd(): number {
    return this.#link === null ? -1 : getLibbpf().bpf_link__fd(this.#link);
  }

  /** Detaches and frees the link, off the main thread (a tracepoint link costs 55-80 ms of
   * kernel time); idempotent. */
  async closeAsync(): Promise<void> {
    const link = this.#take();
    if (link !== null) await getLibbpf().bpf_link__destroy_async(link);
  }

  /** Detaches and frees the link on this thread; idempotent. */
  close(): void {
    const link = this.#take();
    if (link !== null) getLibbpf().bpf_link__destroy(link);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #take(): Deno.PointerObject | null {
    const link = this.#link;
    this.#link = null;
    return link;
  }
}
