/** Can this process load BPF programs? Checked before a guest runs, so that a missing
 * privilege is one clear line instead of an EPERM from deep inside a load. */

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** The effective capability set of this process, or undefined when it cannot be read. */
export function effectiveCapabilities(): bigint | undefined {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const hex = status.match(/^CapEff:\s*([0-9a-f]+)$/m)?.[1];
    return hex === undefined ? undefined : BigInt(`0x${hex}`);
  } catch {
    return undefined;
  }
}

/** undefined when the process may load and attach BPF programs, else what to do about it. */
export function missingBpfPrivilege(): string | undefined {
  const caps = effectiveCapabilities();
  if (caps === undefined) return undefined; // cannot tell: let the kernel decide
  const has = (bit: bigint) => (caps >> bit) & 1n;
  if (has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))) return undefined;
  return "loading BPF programs needs root (or CAP_BPF and CAP_PERFMON): run it with sudo, " +
    "or grant the capabilities: sudo setcap cap_bpf,cap_perfmon+ep <the wasm-bpf binary>";
}
