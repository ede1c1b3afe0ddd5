/**
 * What a guest may do, beyond what the kernel allows the host process. Opt-in: the default
 * policy allows everything, which is what upstream runtimes do.
 */

export interface GuestPolicy {
  /** Program types (libbpf names, e.g. "tracepoint") a loaded object may contain. */
  allowProgramTypes?: ReadonlySet<string>;
  /** When false, map updates and deletes from the guest fail with -EPERM. */
  allowMapWrite?: boolean;
  /** The most BPF objects a guest may have loaded at once. */
  maxObjects?: number;
}
